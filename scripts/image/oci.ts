// Building OCI images without a container engine, and pushing them to the local registry: layers are
// deterministic tar files (GNU tar: sorted, owner 0:0, mtime 0), an image is an OCI image layout
// directory (image-spec image-layout.md), a push is the distribution-spec's monolithic blob upload.
// Used for the real node's sandbox image, the modelgate image (modelgate-image.ts) and test model images.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

export const MEDIA = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
  empty: 'application/vnd.oci.empty.v1+json',
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** The runtime part of an image config (image-spec config.md, "config"). */
export interface ImageRuntimeConfig {
  User?: string;
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  Labels?: Record<string, string>;
}

export interface ImageConfig {
  architecture: string;
  os: string;
  config: ImageRuntimeConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export const sha256 = (data: Buffer | string): string =>
  `sha256:${createHash('sha256').update(data).digest('hex')}`;

async function fileDigest(path: string): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

/**
 * Tars the contents of `dir` into `out`, reproducibly: entries sorted, numeric owner 0:0 (or the files'
 * own owners with keepOwners), mtime 0, no atime/ctime, POSIX format. File modes are taken from the
 * files (set them in the staging directory).
 */
export function createLayerTar(dir: string, out: string, options: { keepOwners?: boolean } = {}): void {
  const result = spawnSync(
    'tar',
    [
      '--sort=name',
      ...(options.keepOwners ? [] : ['--owner=0', '--group=0']),
      '--numeric-owner',
      '--mtime=@0',
      '--format=posix',
      '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
      '-C',
      dir,
      '-cf',
      out,
      '.',
    ],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`tar of ${dir} failed: ${result.stderr.trim()}`);
}

async function putBlob(layout: string, data: Buffer): Promise<Descriptor & { digest: string }> {
  const digest = sha256(data);
  await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(layout, 'blobs', 'sha256', digest.slice(7)), data);
  return { mediaType: '', digest, size: data.length };
}

/** Moves a layer tar into the layout's blobs; returns its descriptor (uncompressed: digest = diff id). */
async function putLayerFile(layout: string, tarPath: string): Promise<Descriptor> {
  const { digest, size } = await fileDigest(tarPath);
  await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
  await rename(tarPath, join(layout, 'blobs', 'sha256', digest.slice(7)));
  return { mediaType: MEDIA.layer, digest, size };
}

/**
 * Writes an OCI image layout in `layout` (created fresh) from layer tar files (moved into it) and a
 * runtime config. Returns the manifest's digest. linux/amd64: containerd drops images without a
 * platform when it unpacks them.
 */
export async function writeImageLayout(
  layout: string,
  layerTars: string[],
  runtime: ImageRuntimeConfig,
  annotations: Record<string, string> = {},
): Promise<{ digest: string; manifest: ImageManifest; config: ImageConfig }> {
  await rm(layout, { recursive: true, force: true });
  await mkdir(layout, { recursive: true });
  const layers: Descriptor[] = [];
  for (const tar of layerTars) layers.push(await putLayerFile(layout, tar));
  const config: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    config: runtime,
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
  };
  const configBlob = await putBlob(layout, Buffer.from(JSON.stringify(config)));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config: { mediaType: MEDIA.config, digest: configBlob.digest, size: configBlob.size },
    layers,
    ...(Object.keys(annotations).length ? { annotations } : {}),
  };
  const manifestBlob = await putBlob(layout, Buffer.from(JSON.stringify(manifest)));
  await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.index,
      manifests: [{ mediaType: MEDIA.manifest, digest: manifestBlob.digest, size: manifestBlob.size }],
    }),
  );
  return { digest: manifestBlob.digest, manifest, config };
}

/** The single image manifest of a layout written by writeImageLayout. */
export async function readLayout(
  layout: string,
): Promise<{ digest: string; manifest: ImageManifest; config: ImageConfig }> {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  const entry = index.manifests[0];
  if (!entry || index.manifests.length !== 1)
    throw new Error(`${layout}: expected one manifest in index.json`);
  const blob = (d: string) => join(layout, 'blobs', 'sha256', d.slice(7));
  const manifest = JSON.parse(await readFile(blob(entry.digest), 'utf8')) as ImageManifest;
  const config = JSON.parse(await readFile(blob(manifest.config.digest), 'utf8')) as ImageConfig;
  return { digest: entry.digest, manifest, config };
}

// ---------- pushing (distribution-spec, plain HTTP to the run's own registry) ----------

function url(registry: string, path: string): string {
  return `http://${registry}/v2/${path}`;
}

async function check(res: Response, what: string): Promise<Response> {
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${(await res.text()).slice(0, 500)}`);
  return res;
}

/** Uploads one blob (from a file or bytes) unless the registry has it: POST, then one PUT with the body. */
export async function pushBlob(
  registry: string,
  repository: string,
  blob: { path: string } | { data: Buffer },
  known?: { digest: string; size: number },
): Promise<{ digest: string; size: number }> {
  const { digest, size } =
    known ??
    ('path' in blob ? await fileDigest(blob.path) : { digest: sha256(blob.data), size: blob.data.length });
  const head = await fetch(url(registry, `${repository}/blobs/${digest}`), { method: 'HEAD' });
  if (head.ok) return { digest, size };
  const start = await check(
    await fetch(url(registry, `${repository}/blobs/uploads/`), { method: 'POST' }),
    `starting the upload of ${digest} to ${registry}/${repository}`,
  );
  const location = start.headers.get('location');
  if (!location) throw new Error(`${registry} gave no upload location for ${repository}`);
  const target = new URL(location, `http://${registry}`);
  target.searchParams.set('digest', digest);
  const body =
    'path' in blob ? (Readable.toWeb(createReadStream(blob.path)) as ReadableStream<Uint8Array>) : blob.data;
  await check(
    await fetch(target, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body,
      duplex: 'half',
    } as RequestInit),
    `uploading ${digest} to ${registry}/${repository}`,
  );
  return { digest, size };
}

/** Puts a manifest under a tag or its digest; returns its digest. */
export async function pushManifest(
  registry: string,
  repository: string,
  reference: string,
  body: Buffer,
  mediaType: string = MEDIA.manifest,
): Promise<string> {
  await check(
    await fetch(url(registry, `${repository}/manifests/${reference}`), {
      method: 'PUT',
      headers: { 'content-type': mediaType },
      body,
    }),
    `putting manifest ${reference} into ${registry}/${repository}`,
  );
  return sha256(body);
}

/** Pushes the image of an OCI layout to `registry/repository` (and the tag, if given); returns the
 *  manifest digest. */
export async function pushLayout(
  layout: string,
  registry: string,
  repository: string,
  tag?: string,
): Promise<string> {
  const { digest, manifest } = await readLayout(layout);
  const blob = (d: string) => join(layout, 'blobs', 'sha256', d.slice(7));
  for (const d of [manifest.config, ...manifest.layers]) {
    await pushBlob(registry, repository, { path: blob(d.digest) }, { digest: d.digest, size: d.size });
  }
  const body = await readFile(blob(digest));
  await pushManifest(registry, repository, digest, body, manifest.mediaType);
  if (tag) await pushManifest(registry, repository, tag, body, manifest.mediaType);
  return digest;
}

/**
 * Pushes the contents of `dir` as a one-layer image (the files at the image root: mounted as an image
 * volume, they appear at the volume's mount path). Returns `<registry>/<repository>@sha256:...`.
 */
export async function pushDirectoryImage(
  dir: string,
  registry: string,
  repository: string,
  tag?: string,
  annotations: Record<string, string> = {},
): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'modelgate-image-'));
  try {
    const tar = join(work, 'layer.tar');
    createLayerTar(dir, tar);
    await writeImageLayout(join(work, 'layout'), [tar], {}, annotations);
    const digest = await pushLayout(join(work, 'layout'), registry, repository, tag);
    return `${registry}/${repository}@${digest}`;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
