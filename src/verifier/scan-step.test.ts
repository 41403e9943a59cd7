// The pod verifier scans every model file after the signature check: a signed model can still carry code.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPodVerifier } from './run.ts';
import { scanModel } from './scan-step.ts';

const SCAN = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'model-scanning');
const tmp = mkdtempSync(join(tmpdir(), 'modelgate-scanstep-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function modelDir(name: string, files: [from: string, to: string][]): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const [from, to] of files) copyFileSync(join(SCAN, from), join(dir, to));
  return dir;
}

const podConfig = (path: string, denyFormats: string[] = [], allowGlobals?: unknown) =>
  JSON.stringify({
    version: 1,
    policies: ['ClusterModelPolicy/p'],
    threshold: 0,
    denyFormats,
    ...(allowGlobals !== undefined ? { allowGlobals } : {}),
    authorities: [],
    models: [{ name: 'm', volume: 'v', path }],
  });

describe('verifier format scan', () => {
  it('refuses a model holding a pickle that runs code, naming the file', async () => {
    const dir = modelDir('evil', [
      ['picklescan/data/benign0_v3.pkl', 'ok.pkl'],
      ['picklescan/data/malicious0.pkl', 'weights.pkl'],
    ]);
    const log = join(tmp, 'evil.log');
    const run = await runPodVerifier(podConfig(dir), { terminationLogPath: log });
    expect(run.exitCode).toBe(1);
    expect(run.results[0]!.verdict).toBe('invalid');
    expect(run.results[0]!.reason).toMatch(/weights\.pkl: dangerous/);
    const message = JSON.parse(readFileSync(log, 'utf8')) as { scan?: string[] }[];
    expect(message[0]!.scan?.join()).toContain('weights.pkl: dangerous');
  });

  it('admits clean files, and refuses a clean pickle when the policy denies the pickle format', async () => {
    const dir = modelDir('benign', [['picklescan/data/benign0_v4.pkl', 'data.pkl']]);
    expect((await runPodVerifier(podConfig(dir))).exitCode).toBe(0);
    const denied = await runPodVerifier(podConfig(dir, ['pickle']));
    expect(denied.exitCode).toBe(1);
    expect(denied.results[0]!.reason).toContain('data.pkl');
  });

  it("treats the policies' allowed pickle globals as data; a malformed list fails the pod", async () => {
    const dir = modelDir('custom', []);
    // protocol 2: GLOBAL mycompany.transformers Clip, EMPTY_TUPLE, NEWOBJ, EMPTY_DICT, BUILD, STOP
    const b = Buffer.concat([
      Buffer.from([0x80, 0x02]),
      Buffer.from('cmycompany.transformers\nClip\n)'),
      Buffer.from([0x81]),
      Buffer.from('}b.'),
    ]);
    writeFileSync(join(dir, 'clip.pkl'), b);
    expect((await runPodVerifier(podConfig(dir))).exitCode).toBe(1);
    expect((await runPodVerifier(podConfig(dir, [], ['mycompany.transformers.Clip']))).exitCode).toBe(0);
    const bad = await runPodVerifier(podConfig(dir, [], ['not a name']));
    expect(bad.exitCode).not.toBe(0);
  });

  it('never scans the signature bundle itself', async () => {
    const dir = modelDir('signed', [['picklescan/data/benign0_v4.pkl', 'data.pkl']]);
    copyFileSync(join(SCAN, 'picklescan/data/malicious0.pkl'), join(dir, 'model.sig'));
    const r = await scanModel(dir, { denyFormats: [], skip: [join(dir, 'model.sig')] });
    expect(r.ok).toBe(true);
    expect(r.files).toBe(1);
  });
});
