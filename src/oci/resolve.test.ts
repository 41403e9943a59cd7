import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dataClassPickle, reducePickle } from '../scanning/testing.test-support.ts';
import { loadSigner } from '../signing/sign.ts';
import type { TrustMaterial } from '../signing/trust.ts';
import { VerdictCache } from '../signing/cache.ts';
import { parseEvidence, serializeEvidence } from './evidence.ts';
import { FakeRegistry } from './fake-registry.test-support.ts';
import { pushImage, pushModelPack, safetensors, signAndAttach } from './oci-images.test-support.ts';
import { RegistryClient, RegistryError } from './registry.ts';
import { resolveEvidence, type ResolveOptions } from './resolve.ts';

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    signer: loadSigner(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
    trust: {
      method: 'key',
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    } as TrustMaterial,
  };
}
const release = keyPair();
const stranger = keyPair();
const registries: FakeRegistry[] = [];
afterEach(async () => {
  await Promise.all(registries.splice(0).map((r) => r.stop()));
});

const scratch = mkdtempSync(join(tmpdir(), 'mg-resolve-'));

async function setup(referrers: 'spec' | 'none' = 'spec') {
  const reg = await new FakeRegistry({ referrers }).start();
  registries.push(reg);
  const client = new RegistryClient({ insecureHosts: new Set([reg.host]) });
  const verdicts = new VerdictCache();
  const opts: ResolveOptions = {
    client,
    trust: [release.trust],
    verify: (b, t) => verdicts.verify(b, t),
    now: () => 1_000,
    scan: { scratchDir: scratch },
  };
  return { reg, client, opts };
}

const MODEL = [
  { name: 'model/config.json', data: '{"architectures":["X"]}' },
  { name: 'model/model.safetensors', data: safetensors(16) },
];

describe('resolveEvidence', () => {
  it('a signed runnable image: manifest facts, the covering bundle, a complete clean scan; the record round-trips', async () => {
    const { reg, client, opts } = await setup();
    const img = pushImage(reg, 'models/llama', MODEL);
    await signAndAttach(client, img, release.signer);
    const r = await resolveEvidence(img.repo, img.digest, opts);
    expect(r.error).toBeUndefined();
    expect(r.manifest).toMatchObject({ shape: 'runnable-image', family: 'oci-image', layers: 1 });
    expect(r.manifest!.resourceSets).toHaveLength(1);
    expect(r.signatures!.bundles).toHaveLength(1);
    expect(r.scan).toMatchObject({ status: 'complete', files: 2, problems: [] });
    expect(r.scan!.formats.safetensors).toBe('layer_000.tar.gz!model/model.safetensors');
    expect(parseEvidence(serializeEvidence(r))).toEqual(r);
    expect(readdirSync(scratch)).toEqual([]); // scratch files are removed
  });

  it('an unsigned image: no bundle, no scan (nothing to admit it with)', async () => {
    const { reg, opts } = await setup();
    const img = pushImage(reg, 'models/llama', MODEL);
    const r = await resolveEvidence(img.repo, img.digest, opts);
    expect(r.signatures!.bundles).toEqual([]);
    expect(r.scan).toBeUndefined();
  });

  it("a stranger's signature is kept (another policy may trust it) but triggers no scan", async () => {
    const { reg, client, opts } = await setup();
    const img = pushImage(reg, 'models/llama', MODEL);
    await signAndAttach(client, img, stranger.signer);
    const r = await resolveEvidence(img.repo, img.digest, opts);
    expect(r.signatures!.bundles).toHaveLength(1);
    expect(r.scan).toBeUndefined();
  });

  it('re-pushed with a changed layer: the old signature attached to the new digest does not cover it', async () => {
    const { reg, client, opts } = await setup('none');
    const v1 = pushImage(reg, 'models/llama', MODEL, { tag: 'v1' });
    const bundle = await signAndAttach(client, v1, release.signer);
    const v2 = pushImage(reg, 'models/llama', [...MODEL, { name: 'model/extra.bin', data: 'x' }], {
      tag: 'v1',
    });
    const { attachBundle } = await import('./attach.ts');
    await attachBundle(
      client,
      v2.repo,
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: v2.digest, size: v2.size },
      bundle,
    );
    const r = await resolveEvidence(v2.repo, v2.digest, opts);
    expect(r.signatures!.bundles).toEqual([]);
    expect(r.signatures!.skipped.join()).toMatch(/different digest for config.json, layer_000.tar.gz/);
    expect(r.scan).toBeUndefined();
  });

  it('finds code in a signed image, and refuses unsafe tar entries', async () => {
    const { reg, client, opts } = await setup();
    const img = pushImage(
      reg,
      'models/evil',
      [
        { name: 'model/model.pkl', data: reducePickle('os', 'system') },
        { name: '../escape.txt', data: 'x' },
        { name: 'model/link', data: '', type: '2', linkName: '../../etc/passwd' },
      ],
      { gzip: false },
    );
    await signAndAttach(client, img, release.signer);
    const r = await resolveEvidence(img.repo, img.digest, opts);
    expect(r.scan!.status).toBe('complete');
    const rules = r.scan!.problems.map((p) => `${p.file} ${p.verdict}`).join('\n');
    expect(rules).toMatch(/model\/model.pkl dangerous/);
    expect(rules).toMatch(/\.\.\/escape.txt rejected/);
    expect(rules).toMatch(/model\/link rejected/);
  });

  it('a ModelPack artifact: its shape says containerd mounts it empty; declared formats; no scan', async () => {
    const { reg, client, opts } = await setup();
    const mp = pushModelPack(reg, 'models/mp', [{ name: 'w.safetensors', data: safetensors() }], 'pytorch');
    await signAndAttach(client, mp, release.signer);
    const r = await resolveEvidence(mp.repo, mp.digest, opts);
    expect(r.manifest).toMatchObject({ shape: 'artifact', family: 'modelpack' });
    expect(r.manifest!.declared.map((d) => d.source)).toEqual(['config.format', 'layer w.safetensors']);
    expect(r.scan).toMatchObject({ status: 'incomplete' });
    expect(r.scan!.reason).toMatch(/storage initializer/);
  });

  it('zstd layers make the scan incomplete, not clean', async () => {
    const { reg, client, opts } = await setup();
    const img = pushImage(reg, 'models/z', MODEL, {
      mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd',
    });
    await signAndAttach(client, img, release.signer);
    const r = await resolveEvidence(img.repo, img.digest, opts);
    expect(r.scan).toMatchObject({ status: 'incomplete' });
    expect(r.scan!.reason).toMatch(/zstd/);
  });

  it('a layer over the limit makes the scan incomplete', async () => {
    const { reg, client, opts } = await setup();
    const img = pushImage(reg, 'models/big', MODEL, { gzip: false });
    await signAndAttach(client, img, release.signer);
    const r = await resolveEvidence(img.repo, img.digest, {
      ...opts,
      scan: { scratchDir: scratch, maxLayerBytes: 100 },
    });
    expect(r.scan).toMatchObject({ status: 'incomplete' });
    expect(r.scan!.reason).toMatch(/limit/);
  });

  it('a digest the repository does not have is an answer; an unreachable registry is an outage', async () => {
    const { reg, opts } = await setup();
    const img = pushImage(reg, 'models/llama', MODEL);
    const missing = await resolveEvidence(img.repo, `sha256:${'0'.repeat(64)}`, opts);
    expect(missing.error).toMatch(/not in/);
    reg.status = 503;
    await expect(resolveEvidence(img.repo, img.digest, opts)).rejects.toBeInstanceOf(RegistryError);
  });

  it('an image index is recorded as such (pin the platform manifest)', async () => {
    const { reg, opts } = await setup();
    const img = pushImage(reg, 'models/llama', MODEL);
    const index = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: img.digest, size: img.size },
        ],
      }),
    );
    const d = reg.putManifest('models/llama', index, 'application/vnd.oci.image.index.v1+json');
    const r = await resolveEvidence(img.repo, d, opts);
    expect(r.manifest).toMatchObject({ shape: 'index' });
  });

  it('allowed pickle globals: treated as data, and the record names those the model uses; a scan with problems is redone when more is allowed', async () => {
    const { reg, client, opts } = await setup();
    const img = pushImage(reg, 'models/sklearn', [
      { name: 'model/pipeline.pkl', data: dataClassPickle('acme.prep', 'Clip') },
    ]);
    await signAndAttach(client, img, release.signer);
    const strict = await resolveEvidence(img.repo, img.digest, opts);
    expect(strict.scan!.problems.map((p) => `${p.file} ${p.verdict}`)).toEqual([
      'layer_000.tar.gz!model/pipeline.pkl suspicious',
    ]);
    expect(strict.scan!.usedGlobals).toBeUndefined();
    const allowGlobals = ['acme.other.Scale', 'acme.prep.Clip'];
    // The strict scan does not hold once a policy allows more: scanned again.
    const allowed = await resolveEvidence(img.repo, img.digest, {
      ...opts,
      allowGlobals,
      reuseScan: strict.scan!,
    });
    expect(allowed.scan).toMatchObject({
      status: 'complete',
      problems: [],
      allowGlobals,
      usedGlobals: ['acme.prep.Clip'],
    });
    expect(parseEvidence(serializeEvidence(allowed)).scan).toEqual(allowed.scan);
    // A clean scan holds whatever is allowed (reused: the same object comes back).
    const again = await resolveEvidence(img.repo, img.digest, {
      ...opts,
      allowGlobals: [],
      reuseScan: allowed.scan!,
    });
    expect(again.scan).toBe(allowed.scan);
  });

  it("a file over the controller's scan limits makes the scan incomplete (scanned at pod start), not refused", async () => {
    const { reg, client, opts } = await setup();
    const img = pushImage(reg, 'models/big-pickle', [
      { name: 'model/data.pkl', data: new Uint8Array([0x80, 0x02, 0x4b, 0x01, 0x2e]) },
    ]);
    await signAndAttach(client, img, release.signer);
    const r = await resolveEvidence(img.repo, img.digest, {
      ...opts,
      scan: { scratchDir: scratch, scanLimits: { maxPickleBytes: 2, maxReadBytes: 2 } },
    });
    expect(r.scan).toMatchObject({ status: 'incomplete', problems: [] });
    expect(r.scan!.reason).toMatch(/over the limits of the controller's scan/);
  });
});
