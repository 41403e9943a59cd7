// `modelgate sign --oci-manifest` and `modelgate verify --oci-manifest`, files and a registry on 127.0.0.1.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeRegistry } from '../oci/fake-registry.test-support.ts';
import { pushImage, safetensors } from '../oci/oci-images.test-support.ts';
import { run as sign } from './sign.ts';
import { run as verify } from './verify.ts';
import { UsageError } from './args.ts';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/oci');
const KEY = join(FIXTURES, 'signing-key.pem');
const PUB = join(FIXTURES, 'signing-key.pub');
const tmp = mkdtempSync(join(tmpdir(), 'modelgate-oci-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let out = '';
let err = '';
beforeEach(() => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation(
    (s: string | Uint8Array) => ((out += String(s)), true),
  );
  vi.spyOn(process.stderr, 'write').mockImplementation(
    (s: string | Uint8Array) => ((err += String(s)), true),
  );
});
const registries: FakeRegistry[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(registries.splice(0).map((r) => r.stop()));
});

describe('sign and verify --oci-manifest with files', () => {
  it('signs a manifest file and verifies it; another manifest does not verify with that bundle', async () => {
    const manifest = join(tmp, 'image-manifest.json');
    copyFileSync(join(FIXTURES, 'image-manifest.json'), manifest);
    const sig = join(tmp, 'image.sig');
    expect(await sign(['--oci-manifest', manifest, '--key', KEY, '--signature', sig])).toBe(0);
    expect(out).toMatch(/4 resources .* statement digest sha256:94ca7702/);
    out = '';
    expect(await verify(['--oci-manifest', manifest, '--signature', sig, '--key', PUB])).toBe(0);
    expect(out).toMatch(/^VALID .*signed by key sha256:/);
    out = '';
    expect(
      await verify([
        '--oci-manifest',
        join(FIXTURES, 'modelpack-manifest.json'),
        '--signature',
        sig,
        '--key',
        PUB,
        '--output',
        'json',
      ]),
    ).toBe(1);
    expect(JSON.parse(out)).toMatchObject({
      verdict: 'invalid',
      reason: expect.stringMatching(/not this manifest's layers/),
    });
  });

  it("verifies the Go CLI's statement (golden vector)", async () => {
    expect(
      await verify([
        '--oci-manifest',
        join(FIXTURES, 'image-manifest.json'),
        '--signature',
        join(FIXTURES, 'go-style-statement.sig'),
        '--key',
        PUB,
      ]),
    ).toBe(0);
  });

  it('warns when the Go CLI would name a layer differently; refuses --attach for a file and an unsafe manifest', async () => {
    expect(
      await sign([
        '--oci-manifest',
        join(FIXTURES, 'modelpack-manifest.json'),
        '--key',
        KEY,
        '--signature',
        join(tmp, 'mp.sig'),
      ]),
    ).toBe(0);
    expect(err).toMatch(/layer_NNN/);
    await expect(
      sign(['--oci-manifest', join(FIXTURES, 'image-manifest.json'), '--key', KEY, '--attach']),
    ).rejects.toBeInstanceOf(UsageError);
    const evil = JSON.parse(readFileSync(join(FIXTURES, 'image-manifest.json'), 'utf8')) as {
      layers: { annotations?: Record<string, string> }[];
    };
    evil.layers[2]!.annotations = { 'org.opencontainers.image.title': '../../etc/cron.d/x' };
    writeFileSync(join(tmp, 'evil.json'), JSON.stringify(evil));
    expect(
      await sign([
        '--oci-manifest',
        join(tmp, 'evil.json'),
        '--key',
        KEY,
        '--signature',
        join(tmp, 'evil.sig'),
      ]),
    ).toBe(2);
    expect(err).toMatch(/not a relative path/);
    await expect(
      sign(['--oci-manifest', join(FIXTURES, 'image-manifest.json'), '--key', KEY]),
    ).rejects.toThrow(/--signature, --attach/);
  });
});

describe('sign --attach and verify from the registry', () => {
  it.each(['spec', 'none'] as const)(
    'a bundle attached to a manifest is found and verified (referrers %s)',
    async (mode) => {
      const reg = await new FakeRegistry({ referrers: mode }).start();
      registries.push(reg);
      const img = pushImage(reg, 'models/llama', [{ name: 'model/model.safetensors', data: safetensors() }], {
        tag: 'v1',
      });
      const ref = `${reg.host}/models/llama:v1`;
      const flags = ['--insecure-registry', reg.host, '--registry-auth', join(tmp, 'none.json')];
      writeFileSync(join(tmp, 'none.json'), '{"auths":{}}');
      expect(
        await sign(['--oci-manifest', ref, '--key', KEY, '--attach', '--output', 'json', ...flags]),
      ).toBe(0);
      expect(JSON.parse(out)).toMatchObject({
        digest: img.digest,
        via: mode === 'spec' ? 'referrers' : 'tag',
      });
      out = '';
      expect(
        await verify(['--oci-manifest', `${reg.host}/models/llama@${img.digest}`, '--key', PUB, ...flags]),
      ).toBe(0);
      expect(out).toMatch(/VALID .*referrer sha256:/);
      // The same repository re-pushed under the same tag with a changed layer: that digest is not signed.
      const v2 = pushImage(reg, 'models/llama', [{ name: 'model/model.safetensors', data: safetensors(8) }], {
        tag: 'v1',
      });
      out = '';
      expect(
        await verify(['--oci-manifest', `${reg.host}/models/llama@${v2.digest}`, '--key', PUB, ...flags]),
      ).toBe(1);
      expect(out).toMatch(/INVALID .*no model-signing bundle is attached/);
    },
  );

  it('an unreachable registry is exit 2 with the reason', async () => {
    const reg = await new FakeRegistry({ referrers: 'spec' }).start();
    const host = reg.host;
    await reg.stop();
    expect(
      await verify(['--oci-manifest', `${host}/models/llama:v1`, '--key', PUB, '--insecure-registry', host]),
    ).toBe(2);
    expect(err).toMatch(/cannot reach 127.0.0.1/);
  });
});
