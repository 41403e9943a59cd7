import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderCrds } from './crd.ts';
import { specSchema, type SchemaNode } from './schema.ts';
import type { ModelPolicySpec } from './types.ts';
import { celTwins, parsePolicy, validateAgainstSchema, type FieldError } from './validate.ts';

type DeepRequired<T> = T extends (infer U)[]
  ? DeepRequired<U>[]
  : T extends Record<string, string>
    ? T
    : T extends object
      ? { [K in keyof T]-?: DeepRequired<T[K]> }
      : T;

/**
 * Every field of the TypeScript type, present. DeepRequired makes the compiler insist on every field
 * of ModelPolicySpec, and object-literal checks forbid fields the type lacks; the tests below then
 * prove the schema has exactly these fields. So types and CRD cannot drift apart.
 */
const everyField: DeepRequired<ModelPolicySpec> = {
  enforcement: 'Warn',
  match: {
    namespaceSelector: {
      matchLabels: { env: 'prod' },
      matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }],
    },
    objectSelector: {
      matchLabels: { app: 'x' },
      matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['b'] }],
    },
    kinds: [{ group: 'apps', kind: 'Deployment' }],
  },
  sources: ['oci://registry.example.com/models/**'],
  requirePinned: true,
  allowedDigests: ['sha256:' + 'a'.repeat(64)],
  authorities: [
    {
      name: 'all-in-one',
      key: { pem: 'PEM', secretRef: { name: 's', namespace: 'n', key: 'k' } },
      certificate: { caBundle: 'PEM', identities: ['ml@example.com'] },
      keyless: {
        issuer: 'https://issuer',
        subject: 'a@b',
        subjectRegExp: '.*',
        trustedRootRef: { name: 'c', namespace: 'n', key: 'k' },
      },
    },
  ],
  threshold: 1,
  verifier: {
    inject: true,
    image: `reg.io/verifier@sha256:${'b'.repeat(64)}`,
    resources: { requests: { cpu: '1' }, limits: { memory: '1Gi' } },
  },
  formats: { deny: ['pickle'], allowPickleGlobals: ['mycompany.preprocessing.ClipOutliers'] },
  nonModelImages: [
    { repository: 'docker.io/istio/proxyv2', digest: 'sha256:' + 'c'.repeat(64), reason: 'mesh' },
  ],
  serverImages: [
    {
      repository: 'registry.example.com/mirror/vllm/vllm-openai',
      digest: 'sha256:' + 'd'.repeat(64),
      servers: ['vllm'],
      reason: 'mirror',
    },
  ],
  confidentialComputing: {
    when: { sensitivity: ['high'] },
    always: false,
    runtimeClassNames: ['kata-qemu-snp'],
    handlers: ['kata-qemu-snp'],
    requiredNodeLabels: [{ key: 'k', values: ['true'] }],
  },
  enforceUnchangedUpdates: true,
};

function schemaPaths(node: SchemaNode, path: string, out: Set<string>): Set<string> {
  for (const [k, child] of Object.entries(node.properties ?? {})) {
    out.add(`${path}.${k}`);
    schemaPaths(child.items ?? child, `${path}.${k}`, out);
  }
  return out;
}

function valuePaths(v: unknown, path: string, out: Set<string>, schema: SchemaNode): Set<string> {
  if (Array.isArray(v)) v.forEach((x) => valuePaths(x, path, out, schema));
  else if (typeof v === 'object' && v !== null && schema.properties) {
    for (const [k, x] of Object.entries(v)) {
      out.add(`${path}.${k}`);
      const child = schema.properties[k] ?? {};
      valuePaths(x, `${path}.${k}`, out, child.items ?? child);
    }
  }
  return out;
}

function collectRules(node: SchemaNode, out: string[] = []): string[] {
  for (const r of node['x-kubernetes-validations'] ?? []) out.push(r.rule);
  for (const c of Object.values(node.properties ?? {})) collectRules(c, out);
  if (node.items) collectRules(node.items, out);
  return out;
}

describe('policy API: TypeScript types and CRD schema agree', () => {
  it('the schema knows every field of the type (no unknown-field errors)', () => {
    const errors: FieldError[] = [];
    validateAgainstSchema(everyField, specSchema, 'spec', errors);
    // The example deliberately breaks one-of rules (it sets every alternative); only CEL messages may remain.
    expect(errors.filter((e) => e.message.startsWith('unknown field'))).toEqual([]);
  });

  it('the type has every field of the schema', () => {
    const inSchema = schemaPaths(specSchema, 'spec', new Set());
    const inType = valuePaths(everyField, 'spec', new Set(), specSchema);
    const matchLabelsMaps = [...inType].filter((p) => /matchLabels\.|requests\.|limits\./.test(p));
    for (const p of matchLabelsMaps) inType.delete(p);
    expect([...inSchema].sort()).toEqual([...inType].sort());
  });

  it('every CEL rule in the schema has a TypeScript twin for offline validation', () => {
    const rules = collectRules(specSchema);
    expect(rules.length).toBeGreaterThanOrEqual(6);
    for (const r of rules) expect(celTwins[r], r).toBeTypeOf('function');
  });

  it('crds/*.yaml are exactly what scripts/generate-crds.ts renders from the schema', () => {
    for (const f of renderCrds()) {
      const onDisk = readFileSync(join(import.meta.dirname, '..', '..', 'crds', f.fileName), 'utf8');
      expect(onDisk, `crds/${f.fileName} is stale: run npx tsx scripts/generate-crds.ts`).toBe(f.content);
    }
  });
});

const base = (spec: unknown, kind = 'ClusterModelPolicy', namespace?: string) => ({
  apiVersion: 'modelgate.io/v1alpha1',
  kind,
  metadata: { name: 'p', ...(namespace ? { namespace } : {}) },
  spec,
});

function errorsOf(spec: unknown, kind?: string, ns?: string): string[] {
  const r = parsePolicy(base(spec, kind, ns));
  return r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`);
}

describe('parsePolicy', () => {
  it('applies defaults: Enforce, not pinned, no injection', () => {
    const r = parsePolicy(base({ verifier: {} }));
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.policy.spec.enforcement).toBe('Enforce');
      expect(r.policy.spec.requirePinned).toBe(false);
      expect(r.policy.spec.verifier?.inject).toBe(false);
    }
  });

  it.each([
    [{ enforcement: 'Block' }, 'spec.enforcement: must be one of Enforce, Warn, Audit; got "Block"'],
    [{ requirePinned: 'yes' }, 'spec.requirePinned: must be true or false, not string "yes"'],
    [{ sourcez: [] }, 'spec.sourcez: unknown field'],
    [
      { authorities: [{ name: 'a' }] },
      'spec.authorities[0]: an authority needs exactly one of key, certificate or keyless',
    ],
    [
      { authorities: [{ name: 'a', key: { pem: 'x' }, certificate: { caBundle: 'y' } }] },
      'exactly one of key, certificate or keyless',
    ],
    [
      { authorities: [{ name: 'a', key: {} }] },
      'spec.authorities[0].key: key needs exactly one of pem or secretRef',
    ],
    [
      { authorities: [{ name: 'a', keyless: { issuer: 'i', trustedRootRef: { name: 'r', key: 'k' } } }] },
      'keyless needs exactly one of subject or subjectRegExp',
    ],
    [
      { authorities: [{ name: 'a', key: { pem: 'x' } }], threshold: 2 },
      'spec.threshold: threshold cannot exceed the number of authorities',
    ],
    [{ threshold: 1 }, 'spec.threshold: threshold cannot exceed the number of authorities'],
    [{ authorities: [{ name: 'A!', key: { pem: 'x' } }] }, 'spec.authorities[0].name: "A!" does not match'],
    [
      {
        authorities: [
          { name: 'a', key: { pem: 'x' } },
          { name: 'a', key: { pem: 'y' } },
        ],
      },
      'two items with the same name',
    ],
    [
      { confidentialComputing: { runtimeClassNames: ['kata-qemu-snp'] } },
      'exactly one of when or always: true',
    ],
    [
      { confidentialComputing: { always: true, when: { sensitivity: ['high'] }, runtimeClassNames: ['x'] } },
      'exactly one of when or always',
    ],
    [
      { confidentialComputing: { always: true, runtimeClassNames: [] } },
      'spec.confidentialComputing.runtimeClassNames: must have at least 1 item',
    ],
    [
      { confidentialComputing: { when: { sensitivity: ['secret'] }, runtimeClassNames: ['x'] } },
      'must be one of low, medium, high',
    ],
    [{ formats: { deny: ['pickle', 'pickle'] } }, 'spec.formats.deny: must not contain duplicates'],
    [{ formats: { deny: ['exe'] } }, 'spec.formats.deny[0]: must be one of pickle'],
    [{ allowedDigests: ['sha256:abc'] }, 'spec.allowedDigests[0]: "sha256:abc" does not match'],
    [
      { match: { namespaceSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } } },
      'values must be non-empty for In and NotIn',
    ],
    [
      {
        authorities: [
          {
            name: 'a',
            keyless: { issuer: 'i', subjectRegExp: '(', trustedRootRef: { name: 'r', key: 'k' } },
          },
        ],
      },
      'subjectRegExp: is not valid RE2 syntax',
    ],
  ])('rejects %j with a message naming the field', (spec, expected) => {
    expect(errorsOf(spec).join('\n')).toContain(expected);
  });

  it('a ModelPolicy needs a namespace and may not reference other namespaces', () => {
    expect(errorsOf({}, 'ModelPolicy').join()).toContain('metadata.namespace: a ModelPolicy is namespaced');
    expect(
      errorsOf(
        { authorities: [{ name: 'a', key: { secretRef: { name: 's', namespace: 'other', key: 'k' } } }] },
        'ModelPolicy',
        'ml',
      ).join(),
    ).toContain('may only reference objects in its own namespace');
  });

  it('rejects wrong apiVersion, kind and names', () => {
    const r = parsePolicy({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'Bad_Name' }, spec: {} });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.path)).toEqual(['apiVersion', 'kind', 'metadata.name']);
  });

  it('never throws on arbitrary input', async () => {
    const fc = await import('fast-check');
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (meta, spec) => {
        parsePolicy({
          apiVersion: 'modelgate.io/v1alpha1',
          kind: 'ClusterModelPolicy',
          metadata: meta,
          spec,
        });
        parsePolicy(spec);
      }),
      { numRuns: 500 },
    );
  });
});
