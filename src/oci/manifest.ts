// OCI manifests and indexes parsed from untrusted bytes (a registry, a file, a referrer), with every
// field checked and every size bounded. Pure. A manifest is identified by the SHA-256 of its exact bytes:
// `digestOf` is what a pinned reference is compared with before anything in it is believed.
import { createHash } from 'node:crypto';
import { isObj, type JsonObject } from '../json/shape.ts';
import {
  classifyLayer,
  isImageConfig,
  isImageManifestType,
  isIndexType,
  manifestFamily,
  MODELPACK_FILEPATH_ANNOTATION,
  MODELPACK_LEGACY_FILEPATH_ANNOTATION,
  TITLE_ANNOTATION,
  type ManifestFamily,
} from './media-types.ts';

/** Registries must accept manifests up to 4 MiB (distribution-spec "Pushing Manifests"); nothing larger is read. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** A model is at most this many layers (a 70B checkpoint in one-file layers is a few hundred). */
export const MAX_LAYERS = 2048;
/** Entries read from an index (referrers lists included); the rest are ignored and counted. */
export const MAX_INDEX_ENTRIES = 1024;

const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;
const ANY_DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export class OciFormatError extends Error {}

export const isSha256Digest = (d: unknown): d is string => typeof d === 'string' && SHA256_DIGEST.test(d);

/** `sha256:<hex>` of exact bytes: what the registry and the runtime compare a pinned digest with. */
export const digestOf = (bytes: Uint8Array): string =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations: Record<string, string>;
  artifactType?: string;
  platform?: { os?: string; architecture?: string };
}

export interface ImageManifest {
  kind: 'manifest';
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations: Record<string, string>;
}

export interface ImageIndex {
  kind: 'index';
  mediaType?: string;
  manifests: Descriptor[];
  /** Entries beyond MAX_INDEX_ENTRIES, not read. */
  omitted: number;
  annotations: Record<string, string>;
}

export type OciDocument = ImageManifest | ImageIndex;

function stringMap(v: unknown, where: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) throw new OciFormatError(`${where} is not an object`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') throw new OciFormatError(`${where}["${k}"] is not a string`);
    out[k] = x;
  }
  return out;
}

/**
 * A descriptor. `sha256Only`: digests modelgate must recompute or compare with signed SHA-256 digests
 * (config, layers) may only be SHA-256; digests it only passes on (index entries) may be any registered
 * algorithm.
 */
function descriptor(v: unknown, where: string, sha256Only: boolean): Descriptor {
  if (!isObj(v)) throw new OciFormatError(`${where} is not an object`);
  const { mediaType, digest, size } = v;
  if (typeof mediaType !== 'string' || mediaType === '')
    throw new OciFormatError(`${where}.mediaType is missing`);
  if (typeof digest !== 'string' || !(sha256Only ? SHA256_DIGEST : ANY_DIGEST).test(digest))
    throw new OciFormatError(
      `${where}.digest ${JSON.stringify(digest)} is not ${sha256Only ? 'sha256:<64 lower-case hex>' : 'a digest'}${sha256Only && typeof digest === 'string' && digest.startsWith('sha512:') ? ' (modelgate reads SHA-256 content digests only)' : ''}`,
    );
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    throw new OciFormatError(`${where}.size is not a whole number of bytes`);
  const out: Descriptor = {
    mediaType,
    digest,
    size,
    annotations: stringMap(v.annotations, `${where}.annotations`),
  };
  if (typeof v.artifactType === 'string') out.artifactType = v.artifactType;
  if (isObj(v.platform)) {
    const p: { os?: string; architecture?: string } = {};
    if (typeof v.platform.os === 'string') p.os = v.platform.os;
    if (typeof v.platform.architecture === 'string') p.architecture = v.platform.architecture;
    out.platform = p;
  }
  return out;
}

function parseJson(bytes: Uint8Array, what: string): JsonObject {
  if (bytes.length > MAX_MANIFEST_BYTES)
    throw new OciFormatError(`${what} is ${bytes.length} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new OciFormatError(`${what} is not UTF-8 JSON: ${(err as Error).message}`);
  }
  if (!isObj(json)) throw new OciFormatError(`${what} is not a JSON object`);
  return json;
}

/**
 * An image manifest or an index. `contentType` is the registry's Content-Type, used only when the
 * document does not name its own media type (the document wins when both are present and agree).
 */
export function parseOciDocument(bytes: Uint8Array, contentType?: string): OciDocument {
  const json = parseJson(bytes, 'the manifest');
  if (json.schemaVersion !== 2)
    throw new OciFormatError(`schemaVersion is ${JSON.stringify(json.schemaVersion)}, not 2`);
  const declared = typeof json.mediaType === 'string' ? json.mediaType : undefined;
  const type = declared ?? contentType?.split(';')[0]?.trim();
  if (declared && contentType && !contentType.startsWith(declared))
    throw new OciFormatError(
      `the document says it is ${declared} but the registry served it as ${contentType}`,
    );
  const annotations = stringMap(json.annotations, 'annotations');
  const isIndex = isIndexType(type) || (type === undefined && Array.isArray(json.manifests));
  if (isIndex) {
    if (!Array.isArray(json.manifests)) throw new OciFormatError('manifests is missing from the index');
    if (json.layers !== undefined || json.config !== undefined)
      throw new OciFormatError('the index also has config or layers: ambiguous document');
    const entries = json.manifests.slice(0, MAX_INDEX_ENTRIES);
    return {
      kind: 'index',
      ...(declared ? { mediaType: declared } : {}),
      manifests: entries.map((d, i) => descriptor(d, `manifests[${i}]`, false)),
      omitted: json.manifests.length - entries.length,
      annotations,
    };
  }
  if (type !== undefined && !isImageManifestType(type))
    throw new OciFormatError(`media type ${type} is neither an image manifest nor an index`);
  if (json.manifests !== undefined)
    throw new OciFormatError('the manifest also has a manifests list: ambiguous document');
  if (!Array.isArray(json.layers)) throw new OciFormatError('layers is missing or not a list');
  if (json.layers.length > MAX_LAYERS)
    throw new OciFormatError(
      `the manifest has ${json.layers.length} layers, over the limit of ${MAX_LAYERS}`,
    );
  const manifest: ImageManifest = {
    kind: 'manifest',
    ...(declared ? { mediaType: declared } : {}),
    config: descriptor(json.config, 'config', true),
    layers: json.layers.map((d, i) => descriptor(d, `layers[${i}]`, true)),
    annotations,
  };
  if (typeof json.artifactType === 'string') manifest.artifactType = json.artifactType;
  if (json.subject !== undefined) manifest.subject = descriptor(json.subject, 'subject', false);
  return manifest;
}

/** An image manifest, or an error saying what else the bytes are. */
export function parseImageManifest(bytes: Uint8Array, contentType?: string): ImageManifest {
  const doc = parseOciDocument(bytes, contentType);
  if (doc.kind === 'index')
    throw new OciFormatError(
      'this digest is an image index (a list of per-platform manifests), not one manifest: pin the digest of the platform manifest the model is in',
    );
  return doc;
}

/** How a layer is named as a file: the model-signing Go CLI's rule, or modelgate's (which adds ModelPack's path). */
export type LayerNaming = 'model-signing' | 'modelgate';

/** The resource name model-signing's OCI mode gives the config blob. */
export const CONFIG_RESOURCE_NAME = 'config.json';

/** The layer's file path annotation: ModelPack's (current, then legacy), when present and not empty. */
export function layerFilePath(d: Descriptor): string | undefined {
  return (
    nonEmpty(d.annotations[MODELPACK_FILEPATH_ANNOTATION]) ??
    nonEmpty(d.annotations[MODELPACK_LEGACY_FILEPATH_ANNOTATION])
  );
}

const nonEmpty = (s: string | undefined) => (s === undefined || s === '' ? undefined : s);

/**
 * The name of layer `index`: its `org.opencontainers.image.title`, then (modelgate only) its ModelPack
 * file path, else `layer_NNN.tar.gz` as the Go CLI writes it (pkg/oci/manifest.go).
 */
export function layerName(d: Descriptor, index: number, naming: LayerNaming): string {
  const title = nonEmpty(d.annotations[TITLE_ANNOTATION]);
  if (title !== undefined) return title;
  if (naming === 'modelgate') {
    const path = layerFilePath(d);
    if (path !== undefined) return path;
  }
  return `layer_${String(index).padStart(3, '0')}.tar.gz`;
}

/** What the runtime does with a manifest used as an image volume or container image. */
export type DeliveryShape = 'runnable-image' | 'artifact';

export interface ShapeVerdict {
  shape: DeliveryShape;
  /** Why it is an artifact (for messages); empty for runnable images. */
  reason: string;
}

/**
 * Whether a container runtime unpacks this manifest into files. Measured on containerd 2.4 (see
 * docs/architecture.md): only an image config whose `rootfs.diff_ids` match tar layers gives files;
 * anything else (a ModelPack config, an empty config, `.raw` layers) mounts an EMPTY directory with no
 * error. `config` is the parsed config blob when it was fetched.
 */
export function deliveryShape(m: ImageManifest, config?: unknown): ShapeVerdict {
  if (!isImageConfig(m.config.mediaType))
    return {
      shape: 'artifact',
      reason: `its config is ${m.config.mediaType}, not an image config (${manifestFamily(m.config.mediaType, m.artifactType)} artifact)`,
    };
  const raw = m.layers.findIndex((l) => classifyLayer(l.mediaType).packing === 'raw');
  if (raw >= 0)
    return { shape: 'artifact', reason: `layer ${raw} is an unarchived file (${m.layers[raw]!.mediaType})` };
  if (config !== undefined) {
    const rootfs = isObj(config) && isObj(config.rootfs) ? config.rootfs : undefined;
    const diffIds = rootfs && Array.isArray(rootfs.diff_ids) ? rootfs.diff_ids : undefined;
    if (!diffIds)
      return {
        shape: 'artifact',
        reason: 'its image config has no rootfs.diff_ids, so no layer can be unpacked',
      };
    if (diffIds.length !== m.layers.length)
      return {
        shape: 'artifact',
        reason: `its image config lists ${diffIds.length} layer diff_ids for ${m.layers.length} layers`,
      };
  }
  return { shape: 'runnable-image', reason: '' };
}

export { manifestFamily, type ManifestFamily };
