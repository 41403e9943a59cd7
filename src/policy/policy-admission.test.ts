import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { trustProblem } from '../signing/trust.ts';
import { MemoryClusterView } from './cluster-view.ts';
import { admitPolicy } from './policy-admission.ts';

const KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .publicKey.export({ type: 'spki', format: 'pem' })
  .toString();
const opts = { controllerNamespace: 'modelgate-system', validateTrust: trustProblem };
const policy = (kind: string, spec: unknown, namespace?: string) => ({
  apiVersion: 'modelgate.io/v1alpha1',
  kind,
  metadata: { name: 'p', ...(namespace ? { namespace } : {}) },
  spec,
});
const admit = (o: unknown) => admitPolicy(o, new MemoryClusterView(), opts);

describe('admitting policies (the policy kinds validating webhook)', () => {
  it('admits a usable policy', () => {
    expect(admit(policy('ClusterModelPolicy', { authorities: [{ name: 'a', key: { pem: KEY } }] }))).toEqual({
      allowed: true,
      warnings: [],
    });
  });

  it('warns when match.kinds leaves out Pods (what runtimes and controllers put into pods goes unchecked)', () => {
    const kinds = (k: { group: string; kind: string }[]) =>
      admit(policy('ClusterModelPolicy', { match: { kinds: k }, requirePinned: true }));
    const isvc = { group: 'serving.kserve.io', kind: 'InferenceService' };
    expect(kinds([isvc])).toMatchObject({
      allowed: true,
      warnings: [expect.stringContaining('leaves out Pods')],
    });
    expect(kinds([isvc, { group: '', kind: 'Pod' }]).warnings).toEqual([]);
    expect(kinds([]).warnings).toEqual([]);
  });

  it('refuses trust material that is not what it claims, naming the authority', () => {
    const notAKey = '-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n';
    const r = admit(
      policy('ClusterModelPolicy', { authorities: [{ name: 'release', key: { pem: notAKey } }] }),
    );
    expect(r.allowed).toBe(false);
    expect(r.message).toMatch(/TrustMaterialInvalid.*spec\.authorities\[0\] \(release\)/);
    const ca = admit(
      policy('ClusterModelPolicy', { authorities: [{ name: 'pki', certificate: { caBundle: 'nothing' } }] }),
    );
    expect(ca.allowed).toBe(false);
    expect(ca.message).toContain('spec.authorities[0] (pki)');
  });

  it('refuses a ModelPolicy that sets what only cluster-scoped policy may set', () => {
    for (const spec of [
      { verifier: { inject: true, image: `evil.example.com/v@sha256:${'a'.repeat(64)}` } },
      { verifier: { resources: { limits: { memory: '1Mi' } } } },
      { nonModelImages: [{ repository: 'docker.io/**', reason: 'everything' }] },
      { serverImages: [{ repository: 'docker.io/**', servers: ['vllm'], reason: 'everything' }] },
    ]) {
      const r = admit(policy('ModelPolicy', spec, 'team-a'));
      expect(r.allowed).toBe(false);
      expect(r.message).toContain('only a ClusterModelPolicy may set');
      expect(admit(policy('ClusterModelPolicy', spec)).message ?? '').not.toContain(
        'only a ClusterModelPolicy',
      );
    }
  });

  it('refuses an identity pattern RE2 cannot run; admits unresolved references with a warning', () => {
    const re = admit(
      policy('ClusterModelPolicy', {
        authorities: [
          {
            name: 'ci',
            keyless: { issuer: 'https://i', subjectRegExp: '(?=x)', trustedRootRef: { name: 'r', key: 'k' } },
          },
        ],
      }),
    );
    expect(re.allowed).toBe(false);
    expect(re.message).toContain('RE2');
    const later = admit(
      policy('ClusterModelPolicy', {
        authorities: [{ name: 'a', key: { secretRef: { name: 'later', key: 'k' } } }],
      }),
    );
    expect(later.allowed).toBe(true);
    expect(later.warnings[0]).toContain('fails closed');
  });
});
