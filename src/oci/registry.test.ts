import { afterEach, describe, expect, it } from 'vitest';
import { PREDICATE_V1 } from '../signing/statement.ts';
import { attachBundle, bundleReferrerManifest } from './attach.ts';
import { Keyring } from './credentials.ts';
import { FakeRegistry, type FakeRegistryOptions, type ReferrersMode } from './fake-registry.test-support.ts';
import { digestOf } from './manifest.ts';
import { OCI_EMPTY, OCI_MANIFEST, SIGSTORE_BUNDLE_V03 } from './media-types.ts';
import { parseImageRef } from './reference.ts';
import { findModelSigningBundles } from './referrers.ts';
import { parseChallenge, RangeNotSupported, RegistryClient, RegistryError } from './registry.ts';

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const registries: FakeRegistry[] = [];
afterEach(async () => {
  await Promise.all(registries.splice(0).map((r) => r.stop()));
});

async function start(opts: FakeRegistryOptions = {}) {
  const reg = await new FakeRegistry(opts).start();
  registries.push(reg);
  const repo = parseImageRef(`${reg.host}/models/llama`);
  const client = new RegistryClient({ insecureHosts: new Set([reg.host]) });
  return { reg, repo, client };
}

/** A tiny image manifest pushed to the fake registry; returns its digest and size. */
function pushImage(reg: FakeRegistry, layerBytes = 'weights') {
  const config = reg.putBlob(enc({ rootfs: { type: 'layers', diff_ids: [] } }));
  const layer = reg.putBlob(new TextEncoder().encode(layerBytes));
  const bytes = enc({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 1 },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer, size: layerBytes.length }],
  });
  const digest = reg.putManifest('models/llama', bytes, OCI_MANIFEST, 'v1');
  return { digest, size: bytes.length, bytes };
}

/** A bundle-shaped blob whose DSSE payload has the given predicate (signatures are not checked here). */
const fakeBundle = (predicateType: string, tag = '') =>
  enc({
    mediaType: SIGSTORE_BUNDLE_V03,
    dsseEnvelope: {
      payloadType: 'application/vnd.in-toto+json',
      payload: Buffer.from(JSON.stringify({ predicateType, tag })).toString('base64'),
      signatures: [],
    },
  });

describe('RegistryClient', () => {
  it('fetches a manifest by tag and by digest, checking the digest', async () => {
    const { reg, repo, client } = await start();
    const img = pushImage(reg);
    expect((await client.getManifest(repo, 'v1'))?.digest).toBe(img.digest);
    expect(
      Buffer.from((await client.getManifest(repo, img.digest))!.bytes).equals(Buffer.from(img.bytes)),
    ).toBe(true);
    expect(await client.getManifest(repo, 'missing')).toBeUndefined();
    // A registry that serves other bytes under a digest is caught.
    reg.manifests.get('models/llama')!.set(img.digest, { bytes: Buffer.from('{"x":1}'), type: OCI_MANIFEST });
    await expect(client.getManifest(repo, img.digest)).rejects.toThrow(/whose digest is/);
  });

  it('reads blobs whole (checked), by range, and refuses what is over the limit', async () => {
    const { reg, repo, client } = await start();
    const d = reg.putBlob(new TextEncoder().encode('0123456789'));
    expect(Buffer.from(await client.getBlob(repo, d, 100)).toString()).toBe('0123456789');
    expect(Buffer.from(await client.getBlobRange(repo, d, 2, 3)).toString()).toBe('234');
    await expect(client.getBlob(repo, d, 5)).rejects.toThrow(/limit/);
    reg.blobs.set(d, Buffer.from('tampered!!'));
    await expect(client.getBlob(repo, d, 100)).rejects.toThrow(/other content/);
    const chunks: Uint8Array[] = [];
    await expect(
      (async () => {
        for await (const c of client.streamBlob(repo, d, 100)) chunks.push(c);
      })(),
    ).rejects.toThrow(/other content/);
  });

  it('says when a registry ignores Range', async () => {
    const { reg, repo, client } = await start({ ranges: false });
    const d = reg.putBlob(new TextEncoder().encode('0123456789'));
    await expect(client.getBlobRange(repo, d, 2, 3)).rejects.toBeInstanceOf(RangeNotSupported);
  });

  it('does the Bearer token dance with the credential for that registry only', async () => {
    const { reg, repo } = await start({ auth: { user: 'alice', password: 's3cret' } });
    pushImage(reg);
    const anonymous = new RegistryClient({ insecureHosts: new Set([reg.host]) });
    await expect(anonymous.getManifest(repo, 'v1')).rejects.toThrow(/refused anonymous access/);
    const keys = new Keyring();
    keys.addDockerConfig(
      JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('alice:s3cret').toString('base64') } } }),
      'Secret ns/pull',
    );
    const wrong = new Keyring();
    wrong.addDockerConfig(
      JSON.stringify({ auths: { [reg.host]: { username: 'alice', password: 'no' } } }),
      'Secret ns/bad',
    );
    const authed = new RegistryClient({
      insecureHosts: new Set([reg.host]),
      credentials: (r) => keys.lookup(r),
    });
    expect((await authed.getManifest(repo, 'v1'))?.digest).toBeDefined();
    const refused = new RegistryClient({
      insecureHosts: new Set([reg.host]),
      credentials: (r) => wrong.lookup(r),
    });
    await expect(refused.getManifest(repo, 'v1')).rejects.toThrow(/Secret ns\/bad/);
  });

  it('refuses plain HTTP unless the host is configured insecure', async () => {
    const { reg, repo } = await start();
    const strict = new RegistryClient({ timeoutMs: 2000 });
    const err = await strict.getManifest(repo, 'v1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).unreachable).toBe(true);
    expect(reg.requests).toHaveLength(0);
  });

  it('an outage is "unreachable", a 5xx too; a 404 is not', async () => {
    const { reg, repo, client } = await start();
    reg.status = 503;
    expect(await client.getManifest(repo, 'v1').catch((e: RegistryError) => e.unreachable)).toBe(true);
    await reg.stop();
    expect(await client.getManifest(repo, 'v1').catch((e: RegistryError) => e.unreachable)).toBe(true);
  });
});

describe('parseChallenge', () => {
  it('reads quoted and token parameters', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.example/token",service=registry,scope="repository:a/b:pull"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'registry', scope: 'repository:a/b:pull' },
    });
    expect(parseChallenge('')).toBeUndefined();
  });
});

describe('findModelSigningBundles and attachBundle', () => {
  const modes: ReferrersMode[] = ['spec', 'config-media-type', 'none'];
  it.each(modes)('a bundle attached by modelgate is found (referrers %s)', async (mode) => {
    const { reg, repo, client } = await start({ referrers: mode });
    const img = pushImage(reg);
    const subject = { mediaType: OCI_MANIFEST, digest: img.digest, size: img.size };
    // One creation time for both attaches of the same bundle: the annotation is in the referrer's bytes, and
    // two attaches a second apart are two referrers.
    const created = new Date('2026-12-01T00:00:00Z');
    const attached = await attachBundle(client, repo, subject, fakeBundle(PREDICATE_V1), created);
    expect(attached.via).toBe(mode === 'none' ? 'tag' : 'referrers');
    // A cosign image signature on the same digest is passed over.
    await attachBundle(client, repo, subject, fakeBundle('https://sigstore.dev/cosign/sign/v1'));
    const found = await findModelSigningBundles(client, repo, img.digest);
    expect(found.api).toBe(mode === 'none' ? 'tag' : 'referrers');
    expect(found.bundles.map((b) => b.referrer)).toEqual([attached.referrer]);
    expect(found.skipped.join()).toMatch(/cosign\/sign\/v1/);
    // Attaching twice to a tag index keeps one entry per referrer.
    if (mode === 'none') {
      await attachBundle(client, repo, subject, fakeBundle(PREDICATE_V1), created);
      const index = JSON.parse(
        reg.manifests.get('models/llama')!.get(img.digest.replace(':', '-'))!.bytes.toString(),
      ) as {
        manifests: unknown[];
      };
      expect(index.manifests).toHaveLength(2);
    }
  });

  it('finds cosign#4422 (empty artifactType) and untyped legacy referrers behind a filtering registry', async () => {
    const { reg, repo, client } = await start({ referrers: 'spec' });
    const img = pushImage(reg);
    const bundle = fakeBundle(PREDICATE_V1);
    reg.putBlob(bundle);
    reg.putBlob(new TextEncoder().encode('{}'));
    for (const artifactType of [OCI_EMPTY, undefined]) {
      const m = JSON.parse(
        Buffer.from(
          bundleReferrerManifest(
            { mediaType: OCI_MANIFEST, digest: img.digest, size: img.size },
            bundle,
            new Date(0),
          ),
        ).toString(),
      ) as Record<string, unknown>;
      if (artifactType) m.artifactType = artifactType;
      else delete m.artifactType;
      delete m.annotations;
      reg.putManifest('models/llama', enc(m), OCI_MANIFEST);
    }
    const found = await findModelSigningBundles(client, repo, img.digest);
    expect(found.bundles).toHaveLength(2);
  });

  it('refuses a referrer whose subject is another manifest, and one whose bundle is not model-signing', async () => {
    const { reg, repo, client } = await start({ referrers: 'none' });
    const img = pushImage(reg);
    const other = pushImage(reg, 'other');
    const bundle = reg.putBlob(fakeBundle('https://slsa.dev/provenance/v1'));
    const wrongSubject = bundleReferrerManifest(
      { mediaType: OCI_MANIFEST, digest: other.digest, size: 1 },
      fakeBundle(PREDICATE_V1),
      new Date(0),
    );
    reg.putBlob(fakeBundle(PREDICATE_V1));
    const slsa = enc({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: SIGSTORE_BUNDLE_V03,
      config: { mediaType: OCI_EMPTY, digest: digestOf(enc({})), size: 2 },
      layers: [{ mediaType: SIGSTORE_BUNDLE_V03, digest: bundle, size: 10 }],
      subject: { mediaType: OCI_MANIFEST, digest: img.digest, size: img.size },
    });
    const d1 = reg.putManifest('models/llama', wrongSubject, OCI_MANIFEST);
    const d2 = reg.putManifest('models/llama', slsa, OCI_MANIFEST);
    reg.putManifest(
      'models/llama',
      enc({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [d1, d2].map((digest) => ({
          mediaType: OCI_MANIFEST,
          digest,
          size: 1,
          artifactType: SIGSTORE_BUNDLE_V03,
        })),
      }),
      'application/vnd.oci.image.index.v1+json',
      img.digest.replace(':', '-'),
    );
    const found = await findModelSigningBundles(client, repo, img.digest);
    expect(found.bundles).toEqual([]);
    expect(found.skipped.join('\n')).toMatch(/its subject is sha256:/);
    expect(found.skipped.join('\n')).toMatch(/provenance/);
  });

  it('is bounded: pages and examined entries', async () => {
    const { reg, repo, client } = await start({ referrers: 'spec', pageSize: 2 });
    const img = pushImage(reg);
    const subject = { mediaType: OCI_MANIFEST, digest: img.digest, size: img.size };
    for (let i = 0; i < 7; i++)
      await attachBundle(client, repo, subject, fakeBundle(PREDICATE_V1, String(i)));
    const found = await findModelSigningBundles(client, repo, img.digest, {
      maxExamined: 5,
      maxFetched: 3,
      maxBundleBytes: 4096,
    });
    expect(found.bundles).toHaveLength(3);
    expect(found.examined).toBeLessThanOrEqual(5);
    expect(found.skipped.join()).toMatch(/more than 3 candidate/);
  });

  it('a registry failure while listing is an error, not "no signature"', async () => {
    const { reg, repo, client } = await start({ referrers: 'spec' });
    const img = pushImage(reg);
    reg.status = 500;
    await expect(findModelSigningBundles(client, repo, img.digest)).rejects.toBeInstanceOf(RegistryError);
  });
});

describe('Keyring', () => {
  const repo = (r: string) => parseImageRef(r);
  const k = new Keyring();
  k.addDockerConfig(
    JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { username: 'hub', password: 'x' },
        'registry.example.com': { username: 'all', password: 'x' },
        'registry.example.com/team': { username: 'team', password: 'x' },
        '*.corp.example': { username: 'wild', password: 'x' },
        'localhost:5000': { username: 'local', password: 'x' },
      },
    }),
    'test',
  );
  it.each([
    ['ubuntu', ['hub']],
    ['registry.example.com/team/model', ['team', 'all']],
    ['registry.example.com/teammate/model', ['all']],
    ['a.corp.example/m', ['wild']],
    ['a.b.corp.example/m', []],
    ['localhost:5000/m', ['local']],
    ['localhost:5001/m', []],
  ])('%s', (ref, users) => {
    expect(k.lookup(repo(ref)).map((c) => c.username)).toEqual(users);
  });
  it('refuses config that is not JSON, and auth that is not user:password', () => {
    expect(() => new Keyring().addDockerConfig('nope', 'Secret a/b')).toThrow(/Secret a\/b is not JSON/);
    expect(() =>
      new Keyring().addDockerConfig(
        JSON.stringify({ auths: { x: { auth: Buffer.from('nocolon').toString('base64') } } }),
        's',
      ),
    ).toThrow(/user:password/);
  });
});
