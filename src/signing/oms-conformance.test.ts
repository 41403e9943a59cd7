// OMS v1.0 conformance without Python (SOURCES.md §3): every test vector of the spec is run through
// the spec's JSON schemas and through modelgate's verifier (valid/ must pass both, invalid*/ must fail
// both), and the bundles `modelgate sign` writes must pass all four schemas ("Conformance test suites
// MUST validate bundles against all four schemas", §3.1).
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSigner, signModel } from './sign.ts';
import { verifyBundleSignature } from './verify-signature.ts';
import { certTrust, FIXTURES, keylessTrust, keyTrust, OMS, read, readText } from './fixtures.test-support.ts';
import { makePki } from './pki.test-support.ts';

const SCHEMAS = `${FIXTURES}oms-spec-test-vectors/schemas/v1.0/`;
const ajv = new Ajv2020({ strict: false, allErrors: true });
for (const f of ['predicate', 'statement', 'envelope', 'bundle'])
  ajv.addSchema(JSON.parse(readText(`${SCHEMAS}${f}.schema.json`)) as object);
const bundleSchema = ajv.getSchema('https://model_signing/bundle/v1.0/schema');
const statementSchema = ajv.getSchema('https://model_signing/statement/v1.0/schema');

/** Both schema levels, as the spec's oms-validate does: the bundle, then its decoded statement. */
function schemaErrors(bytes: Uint8Array): string | undefined {
  let bundle: { dsseEnvelope?: { payload?: string } };
  try {
    bundle = JSON.parse(Buffer.from(bytes).toString('utf8')) as typeof bundle;
  } catch (err) {
    return `not JSON: ${(err as Error).message}`;
  }
  if (!bundleSchema?.(bundle)) return `bundle: ${ajv.errorsText(bundleSchema?.errors)}`;
  const statement: unknown = JSON.parse(Buffer.from(bundle.dsseEnvelope?.payload ?? '', 'base64').toString());
  if (!statementSchema?.(statement)) return `statement: ${ajv.errorsText(statementSchema?.errors)}`;
  return undefined;
}

/** The trust material matching the bundle's verification material (keyless, certificate chain or key). */
function trustFor(bytes: Uint8Array) {
  const text = Buffer.from(bytes).toString('utf8');
  if (text.includes('"certificate"')) return keylessTrust;
  if (text.includes('"x509CertificateChain"')) return certTrust;
  return keyTrust;
}

const vectors = ['valid', 'invalid', 'invalid-payload'].flatMap((dir) =>
  readdirSync(`${OMS}${dir}`)
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ file: `${dir}/${f}`, valid: dir === 'valid' })),
);

describe('OMS v1.0 test vectors', () => {
  it('are all here (8 in the pinned commit)', () => expect(vectors).toHaveLength(8));
  it.each(vectors)('$file: schemas and modelgate agree with the vector', ({ file, valid }) => {
    const bytes = read(OMS + file);
    const schema = schemaErrors(bytes);
    const verdict = verifyBundleSignature(bytes, trustFor(bytes));
    expect({ schema: schema ?? 'ok', modelgate: verdict.valid ? 'ok' : verdict.reason }).toEqual(
      valid
        ? { schema: 'ok', modelgate: 'ok' }
        : { schema: expect.not.stringMatching(/^ok$/), modelgate: expect.not.stringMatching(/^ok$/) },
    );
  });
});

describe('bundles modelgate signs pass the four OMS schemas', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'modelgate-oms-schema-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const model = join(tmp, 'model');
  mkdirSync(join(model, 'sub'), { recursive: true });
  writeFileSync(join(model, 'w.bin'), Buffer.alloc(3000, 1));
  writeFileSync(join(model, 'sub', 'c.json'), '{}');
  writeFileSync(join(model, 'empty'), '');
  const key = generateKeyPairSync('ec', { namedCurve: 'P-384' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();

  it.each([
    ['files, sha256', {}],
    ['shards', { method: 'shards', shardSize: 1024 }],
    ['blake3', { hashType: 'blake3' }],
    ['blake2b shards', { hashType: 'blake2b', method: 'shards', shardSize: 512 }],
    ['ignore paths', { ignorePaths: ['sub'] }],
  ] as const)('key method, %s', async (_name, options) => {
    const { bundle } = await signModel(model, loadSigner(key), { workers: 0, ...options });
    expect(schemaErrors(bundle)).toBeUndefined();
  });
  it('certificate method and a single-file model', async () => {
    const pki = await makePki();
    const { bundle } = await signModel(
      join(model, 'w.bin'),
      loadSigner(pki.leafKeyPem, pki.leafPem + pki.intermediatePem),
      {
        workers: 0,
      },
    );
    expect(schemaErrors(bundle)).toBeUndefined();
  });
});
