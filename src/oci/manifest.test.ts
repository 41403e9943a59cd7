import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  deliveryShape,
  digestOf,
  layerName,
  MAX_LAYERS,
  MAX_MANIFEST_BYTES,
  OciFormatError,
  parseImageManifest,
  parseOciDocument,
  type ImageManifest,
} from './manifest.ts';
import { classifyLayer, manifestFamily, OCI_EMPTY_BYTES, OCI_EMPTY_DIGEST } from './media-types.ts';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/oci');
const fixture = (f: string) => new Uint8Array(readFileSync(join(FIXTURES, f)));
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const D = (c: string) => `sha256:${c.repeat(64)}`;
const layer = (c: string, extra: Record<string, unknown> = {}) => ({
  mediaType: 'application/vnd.oci.image.layer.v1.tar',
  digest: D(c),
  size: 1,
  ...extra,
});
const manifest = (over: Record<string, unknown> = {}) => ({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D('a'), size: 2 },
  layers: [layer('b')],
  ...over,
});

describe('parseOciDocument', () => {
  it('reads the fixtures', () => {
    const m = parseImageManifest(fixture('image-manifest.json'));
    expect(m.layers).toHaveLength(3);
    expect(m.layers[0]!.annotations['org.opencontainers.image.title']).toBe('model.safetensors');
    const mp = parseImageManifest(fixture('modelpack-manifest.json'));
    expect(mp.artifactType).toBe('application/vnd.cncf.model.manifest.v1+json');
    expect(manifestFamily(mp.config.mediaType, mp.artifactType)).toBe('modelpack');
  });

  it('the empty blob digest is the digest of "{}"', () => {
    expect(digestOf(OCI_EMPTY_BYTES)).toBe(OCI_EMPTY_DIGEST);
  });

  it('reads an index', () => {
    const doc = parseOciDocument(
      enc({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: D('c'),
            size: 3,
            artifactType: 'x',
          },
        ],
      }),
    );
    expect(doc.kind).toBe('index');
    if (doc.kind === 'index') expect(doc.manifests[0]!.artifactType).toBe('x');
  });

  it.each([
    ['schemaVersion 1', manifest({ schemaVersion: 1 }), /schemaVersion/],
    [
      'a sha512 layer',
      manifest({ layers: [{ ...layer('b'), digest: `sha512:${'b'.repeat(128)}` }] }),
      /SHA-256 content digests only/,
    ],
    ['an upper-case digest', manifest({ layers: [{ ...layer('b'), digest: D('B') }] }), /digest/],
    ['a negative size', manifest({ layers: [layer('b', { size: -1 })] }), /size/],
    ['a fractional size', manifest({ layers: [layer('b', { size: 1.5 })] }), /size/],
    ['a non-string annotation', manifest({ layers: [layer('b', { annotations: { a: 1 } })] }), /annotations/],
    ['no layers list', manifest({ layers: undefined }), /layers/],
    ['both layers and manifests', manifest({ manifests: [] }), /ambiguous/],
    ['an unknown media type', manifest({ mediaType: 'text/plain' }), /neither/],
    ['a missing config', manifest({ config: undefined }), /config/],
  ])('refuses %s', (_, doc, why) => {
    expect(() => parseOciDocument(enc(doc))).toThrow(why);
  });

  it('refuses documents that are not UTF-8 JSON objects, or too large', () => {
    expect(() => parseOciDocument(new Uint8Array([0xff, 0xfe]))).toThrow(OciFormatError);
    expect(() => parseOciDocument(enc([1]))).toThrow(/not a JSON object/);
    expect(() => parseOciDocument(new Uint8Array(MAX_MANIFEST_BYTES + 1))).toThrow(/limit/);
    const many = manifest({ layers: Array.from({ length: MAX_LAYERS + 1 }, () => layer('b')) });
    expect(() => parseOciDocument(enc(many))).toThrow(/over the limit/);
  });

  it('refuses a registry Content-Type that contradicts the document', () => {
    expect(() => parseOciDocument(enc(manifest()), 'application/vnd.oci.image.index.v1+json')).toThrow(
      /served it as/,
    );
    expect(
      parseOciDocument(enc(manifest({ mediaType: undefined })), 'application/vnd.oci.image.manifest.v1+json')
        .kind,
    ).toBe('manifest');
  });

  it('an index pinned where a manifest is needed is refused with the fix', () => {
    const idx = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] };
    expect(() => parseImageManifest(enc(idx))).toThrow(/platform manifest/);
  });

  it('never throws anything but OciFormatError on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        try {
          parseOciDocument(enc(v));
        } catch (err) {
          expect(err).toBeInstanceOf(OciFormatError);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('layer names', () => {
  const m = parseImageManifest(fixture('modelpack-manifest.json'));
  it('title, then ModelPack path (modelgate only), then layer_NNN.tar.gz', () => {
    expect(m.layers.map((l, i) => layerName(l, i, 'modelgate'))).toEqual([
      'weights/model-00001-of-00002.safetensors',
      'weights/model-00002-of-00002.safetensors',
      'tokenizer.json',
    ]);
    expect(m.layers.map((l, i) => layerName(l, i, 'model-signing'))).toEqual([
      'layer_000.tar.gz',
      'weights/model-00002-of-00002.safetensors',
      'layer_002.tar.gz',
    ]);
  });
  it('an empty title counts as none; indexes past 999 keep all digits', () => {
    const l = {
      mediaType: 'x',
      digest: D('a'),
      size: 1,
      annotations: { 'org.opencontainers.image.title': '' },
    };
    expect(layerName(l, 1234, 'model-signing')).toBe('layer_1234.tar.gz');
  });
});

describe('deliveryShape (what containerd 2.4 mounts as an image volume)', () => {
  const parsed = (o: Record<string, unknown>): ImageManifest => parseImageManifest(enc(manifest(o)));
  it('an image config with matching tar layers is a runnable image', () => {
    expect(deliveryShape(parsed({}), { rootfs: { type: 'layers', diff_ids: [D('c')] } }).shape).toBe(
      'runnable-image',
    );
    // ModelPack tar layer media types under an image config mount too (measured).
    const mp = parsed({ layers: [{ ...layer('b'), mediaType: 'application/vnd.cncf.model.weight.v1.tar' }] });
    expect(deliveryShape(mp, { rootfs: { diff_ids: [D('c')] } }).shape).toBe('runnable-image');
  });
  it.each([
    [
      'a ModelPack config',
      { config: { mediaType: 'application/vnd.cncf.model.config.v1+json', digest: D('a'), size: 2 } },
      undefined,
      /ModelPack|modelpack/,
    ],
    [
      'an empty (ORAS) config',
      { config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: D('a'), size: 2 } },
      undefined,
      /artifact/,
    ],
    [
      'a raw layer',
      { layers: [{ ...layer('b'), mediaType: 'application/vnd.cncf.model.weight.v1.raw' }] },
      undefined,
      /unarchived/,
    ],
    ['diff_ids that do not match', {}, { rootfs: { diff_ids: [] } }, /0 layer diff_ids for 1 layers/],
    ['no diff_ids', {}, { architecture: 'amd64' }, /no rootfs.diff_ids/],
  ])('%s is an artifact (mounts empty)', (_, o, config, why) => {
    const v = deliveryShape(parsed(o), config);
    expect(v.shape).toBe('artifact');
    expect(v.reason).toMatch(why);
  });
});

describe('classifyLayer', () => {
  it.each([
    ['application/vnd.cncf.model.weight.v1.raw', 'modelpack', 'weight', 'raw'],
    ['application/vnd.cncf.model.weight.config.v1.tar+gzip', 'modelpack', 'weight.config', 'tar+gzip'],
    ['application/vnd.cnai.model.doc.v1.tar+zstd', 'modelpack-legacy', 'doc', 'tar+zstd'],
    ['application/vnd.kitops.modelkit.modelpart.v1.tar+gzip', 'kitops', 'modelpart', 'tar+gzip'],
    ['application/vnd.oci.image.layer.v1.tar', 'oci-image', undefined, 'tar'],
    ['application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', 'oci-image', undefined, 'tar+gzip'],
    ['application/vnd.docker.image.rootfs.diff.tar.gzip', 'docker-image', undefined, 'tar+gzip'],
    ['application/octet-stream', 'other', undefined, 'unknown'],
    ['application/vnd.cncf.model.weight.v1.raw+evil', 'other', undefined, 'unknown'],
  ])('%s', (mt, family, role, packing) => {
    expect(classifyLayer(mt)).toEqual({ family, packing, ...(role ? { role } : {}) });
  });
});
