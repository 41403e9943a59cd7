// The injected init container: `modelgate verify --pod-config-env=MODELGATE_VERIFIER_CONFIG`.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { run as verify } from '../cli/verify.ts';
import { certTrust, CLI_TESTS, keyTrust, read } from '../signing/fixtures.test-support.ts';
import { terminationMessageList, TERMINATION_MESSAGE_LIMIT } from './result.ts';
import { runPodVerifier } from './run.ts';

const tmp = mkdtempSync(join(tmpdir(), 'modelgate-pod-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeEach(() => {
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => {
  vi.restoreAllMocks();
  delete process.env.MODELGATE_VERIFIER_CONFIG;
});

const KEY_DIGEST = 'sha256:92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4';
const config = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    version: 1,
    policies: ['ClusterModelPolicy/prod'],
    threshold: 1,
    denyFormats: [],
    authorities: [
      { name: 'release-key', trust: keyTrust },
      { name: 'corp-pki', trust: certTrust },
    ],
    models: [
      { name: 'key-model', volume: 'a', path: join(CLI_TESTS, 'v1.1.0-elliptic-key'), digest: KEY_DIGEST },
      {
        name: 'cert-model',
        volume: 'b',
        path: join(CLI_TESTS, 'v1.1.0-certificate'),
        inlineBundle: read(join(CLI_TESTS, 'v1.1.0-certificate', 'model.sig')).toString('base64'),
      },
    ],
    ...over,
  });

describe('pod verifier', () => {
  it('verifies every model against the authorities and writes a JSON list', async () => {
    const log = join(tmp, 'ok');
    process.env.MODELGATE_VERIFIER_CONFIG = config();
    expect(await verify(['--pod-config-env=MODELGATE_VERIFIER_CONFIG', '--termination-log', log])).toBe(0);
    const results = JSON.parse(readFileSync(log, 'utf8'));
    expect(results).toMatchObject([
      {
        model: 'key-model',
        verdict: 'valid',
        digest: KEY_DIGEST,
        signer: expect.stringMatching(/^key sha256:/),
      },
      { model: 'cert-model', verdict: 'valid', signer: 'intermediate-ca' },
    ]);
  });
  it('fails the pod on a pinned digest mismatch, and names the failure', async () => {
    const log = join(tmp, 'pin');
    const c = JSON.parse(config());
    c.models[0].digest = `sha256:${'1'.repeat(64)}`;
    const run = await runPodVerifier(JSON.stringify(c), { terminationLogPath: log });
    expect(run.exitCode).toBe(1);
    expect(JSON.parse(readFileSync(log, 'utf8'))[0].reason).toMatch(/pinned digest/);
  });
  it('counts authorities against the threshold', async () => {
    const run = await runPodVerifier(config({ threshold: 2 }));
    expect(run.exitCode).toBe(1);
    expect(run.results[0]?.reason).toMatch(
      /signed by 1 of the required 2 authorities; corp-pki: verification material mismatch/,
    );
  });
  it('fails the pod when a server reads a path of the model its signature does not cover (H65)', async () => {
    const c = JSON.parse(config());
    c.models[1].readPaths = ['signme-1', 'ignore-me'];
    const run = await runPodVerifier(JSON.stringify(c));
    expect(run.exitCode).toBe(1);
    expect(run.results[1]).toMatchObject({
      model: 'cert-model',
      verdict: 'invalid',
      reason: expect.stringMatching(/"ignore-me" of the model, which its signature does not cover/),
    });
    c.models[1].readPaths = 'ignore-me';
    expect((await runPodVerifier(JSON.stringify(c))).results[0]?.reason).toMatch(/readPaths must be a list/);
  });
  it('exit 2 for a missing or broken configuration, or a missing bundle', async () => {
    expect((await runPodVerifier(undefined)).exitCode).toBe(2);
    expect((await runPodVerifier('{"version":2}')).results[0]?.reason).toMatch(/version 2/);
    const c = JSON.parse(config());
    c.models[0].signature = 'nope.sig';
    expect((await runPodVerifier(JSON.stringify(c))).results[0]).toMatchObject({
      verdict: 'unusable',
      reason: expect.stringMatching(/cannot read signature bundle/),
    });
  });
  it('keeps the list under 4 KiB for many models, failures first', () => {
    const results = Array.from({ length: 300 }, (_, i) => ({
      model: `/models/m${i}`,
      verdict: i === 250 ? ('invalid' as const) : ('valid' as const),
      digest: `sha256:${'a'.repeat(64)}`,
      signer: 'ci@example.com',
      durationMs: 3,
    }));
    const msg = terminationMessageList(results);
    expect(Buffer.byteLength(msg)).toBeLessThanOrEqual(TERMINATION_MESSAGE_LIMIT);
    const parsed = JSON.parse(msg);
    expect(parsed[0]).toMatchObject({ model: '/models/m250', verdict: 'invalid' });
    expect(parsed.at(-1).model).toMatch(/^\(\d+ more\)$/);
  });
});

describe('pod verifier: models proven at admission (OCI evidence)', () => {
  it('scans a scanOnly model without a bundle, and still refuses what the scan refuses', async () => {
    const { writeFileSync, mkdirSync } = await import('node:fs');
    const { reducePickle } = await import('../scanning/testing.test-support.ts');
    const clean = join(tmp, 'scan-only-clean');
    const evil = join(tmp, 'scan-only-evil');
    mkdirSync(clean);
    mkdirSync(evil);
    writeFileSync(join(clean, 'config.json'), '{"a":1}');
    writeFileSync(join(evil, 'model.pkl'), reducePickle('os', 'system'));
    const named = join(tmp, 'scan-only-named-like-a-bundle');
    mkdirSync(named);
    writeFileSync(join(named, 'model.sig'), reducePickle('os', 'system'));
    const cfg = (path: string) =>
      JSON.stringify({
        version: 1,
        policies: ['ClusterModelPolicy/prod'],
        threshold: 1,
        denyFormats: [],
        authorities: [{ name: 'release-key', trust: keyTrust }],
        models: [{ name: 'm', volume: 'm', path, scanOnly: true }],
      });
    const ok = await runPodVerifier(cfg(clean));
    expect(ok.exitCode).toBe(0);
    expect(ok.results[0]).toMatchObject({
      verdict: 'valid',
      evidence: 'admission-oci',
      reason: expect.stringMatching(/verified at admission/),
    });
    const bad = await runPodVerifier(cfg(evil));
    expect(bad.exitCode).toBe(1);
    expect(bad.results[0]!.scan?.join()).toMatch(/model.pkl/);
    // No bundle is read from a scan-only volume, so a file named like one is scanned too.
    const hidden = await runPodVerifier(cfg(named));
    expect(hidden.exitCode).toBe(1);
    expect(hidden.results[0]!.scan?.join()).toMatch(/model.sig/);
    // scanOnly with a bundle or digest is a contradiction: refused.
    const both = JSON.parse(cfg(clean)) as { models: Record<string, unknown>[] };
    both.models[0]!.digest = KEY_DIGEST;
    expect((await runPodVerifier(JSON.stringify(both))).exitCode).toBe(2);
  });
});
