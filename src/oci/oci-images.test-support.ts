// Builders for OCI model images and artifacts in the fake registry: a runnable image (image config with
// diff_ids, tar or gzip layers), a ModelPack artifact (raw layers), and a signature attached the way
// `modelgate sign --oci-manifest --attach` does.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { buildTar } from '../scanning/testing.test-support.ts';
import { ociManifestResources, signOciManifest } from './signed-manifest.ts';
import type { Signer } from '../signing/sign.ts';
import { attachBundle } from './attach.ts';
import {
  evidenceObject,
  resourcesDigest,
  type ManifestFacts,
  type OciEvidenceRecord,
  type ScanFacts,
} from './evidence.ts';
import type { FakeRegistry } from './fake-registry.test-support.ts';
import { parseImageManifest } from './manifest.ts';
import { MODELPACK_ARTIFACT, MODELPACK_CONFIG, OCI_IMAGE_CONFIG, OCI_MANIFEST } from './media-types.ts';
import { parseImageRef, type RepositoryRef } from './reference.ts';
import type { RegistryClient } from './registry.ts';

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A valid safetensors file of `n` float32 zeros. */
export function safetensors(n = 4): Uint8Array {
  let header = JSON.stringify({ w: { dtype: 'F32', shape: [n], data_offsets: [0, 4 * n] } });
  header += ' '.repeat((8 - (header.length % 8)) % 8);
  const out = new Uint8Array(8 + header.length + 4 * n);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(new TextEncoder().encode(header), 8);
  return out;
}

export interface PushedManifest {
  digest: string;
  size: number;
  bytes: Uint8Array;
  repo: RepositoryRef;
}

export interface ImageFile {
  name: string;
  data: Uint8Array | string;
  type?: string;
  linkName?: string;
}

/** A runnable image of one layer holding `files` (gzip by default). */
export function pushImage(
  reg: FakeRegistry,
  repository: string,
  files: ImageFile[],
  opts: { gzip?: boolean; tag?: string; mediaType?: string } = {},
): PushedManifest {
  const tar = buildTar(files);
  const layer = opts.gzip === false ? tar : gzipSync(tar);
  const config = enc({
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [sha(tar)] },
  });
  reg.putBlob(config);
  reg.putBlob(layer);
  const bytes = enc({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_IMAGE_CONFIG, digest: sha(config), size: config.length },
    layers: [
      {
        mediaType:
          opts.mediaType ?? `application/vnd.oci.image.layer.v1.tar${opts.gzip === false ? '' : '+gzip'}`,
        digest: sha(layer),
        size: layer.length,
      },
    ],
  });
  const digest = reg.putManifest(repository, bytes, OCI_MANIFEST, opts.tag);
  return { digest, size: bytes.length, bytes, repo: parseImageRef(`${reg.host}/${repository}`) };
}

/** A ModelPack artifact: one raw layer per file, named by org.cncf.model.filepath. */
export function pushModelPack(
  reg: FakeRegistry,
  repository: string,
  files: { name: string; data: Uint8Array | string }[],
  format = 'safetensors',
): PushedManifest {
  const config = enc({
    descriptor: { name: 'm' },
    config: { format },
    modelfs: { type: 'layers', diffIds: [] },
  });
  reg.putBlob(config);
  const layers = files.map((f) => {
    const data = typeof f.data === 'string' ? new TextEncoder().encode(f.data) : f.data;
    reg.putBlob(data);
    return {
      mediaType: 'application/vnd.cncf.model.weight.v1.raw',
      digest: sha(data),
      size: data.length,
      annotations: { 'org.cncf.model.filepath': f.name },
    };
  });
  const bytes = enc({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: MODELPACK_ARTIFACT,
    config: { mediaType: MODELPACK_CONFIG, digest: sha(config), size: config.length },
    layers,
  });
  const digest = reg.putManifest(repository, bytes, OCI_MANIFEST);
  return { digest, size: bytes.length, bytes, repo: parseImageRef(`${reg.host}/${repository}`) };
}

/** Signs the manifest in model-signing OCI mode and attaches the bundle as a referrer. */
export async function signAndAttach(
  client: RegistryClient,
  m: PushedManifest,
  signer: Signer,
): Promise<Uint8Array> {
  const signed = signOciManifest(m.bytes, signer, 'model');
  await attachBundle(
    client,
    m.repo,
    { mediaType: OCI_MANIFEST, digest: m.digest, size: m.size },
    signed.bundle,
  );
  return signed.bundle;
}

/** The ConfigMap the controller writes for a record (what webhooks and `modelgate check --cluster` read). */
export function evidenceConfigMap(
  record: OciEvidenceRecord,
  namespace = 'modelgate-system',
): Record<string, unknown> {
  return evidenceObject(record, namespace);
}

/** A clean, complete scan of one safetensors file. */
export const CLEAN_SCAN: ScanFacts = {
  status: 'complete',
  files: 1,
  bytes: 100,
  formats: { safetensors: 'layer_000.tar.gz!model/model.safetensors' },
  problems: [],
};

/**
 * A record for a runnable image manifest (built from `manifestBytes`, not fetched), with `bundles` as
 * the signatures found and `scan` as the controller's scan.
 */
export function recordFor(
  manifestBytes: Uint8Array,
  bundles: Uint8Array[],
  opts: {
    scan?: ScanFacts;
    shape?: 'runnable-image' | 'artifact';
    repository?: string;
    declared?: ManifestFacts['declared'];
  } = {},
): OciEvidenceRecord {
  const m = parseImageManifest(manifestBytes);
  const sets = ociManifestResources(m);
  return {
    version: 1,
    digest: sha(manifestBytes),
    repository: opts.repository ?? 'registry.example.com/models/llama',
    checkedAt: 1,
    resolvedAt: 1,
    manifest: {
      configMediaType: m.config.mediaType,
      family: 'oci-image',
      shape: opts.shape ?? 'runnable-image',
      shapeReason:
        opts.shape === 'artifact'
          ? 'its config is application/vnd.cncf.model.config.v1+json, not an image config'
          : '',
      layers: m.layers.length,
      bytes: 1,
      declared: opts.declared ?? [],
      resourceSets: sets.map((s) => ({
        naming: s.naming,
        rootDigest: s.rootDigest,
        resourcesDigest: resourcesDigest(s.resources),
      })),
    },
    signatures: { api: 'referrers', examined: bundles.length, skipped: [], bundles },
    ...(opts.scan ? { scan: opts.scan } : {}),
  };
}

/** A runnable image manifest (not pushed anywhere) with one titled layer per name. */
export function imageManifestBytes(...layerNames: string[]): Uint8Array {
  return enc({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_IMAGE_CONFIG, digest: `sha256:${'c'.repeat(64)}`, size: 10 },
    layers: layerNames.map((n, i) => ({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: `sha256:${createHash('sha256').update(`${n}${i}`).digest('hex')}`,
      size: 10,
      annotations: { 'org.opencontainers.image.title': n },
    })),
  });
}
