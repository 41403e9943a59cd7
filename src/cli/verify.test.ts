// `modelgate verify` and `modelgate sign` end to end through their run() functions.
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { run as sign } from './sign.ts';
import { run as verify, verifierInput } from './verify.ts';
import { UsageError } from './args.ts';
import { CLI_TESTS, FIXTURES, ID, ISSUER, KEYS } from '../signing/fixtures.test-support.ts';

const tmp = mkdtempSync(join(tmpdir(), 'modelgate-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let out = '';
beforeEach(() => {
  out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation(
    (s: string | Uint8Array) => ((out += String(s)), true),
  );
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => vi.restoreAllMocks());

const PUB = `${KEYS}signing-key-pub.pem`;
const dir = (d: string) => join(CLI_TESTS, d);

describe('modelgate verify', () => {
  it('exit 0 for a valid model, with the digest and signer', async () => {
    expect(
      await verify([
        dir('v1.1.0-elliptic-key'),
        '--signature',
        join(dir('v1.1.0-elliptic-key'), 'model.sig'),
        '--key',
        PUB,
        '--workers',
        '0',
      ]),
    ).toBe(0);
    expect(out).toMatch(
      /^VALID .*sha256:92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4 signed by key sha256:e8450dec/,
    );
  });
  it('exit 1 with the reason, as JSON', async () => {
    expect(
      await verify([
        dir('v1.0.1-elliptic-key'),
        '--signature',
        join(dir('v1.0.1-elliptic-key'), 'model.sig'),
        '--key',
        PUB,
        '--output',
        'json',
      ]),
    ).toBe(1);
    expect(JSON.parse(out)).toMatchObject({ verdict: 'invalid', extra: ['ignore-me'] });
  });
  it('keyless with the offline trusted root, and an identity regexp', async () => {
    const args = [
      dir('v1.1.0-sigstore'),
      '--signature',
      join(dir('v1.1.0-sigstore'), 'model.sig'),
      '--issuer',
      ISSUER,
      '--trusted-root',
      `${FIXTURES}sigstore-trusted-root/trusted_root.json`,
    ];
    expect(await verify([...args, '--identity', ID])).toBe(0);
    expect(await verify([...args, '--identity-regexp', 'stefanb@us\\.ibm\\.co'])).toBe(1);
  });
  it('certificate method with --ca', async () => {
    expect(
      await verify([
        dir('v1.1.0-certificate'),
        '--signature',
        join(dir('v1.1.0-certificate'), 'model.sig'),
        '--ca',
        `${KEYS}ca-cert.pem`,
      ]),
    ).toBe(0);
  });
  it('exit 2 for unusable input', async () => {
    expect(await verify([join(tmp, 'nope'), '--signature', join(tmp, 'nope.sig'), '--key', PUB])).toBe(2);
    expect(() => verifierInput(['m', '--signature', 's'])).toThrow(UsageError);
    expect(() => verifierInput(['m', '--signature', 's', '--key', 'k', '--ca', 'c'])).toThrow(/exactly one/);
    expect(() => verifierInput(['m', '--signature', 's', '--issuer', 'i', '--identity', 'x'])).toThrow(
      /--trusted-root/,
    );
  });
  it('verifier mode: inputs from a config file, result in the termination log, pinned digest', async () => {
    const config = join(tmp, 'config.json');
    const log = join(tmp, 'termination-log');
    writeFileSync(
      config,
      JSON.stringify({
        model: dir('v1.1.0-elliptic-key'),
        signature: join(dir('v1.1.0-elliptic-key'), 'model.sig'),
        key: PUB,
        expectDigest: `sha256:${'0'.repeat(64)}`,
      }),
    );
    expect(await verify(['--config', config, '--verifier', '--termination-log', log])).toBe(1);
    const result = JSON.parse(readFileSync(log, 'utf8'));
    expect(result).toMatchObject({
      verdict: 'invalid',
      digest: 'sha256:92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4',
    });
    expect(result.reason).toMatch(/pinned digest/);
    expect(
      await verify([
        '--config',
        config,
        '--verifier',
        '--termination-log',
        log,
        '--expect-digest',
        'sha256:92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4',
      ]),
    ).toBe(0);
    expect(JSON.parse(readFileSync(log, 'utf8'))).toMatchObject({
      verdict: 'valid',
      signer: expect.stringMatching(/^key sha256:/),
      durationMs: expect.any(Number),
    });
  });
});

describe('modelgate sign', () => {
  it('signs a model that modelgate verify accepts; the bundle inside the model is left out', async () => {
    const model = join(tmp, 'model');
    mkdirSync(model, { recursive: true });
    writeFileSync(join(model, 'w.bin'), 'weights');
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    writeFileSync(join(tmp, 'k.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(tmp, 'k.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    const sig = join(model, 'model.sig');
    expect(
      await sign([
        model,
        '--key',
        join(tmp, 'k.pem'),
        '--signature',
        sig,
        '--hash',
        'blake3',
        '--shard-size',
        '3',
        '--output',
        'json',
      ]),
    ).toBe(0);
    expect(JSON.parse(out)).toMatchObject({
      files: 1,
      bytes: 7,
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    expect(await verify([model, '--signature', sig, '--key', join(tmp, 'k.pub')])).toBe(0);
    await expect(
      sign([model, '--key', join(tmp, 'k.pem'), '--signature', sig, '--hash', 'md5']),
    ).rejects.toThrow(UsageError);
  });
});

describe('modelgate verify --scan', () => {
  it('scans the verified files; --allow-global admits a reviewed class, --deny-format refuses a format', async () => {
    const model = join(tmp, 'scanned');
    mkdirSync(model, { recursive: true });
    // protocol 2: mycompany.transformers.ClipOutliers() by NEWOBJ, then BUILD of an empty state
    const pkl = Buffer.concat([
      Buffer.from([0x80, 0x02]),
      Buffer.from('cmycompany.transformers\nClipOutliers\n)'),
      Buffer.from([0x81]),
      Buffer.from('}b.'),
    ]);
    writeFileSync(join(model, 'model.pkl'), pkl);
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(tmp, 's.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(tmp, 's.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    const sig = join(model, 'model.sig');
    expect(await sign([model, '--key', join(tmp, 's.pem'), '--signature', sig])).toBe(0);
    const base = [model, '--signature', sig, '--key', join(tmp, 's.pub'), '--output', 'json'];
    out = '';
    expect(await verify(base)).toBe(0);
    out = '';
    expect(await verify([...base, '--scan'])).toBe(1);
    expect(JSON.parse(out)).toMatchObject({
      verdict: 'invalid',
      reason: expect.stringContaining('mycompany.transformers.ClipOutliers'),
    });
    out = '';
    expect(await verify([...base, '--allow-global', 'mycompany.transformers.ClipOutliers'])).toBe(0);
    out = '';
    expect(
      await verify([
        ...base,
        '--allow-global',
        'mycompany.transformers.ClipOutliers',
        '--deny-format',
        'pickle',
      ]),
    ).toBe(1);
    await expect(verify([...base, '--allow-global', 'os'])).rejects.toThrow(UsageError);
    await expect(verify([...base, '--deny-format', 'exe'])).rejects.toThrow(UsageError);
  });
});
