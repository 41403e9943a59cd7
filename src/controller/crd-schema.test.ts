import { describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import { expectedSchemaDigest, renderCrds, SCHEMA_DIGEST_ANNOTATION } from '../api/crd.ts';
import type { KubeObject } from '../kube/types.ts';
import { schemaState } from './crd-schema.ts';
import { desiredConditions } from './policy-status.ts';

const crd = (name: string, digest?: string): KubeObject => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name, ...(digest ? { annotations: { [SCHEMA_DIGEST_ANNOTATION]: digest } } : {}) },
});

describe("the installed CRD schema against the controller's", () => {
  it("is current when both CRDs carry this build's digests (the generated CRDs do)", () => {
    const generated = renderCrds().map(
      (f) => yaml.load(f.content) as { metadata: { name: string; annotations: Record<string, string> } },
    );
    expect(generated.map((c) => c.metadata.annotations[SCHEMA_DIGEST_ANNOTATION])).toEqual([
      expectedSchemaDigest('ClusterModelPolicy'),
      expectedSchemaDigest('ModelPolicy'),
    ]);
    const s = schemaState({
      ClusterModelPolicy: crd(
        'clustermodelpolicies.modelgate.io',
        expectedSchemaDigest('ClusterModelPolicy'),
      ),
      ModelPolicy: crd('modelpolicies.modelgate.io', expectedSchemaDigest('ModelPolicy')),
    });
    expect(s.current).toBe(true);
  });

  it('is outdated after helm upgrade left the old CRDs, and says how to fix it', () => {
    const s = schemaState({
      ClusterModelPolicy: crd('clustermodelpolicies.modelgate.io'),
      ModelPolicy: crd('modelpolicies.modelgate.io', 'sha256:old'),
    });
    expect(s.current).toBe(false);
    expect(s.message).toContain('installed by an older modelgate');
    expect(s.message).toContain('kubectl apply --server-side -f charts/modelgate/crds/');
  });

  it("every policy's status carries the answer", () => {
    const state = {
      id: 'ClusterModelPolicy/p',
      object: {
        apiVersion: 'modelgate.io/v1alpha1',
        kind: 'ClusterModelPolicy',
        metadata: { name: 'p', generation: 2 },
      },
      result: { ok: true, policy: { enforcement: 'Enforce', authorities: [], ignoredFields: [] } },
    } as unknown as Parameters<typeof desiredConditions>[0];
    expect(desiredConditions(state).map((c) => c.type)).toEqual(['Ready', 'KeysResolved']);
    expect(desiredConditions(state, { current: false, message: 'old' }).at(-1)).toMatchObject({
      type: 'CRDSchemaCurrent',
      status: 'False',
      reason: 'SchemaOutdated',
    });
  });
});
