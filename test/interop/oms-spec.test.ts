// The OMS v1.0 test vectors (test/fixtures/model-signing/oms-spec-test-vectors, SOURCES.md §3) paired
// with the models they sign, verified by modelgate and by the real model_signing CLI: both must pass the
// valid vectors and refuse the invalid ones. (model_signing's keyless verification needs Sigstore's TUF
// repository online, so the keyless vector is checked by modelgate only, offline.)
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyModel } from '../../src/signing/index.ts';
import {
  certTrust,
  CLI_TESTS,
  KEYS,
  keylessTrust,
  keyTrust,
  OMS,
  read,
} from '../../src/signing/fixtures.test-support.ts';

const VERSION = process.env.MODEL_SIGNING_VERSION ?? '1.1.1';
const BIN = join(
  process.env.MODELGATE_CACHE ?? join(homedir(), '.cache', 'modelgate'),
  'venv',
  `model-signing-${VERSION}`,
  'bin',
  'model_signing',
);
const tmp = mkdtempSync(join(tmpdir(), 'modelgate-oms-interop-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

beforeAll(() => {
  if (!existsSync(BIN))
    throw new Error(`model_signing ${VERSION} not found at ${BIN}: run scripts/venv-model-signing.sh first`);
});

let n = 0;
/** A writable copy of a fixture model directory (the vectors' bundles live outside it). */
function modelCopy(dir: string): string {
  const to = join(tmp, `${n++}`, dir);
  cpSync(join(CLI_TESTS, dir), to, { recursive: true });
  chmodSync(to, 0o755);
  return to;
}

function modelSigning(
  method: 'key' | 'certificate',
  model: string,
  bundle: string,
): { status: number; output: string } {
  const trust =
    method === 'key'
      ? ['--public_key', `${KEYS}signing-key-pub.pem`]
      : ['--certificate_chain', `${KEYS}ca-cert.pem`];
  const r = spawnSync(
    BIN,
    ['verify', method, model, '--signature', bundle, ...trust, '--ignore-paths', join(model, 'model.sig')],
    {
      encoding: 'utf8',
      cwd: tmp,
    },
  );
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

const CASES = [
  { vector: 'valid/key.bundle.json', model: 'v1.1.0-elliptic-key', method: 'key', valid: true },
  {
    vector: 'valid/certificate.bundle.json',
    model: 'v1.1.0-elliptic-key',
    method: 'certificate',
    valid: true,
  },
  {
    vector: 'valid/certificate.bundle.json',
    model: 'v1.1.0-certificate',
    method: 'certificate',
    valid: false,
  },
  { vector: 'valid/sigstore.bundle.json', model: 'v1.1.0-sigstore', method: 'keyless', valid: true },
  {
    vector: 'invalid-payload/wrong-predicate.bundle.json',
    model: 'v1.1.0-elliptic-key',
    method: 'key',
    valid: false,
  },
  { vector: 'invalid/empty.bundle.json', model: 'v1.1.0-elliptic-key', method: 'key', valid: false },
  {
    vector: 'invalid/missing-envelope.bundle.json',
    model: 'v1.1.0-elliptic-key',
    method: 'key',
    valid: false,
  },
  {
    vector: 'invalid/missing-verification-material.bundle.json',
    model: 'v1.1.0-elliptic-key',
    method: 'key',
    valid: false,
  },
  {
    vector: 'invalid/missing-tlog-entries.bundle.json',
    model: 'v1.1.0-sigstore',
    method: 'keyless',
    valid: false,
  },
] as const;

describe('OMS v1.0 test vectors against their models', () => {
  it.each(CASES)('$vector on $model ($method): valid=$valid', async ({ vector, model, method, valid }) => {
    const dir = modelCopy(model);
    const bundle = OMS + vector;
    const trust = method === 'key' ? keyTrust : method === 'certificate' ? certTrust : keylessTrust;
    const ours = await verifyModel(dir, read(bundle), trust, { ignorePaths: ['model.sig'] });
    expect(ours.valid, ours.reason).toBe(valid);
    if (method === 'keyless') return;
    const theirs = modelSigning(method, dir, bundle);
    expect(theirs.status === 0, theirs.output).toBe(valid);
  });
});
