// The audit must reach the webhook's verdict: same decision core, same signature verifier.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  clusterView,
  deployment,
  namespace,
  podSpec,
  policy,
  policySet,
  withImageVolume,
} from '../../test/support/builders.ts';
import { DEFAULT_EXEMPT_NAMESPACES } from '../policy/decide.ts';
import { VerdictCache } from '../signing/index.ts';
import type { KubeObject } from '../kube/types.ts';
import { auditWorkload } from './audit-evaluate.ts';

const EX = join(import.meta.dirname, '..', '..', 'examples');
const bundle = readFileSync(join(EX, 'model', 'model.sig'));
const pem = readFileSync(join(EX, 'keys', 'ml-release.pub'), 'utf8');
const SIGNED = 'sha256:92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4';

describe('auditWorkload', () => {
  const snapshot = {
    policies: policySet(
      policy('signed', { authorities: [{ name: 'ml-release', key: { pem } }], verifier: { inject: true } }),
    ),
    cluster: clusterView(namespace('ml')),
    errors: [],
  };
  const workload = deployment('d', podSpec(withImageVolume('m', 'registry.example.com/models/m:v1')), {
    annotations: {
      'modelgate.io/models': JSON.stringify([
        { name: 'm', volume: 'm', digest: SIGNED, signature: { inline: bundle.toString('base64') } },
      ]),
    },
  }) as unknown as KubeObject;

  it('verifies inline bundles like the webhook does, so an admitted workload is not reported', () => {
    const verdicts = new VerdictCache();
    const a = auditWorkload(workload, snapshot, DEFAULT_EXEMPT_NAMESPACES, (b, t) => verdicts.verify(b, t));
    expect(a?.policies).toEqual(['ClusterModelPolicy/signed']);
    expect(a?.violations).toEqual([]);
  });

  it('without a verifier it cannot tell, and says so (fail closed)', () => {
    const a = auditWorkload(workload, snapshot, DEFAULT_EXEMPT_NAMESPACES);
    expect(a?.violations.map((v) => v.message).join()).toContain('signature verification is not available');
  });
});

describe('reports say which evidence verified each model', () => {
  it('admission-oci for a model proven by a signature in the registry', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { loadSigner } = await import('../signing/sign.ts');
    const { signOciManifest } = await import('../oci/signed-manifest.ts');
    const { CLEAN_SCAN, evidenceConfigMap, imageManifestBytes, recordFor } =
      await import('../oci/oci-images.test-support.ts');
    const { digestOf } = await import('../oci/manifest.ts');
    const { MemoryClusterView } = await import('../policy/cluster-view.ts');
    const { reportResults } = await import('./audit-evaluate.ts');
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signer = loadSigner(keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const manifest = imageManifestBytes('model.safetensors');
    const view = new MemoryClusterView({ evidenceNamespace: 'modelgate-system' });
    view.upsert(namespace('ml'));
    view.upsert(
      evidenceConfigMap(
        recordFor(manifest, [signOciManifest(manifest, signer, 'm').bundle], { scan: CLEAN_SCAN }),
      ),
    );
    const pubPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const snap = {
      policies: policySet(policy('oci', { authorities: [{ name: 'release', key: { pem: pubPem } }] })),
      cluster: view,
      errors: [],
    };
    const cache = new VerdictCache();
    const d = deployment(
      'd',
      podSpec(withImageVolume('m', `registry.example.com/models/llama@${digestOf(manifest)}`)),
    );
    const a = auditWorkload(d as unknown as KubeObject, snap, DEFAULT_EXEMPT_NAMESPACES, (b, t) =>
      cache.verify(b, t),
    );
    expect(a?.violations).toEqual([]);
    const pass = reportResults(a!, 0).find((r) => r.result === 'pass');
    expect(pass?.properties?.evidence).toMatch(
      /^oci:\/\/registry.example.com\/models\/llama@sha256:[0-9a-f]{64}: admission-oci \(manifest sha256:.* signed by release: key sha256:/,
    );
  });
});
