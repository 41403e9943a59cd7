import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { kserveModelcarPod } from '../../test/support/builders.ts';
import { main } from './main.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const EX = join(ROOT, 'examples');

async function check(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    return { code: await main(['check', ...args]), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

const tmp = () => mkdtempSync(join(tmpdir(), 'modelgate-check-'));

describe('modelgate check', () => {
  it('evaluates the examples: exit 1 with the denied ones explained', async () => {
    const r = await check(
      '--policy',
      join(EX, 'policies'),
      '--cluster',
      join(EX, 'cluster.yaml'),
      join(EX, 'workloads'),
    );
    expect(r.code).toBe(1);
    expect(r.out).toContain('Deployment ml-prod/sentiment-signed: admitted');
    expect(r.out).toContain('Deployment ml-prod/fraud-model-confidential: admitted');
    expect(r.out).toContain('Deployment ml-prod/chat-unpinned: DENIED');
    expect(r.out).toMatch(
      /DENY ClusterModelPolicy\/production-models · source · hf:\/\/random-user\/llama-finetune:main\n\s+why: .*not from an allowed source/,
    );
    expect(r.out).toContain('Deployment ml-prod/storefront: admitted');
    expect(r.out).toContain('Deployment ml-prod/chat-script: DENIED');
    expect(r.out).toContain('7 workload(s) checked against 1 policy: 3 admitted, 4 denied.');
  });

  it('--output json prints exactly one JSON object', async () => {
    const r = await check(
      '--output',
      'json',
      '--policy',
      join(EX, 'policies'),
      '--cluster',
      join(EX, 'cluster.yaml'),
      join(EX, 'workloads', 'sensitive-ordinary.yaml'),
    );
    const parsed = JSON.parse(r.out) as {
      results: {
        kind: string;
        namespace: string;
        name: string;
        allowed: boolean;
        violations: { policy: string; check: string; message: string }[];
      }[];
    };
    expect(parsed.results).toHaveLength(1);
    const [res] = parsed.results;
    expect(res).toMatchObject({
      kind: 'Deployment',
      namespace: 'ml-prod',
      name: 'fraud-model-ordinary',
      allowed: false,
      warnings: [],
    });
    expect(res!.violations.map((v) => v.check)).toEqual(['confidential-computing', 'confidential-computing']);
    expect(r.code).toBe(1);
  });

  it('exit 0 when everything is admitted; reads kind: List', async () => {
    const d = tmp();
    writeFileSync(
      join(d, 'list.yaml'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: 'p', namespace: 'ml-prod' },
            spec: {
              containers: [
                { name: 'c', image: 'vllm/vllm-openai:v0.11.0', command: ['vllm', 'serve', 'example-org/m'] },
              ],
            },
          },
        ],
      }),
    );
    writeFileSync(
      join(d, 'policy.yaml'),
      'apiVersion: modelgate.io/v1alpha1\nkind: ClusterModelPolicy\nmetadata: {name: src}\nspec: {sources: ["hf://example-org/*"]}\n',
    );
    const r = await check('--policy', join(d, 'policy.yaml'), join(d, 'list.yaml'));
    expect(r.out).toContain('Pod ml-prod/p: admitted');
    expect(r.code).toBe(0);
  });

  it('exit 2 on an invalid policy, naming the file and the field', async () => {
    const d = tmp();
    writeFileSync(
      join(d, 'bad.yaml'),
      'apiVersion: modelgate.io/v1alpha1\nkind: ClusterModelPolicy\nmetadata: {name: bad}\nspec: {enforcement: Block}\n',
    );
    const r = await check('--policy', join(d, 'bad.yaml'), join(EX, 'workloads'));
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      `invalid policy in ${join(d, 'bad.yaml')} (document 1): spec.enforcement: must be one of Enforce, Warn, Audit; got "Block"`,
    );
  });

  it('exit 2 on unreadable input and on bad flags', async () => {
    expect((await check('--policy', '/nonexistent', join(EX, 'workloads'))).err).toContain(
      '/nonexistent: no such file or directory',
    );
    const d = tmp();
    writeFileSync(join(d, 'broken.yaml'), 'a: [unclosed');
    const r = await check('--policy', join(EX, 'policies'), join(d, 'broken.yaml'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('broken.yaml: not valid YAML');
    expect((await check(join(EX, 'workloads'))).code).toBe(2);
    expect((await check('--output', 'xml', '--policy', 'x', 'y')).code).toBe(2);
  });
});

describe('modelgate check and registry evidence (OCI)', () => {
  it('says registry evidence is out of its reach offline, and uses the records given in --cluster', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const yaml = (await import('js-yaml')).default;
    const { loadSigner } = await import('../signing/sign.ts');
    const { signOciManifest } = await import('../oci/signed-manifest.ts');
    const { CLEAN_SCAN, evidenceConfigMap, imageManifestBytes, recordFor } =
      await import('../oci/oci-images.test-support.ts');
    const { digestOf } = await import('../oci/manifest.ts');
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const manifest = imageManifestBytes('model.safetensors');
    const ref = `registry.example.com/models/llama@${digestOf(manifest)}`;
    const dir = tmp();
    const pem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    writeFileSync(
      join(dir, 'policy.yaml'),
      yaml.dump({
        apiVersion: 'modelgate.io/v1alpha1',
        kind: 'ClusterModelPolicy',
        metadata: { name: 'oci' },
        spec: {
          authorities: [{ name: 'release', key: { pem } }],
          nonModelImages: [{ repository: 'docker.io/kserve/huggingfaceserver', reason: 'test' }],
        },
      }),
    );
    writeFileSync(join(dir, 'pod.yaml'), yaml.dump(kserveModelcarPod(ref)));
    const offline = await check('--policy', join(dir, 'policy.yaml'), join(dir, 'pod.yaml'));
    expect(offline.code).toBe(1);
    expect(offline.out).toMatch(
      /registry evidence: none at hand for oci:\/\/registry.example.com\/models\/llama@sha256:/,
    );
    expect(offline.out).toMatch(
      /modelgate check runs offline: signatures stored in the registry are out of its reach/,
    );
    const signer = loadSigner(keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const record = recordFor(manifest, [signOciManifest(manifest, signer, 'm').bundle], { scan: CLEAN_SCAN });
    writeFileSync(join(dir, 'cluster.yaml'), yaml.dump(evidenceConfigMap(record)));
    const withRecords = await check(
      '--policy',
      join(dir, 'policy.yaml'),
      '--cluster',
      join(dir, 'cluster.yaml'),
      join(dir, 'pod.yaml'),
    );
    expect(withRecords.out).toMatch(
      /evidence ClusterModelPolicy\/oci · oci:\/\/registry.example.com\/models\/llama@sha256:[0-9a-f]+: admission-oci/,
    );
    expect(withRecords.code).toBe(0);
  });
});
