import { trustProblem } from '../signing/trust.ts';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryClusterView } from '../policy/cluster-view.ts';
import { compilePolicy, type CompiledPolicy } from '../policy/compile.ts';
import { decide } from '../policy/decide.ts';
import { PolicySet } from '../policy/policy-set.ts';
import type { CheckContext } from '../policy/types.ts';
import { extractModelReferences } from '../workloads/extract.ts';
import { verifierInjection } from './inject.ts';
import { applyJsonPatch } from './json-patch.test-support.ts';
import { createVerifierCheck, verifierDecideOptions } from './verifier-check.ts';
import type { VerifierConfig } from './verifier-config.ts';
import { VERIFIER_CONTAINER_NAME } from './verifier-container.ts';

type Obj = Record<string, unknown>;
const IMAGE = 'registry.example.com/modelgate:test';
const DIGEST = `sha256:${'c'.repeat(64)}`;
const pubPem = () =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();
const KEY_A = pubPem();
const KEY_B = pubPem();

function cluster(...objs: Obj[]): MemoryClusterView {
  const c = new MemoryClusterView();
  c.upsert({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ml', labels: { env: 'ml' } } });
  for (const o of objs) c.upsert(o);
  return c;
}

function compile(
  spec: Obj,
  c: MemoryClusterView,
  name = 'verified',
  kind = 'ClusterModelPolicy',
  namespace?: string,
): CompiledPolicy {
  const r = compilePolicy(
    {
      apiVersion: 'modelgate.io/v1alpha1',
      kind,
      metadata: { name, ...(namespace ? { namespace } : {}) },
      spec,
    },
    c,
    { controllerNamespace: 'modelgate-system', validateTrust: trustProblem },
  );
  if (!r.ok) throw new Error(r.message);
  return r.policy;
}

function pod(opts: { initContainers?: Obj[]; annotation?: unknown[]; volumes?: Obj[] } = {}): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'llm',
      namespace: 'ml',
      ...(opts.annotation ? { annotations: { 'modelgate.io/models': JSON.stringify(opts.annotation) } } : {}),
    },
    spec: {
      ...(opts.initContainers ? { initContainers: opts.initContainers } : {}),
      containers: [
        {
          name: 'server',
          image: 'vllm/vllm-openai:v0.6.0',
          args: ['--model', '/models/llama'],
          volumeMounts: [{ name: 'model', mountPath: '/models/llama' }],
        },
      ],
      volumes: opts.volumes ?? [
        { name: 'model', image: { reference: `registry.example.com/models/llama@sha256:${'b'.repeat(64)}` } },
      ],
    },
  };
}

const inject = (p: Obj, policies: CompiledPolicy[], c = cluster()) =>
  verifierInjection(p, { namespace: 'ml', policies, cluster: c, defaults: { image: IMAGE } });
const initContainers = (p: Obj) => ((p.spec as Obj).initContainers ?? []) as Obj[];
const configOf = (container: Obj) =>
  JSON.parse((container.env as Obj[])[0]!.value as string) as VerifierConfig;

function check(p: Obj, policy: CompiledPolicy, all: CompiledPolicy[] = [policy], c = cluster()) {
  const named = createVerifierCheck({ defaults: { image: IMAGE } });
  const workload = extractModelReferences(p)!;
  const ctx: CheckContext = {
    policy,
    workload,
    namespace: 'ml',
    sensitivity: 'low',
    cluster: c,
    policies: all,
  };
  return named.run(ctx);
}

describe('verifier injection', () => {
  const policy = compile(
    {
      verifier: { inject: true },
      formats: { deny: ['pickle'] },
      authorities: [{ name: 'release', key: { pem: KEY_A } }],
    },
    cluster(),
  );

  it('adds the hardened verifier first, with the model volume read-only and the contract config', () => {
    const p = pod({ annotation: [{ name: 'llama', volume: 'model', digest: DIGEST }] });
    const r = inject(p, [policy]);
    expect(r.refusals).toEqual([]);
    expect(r.patch).toEqual([{ op: 'add', path: '/spec/initContainers', value: expect.any(Object) }]);
    const patched = applyJsonPatch(p, r.patch);
    const [v] = initContainers(patched);
    expect(v).toMatchObject({
      name: VERIFIER_CONTAINER_NAME,
      image: IMAGE,
      command: ['modelgate'],
      args: ['verify', '--pod-config-env=MODELGATE_VERIFIER_CONFIG'],
      volumeMounts: [{ name: 'model', mountPath: '/models/model', readOnly: true }],
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'FallbackToLogsOnError',
      securityContext: {
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      },
    });
    expect(configOf(v!)).toEqual({
      version: 1,
      policies: ['ClusterModelPolicy/verified'],
      threshold: 1,
      denyFormats: ['pickle'],
      allowGlobals: [],
      authorities: [{ name: 'release', trust: { method: 'key', publicKeyPem: KEY_A } }],
      models: [
        { name: 'llama', volume: 'model', path: '/models/model', signature: 'model.sig', digest: DIGEST },
      ],
    });
  });

  it("leaves KServe's own digest pinning intact (internal.serving.kserve.io/verification-digest)", () => {
    const p = pod({ annotation: [{ name: 'llama', volume: 'model', digest: DIGEST }] });
    const meta = p.metadata as { annotations: Record<string, string> };
    meta.annotations['internal.serving.kserve.io/verification-digest'] = `sha256:${'a'.repeat(64)}`;
    const before = JSON.stringify(meta);
    const r = inject(p, [policy]);
    expect(r.patch.map((op) => op.path)).toEqual(['/spec/initContainers']);
    expect(JSON.stringify(applyJsonPatch(p, r.patch).metadata)).toBe(before);
  });

  it('is idempotent: an injected pod gets no patch and passes the check', () => {
    const p = pod();
    const once = applyJsonPatch(p, inject(p, [policy]).patch);
    expect(inject(once, [policy]).patch).toEqual([]);
    expect(check(once, policy)).toEqual([]);
    // The API server defaults imagePullPolicy after mutation: still the same verifier.
    initContainers(once)[0]!.imagePullPolicy = 'IfNotPresent';
    expect(inject(once, [policy]).patch).toEqual([]);
    expect(check(once, policy)).toEqual([]);
  });

  it('runs after KServe storage-initializer, which downloads the model', () => {
    const si = {
      name: 'storage-initializer',
      image: 'kserve/storage-initializer:v0.15.0',
      args: ['s3://bucket/model', '/mnt/models'],
      volumeMounts: [{ name: 'kserve-provision-location', mountPath: '/mnt/models' }],
    };
    const other = { name: 'setup', image: 'busybox' };
    const p = pod({
      initContainers: [other, si],
      volumes: [{ name: 'kserve-provision-location', emptyDir: {} }],
    });
    ((p.spec as Obj).containers as Obj[])[0]!.args = ['--model', '/mnt/models'];
    ((p.spec as Obj).containers as Obj[])[0]!.volumeMounts = [
      { name: 'kserve-provision-location', mountPath: '/mnt/models', readOnly: true },
    ];
    const r = inject(p, [policy]);
    expect(r.patch).toEqual([{ op: 'add', path: '/spec/initContainers/2', value: expect.any(Object) }]);
    const patched = applyJsonPatch(p, r.patch);
    expect(initContainers(patched).map((c) => c.name)).toEqual([
      'setup',
      'storage-initializer',
      VERIFIER_CONTAINER_NAME,
    ]);
    expect(check(patched, policy)).toEqual([]);
    // Injected before KServe added its initializer (webhook reinvocation): moved after it.
    const withSi = structuredClone(patched);
    const list = initContainers(withSi);
    list.unshift(list.pop()!);
    expect(check(withSi, policy)[0]?.message).toMatch(
      /position 1 .*right after init container 2 \(the last one that writes a model volume\)/,
    );
    const fixed = applyJsonPatch(withSi, inject(withSi, [policy]).patch);
    expect(initContainers(fixed).map((c) => c.name)).toEqual([
      'setup',
      'storage-initializer',
      VERIFIER_CONTAINER_NAME,
    ]);
  });

  it('mounts a declared subPath and carries inline and ConfigMap bundles', () => {
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'sigs', namespace: 'ml', labels: { 'modelgate.io/bundle': 'true' } },
      data: { 'b.sig': '{"bundle":1}' },
    };
    const c = cluster(cm);
    const p = pod({
      annotation: [
        { name: 'a', volume: 'pvc-a', subPath: 'models/a', digest: DIGEST, signature: { inline: 'e30=' } },
        {
          name: 'b',
          volume: 'pvc-b',
          digest: DIGEST,
          signature: { configMapRef: { name: 'sigs', key: 'b.sig' } },
        },
      ],
      volumes: [
        { name: 'pvc-a', persistentVolumeClaim: { claimName: 'a' } },
        { name: 'pvc-b', persistentVolumeClaim: { claimName: 'b' } },
      ],
    });
    ((p.spec as Obj).containers as Obj[])[0]!.args = [];
    const r = inject(p, [policy], c);
    const v = initContainers(applyJsonPatch(p, r.patch))[0]!;
    expect(v.volumeMounts).toEqual([
      { name: 'pvc-a', mountPath: '/models/pvc-a', readOnly: true, subPath: 'models/a' },
      { name: 'pvc-b', mountPath: '/models/pvc-b', readOnly: true },
    ]);
    expect(configOf(v).models).toEqual([
      { name: 'a', volume: 'pvc-a', path: '/models/pvc-a', inlineBundle: 'e30=', digest: DIGEST },
      {
        name: 'b',
        volume: 'pvc-b',
        path: '/models/pvc-b',
        inlineBundle: Buffer.from('{"bundle":1}').toString('base64'),
        digest: DIGEST,
      },
    ]);
  });

  it('passes the paths servers read inside a model, relative to its declared subPath (H65)', () => {
    const p = pod({
      annotation: [{ name: 'a', volume: 'model', subPath: 'llama', digest: DIGEST }],
      volumes: [{ name: 'model', persistentVolumeClaim: { claimName: 'models-a' } }],
    });
    const server = ((p.spec as Obj).containers as Obj[])[0]!;
    server.args = [
      '--model',
      '/models/llama/llama',
      '--tokenizer',
      '/models/llama/llama/tok',
      '--lora-modules',
      'x=/models/llama/llama/adapters/x',
      '--chat-template=/models/llama/llama/templates/chat.jinja',
      '--served-model-name',
      '/models/llama/other-model',
    ];
    server.env = [{ name: 'EXTRA', value: '{"path": "/models/llama/llama/extra.json"}' }];
    const v = initContainers(applyJsonPatch(p, inject(p, [policy]).patch))[0]!;
    // The model's root needs no check: any signature of the model covers it. Every path named inside the
    // model counts, whatever carries it; one outside the declared subPath is not the model's.
    expect(configOf(v).models[0]!.readPaths).toEqual([
      'adapters/x',
      'extra.json',
      'templates/chat.jinja',
      'tok',
    ]);
  });

  const CORP = `corp.example.com/verifier@sha256:${'d'.repeat(64)}`;
  it('uses the image and resources of a ClusterModelPolicy when it names them', () => {
    const custom = compile(
      { verifier: { inject: true, image: CORP, resources: { limits: { memory: '1Gi' } } } },
      cluster(),
      'custom',
    );
    const v = initContainers(applyJsonPatch(pod(), inject(pod(), [custom]).patch))[0]!;
    expect(v.image).toBe(CORP);
    expect(v.resources).toEqual({ limits: { memory: '1Gi' } });
    expect(configOf(v).threshold).toBe(0);
  });

  it('never takes the verifier image or resources from a ModelPolicy (a namespace cannot choose what verifies it)', () => {
    const tenant = compile(
      {
        verifier: {
          inject: true,
          image: `evil.example.com/noop@sha256:${'e'.repeat(64)}`,
          resources: { limits: { memory: '1Mi' } },
        },
      },
      cluster(),
      'mine',
      'ModelPolicy',
      'ml',
    );
    expect(tenant.ignoredFields).toEqual(['spec.verifier.image', 'spec.verifier.resources']);
    const cmp = compile({ verifier: { inject: true } }, cluster(), 'platform');
    for (const policies of [[tenant], [cmp, tenant], [tenant, cmp]]) {
      const v = initContainers(applyJsonPatch(pod(), inject(pod(), policies).patch))[0]!;
      expect(v.image).toBe(IMAGE);
      expect(v.resources).not.toEqual({ limits: { memory: '1Mi' } });
      // The validating side derives the same verifier from the policies, whatever the pod carries.
      const forged = applyJsonPatch(pod(), inject(pod(), policies).patch);
      initContainers(forged)[0]!.image = `evil.example.com/noop@sha256:${'e'.repeat(64)}`;
      expect(check(forged, tenant, policies)[0]?.message).toContain(
        'differs from the one the policies matching this pod require (image)',
      );
    }
  });

  it('refuses when two ClusterModelPolicies name different verifier images', () => {
    const a = compile({ verifier: { inject: true, image: CORP } }, cluster(), 'a');
    const b = compile(
      { verifier: { inject: true, image: `other.example.com/v@sha256:${'f'.repeat(64)}` } },
      cluster(),
      'b',
    );
    const r = inject(pod(), [a, b]);
    expect(r.patch).toEqual([]);
    expect(r.refusals[0]?.message).toContain('name different verifier images');
  });

  it('does nothing without an injecting policy or without a volume-delivered model', () => {
    const plain = compile({ requirePinned: true }, cluster(), 'plain');
    expect(inject(pod(), [plain])).toEqual({ patch: [], refusals: [] });
    const serverFetch = pod({ volumes: [] });
    ((serverFetch.spec as Obj).containers as Obj[])[0] = {
      name: 'server',
      image: 'vllm/vllm-openai:v0.6.0',
      args: ['--model', 'hf://org/model'],
    };
    expect(inject(serverFetch, [policy]).patch).toEqual([]);
  });

  it('refuses to copy a key Secret from another namespace into the pod', () => {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'release-pub', namespace: 'modelgate-system' },
      data: { 'cosign.pub': Buffer.from(KEY_A).toString('base64') },
    };
    const c = cluster(secret);
    const fromSecret = compile(
      {
        verifier: { inject: true },
        authorities: [{ name: 'release', key: { secretRef: { name: 'release-pub', key: 'cosign.pub' } } }],
      },
      c,
      'secret-key',
    );
    const r = inject(pod(), [fromSecret], c);
    expect(r.patch).toEqual([]);
    expect(r.refusals[0]?.message).toContain('Secret modelgate-system/release-pub');
    const findings = check(pod(), fromSecret, [fromSecret], c);
    expect(findings[0]).toMatchObject({ check: 'verifier' });
    expect(findings[0]?.message).toContain('never copied');
    // A ModelPolicy reading a Secret in the pod's own namespace is fine.
    const local = { ...secret, metadata: { name: 'release-pub', namespace: 'ml' } };
    const c2 = cluster(local);
    const own = compile(
      {
        verifier: { inject: true },
        authorities: [{ name: 'release', key: { secretRef: { name: 'release-pub', key: 'cosign.pub' } } }],
      },
      c2,
      'own',
      'ModelPolicy',
      'ml',
    );
    expect(inject(pod(), [own], c2).patch).toHaveLength(1);
  });

  it('refuses when two injecting policies trust different authorities', () => {
    const other = compile(
      { verifier: { inject: true }, authorities: [{ name: 'other', key: { pem: KEY_B } }] },
      cluster(),
      'other',
    );
    const r = inject(pod(), [policy, other]);
    expect(r.patch).toEqual([]);
    expect(r.refusals[0]?.message).toContain('trust different authorities');
    const same = compile(
      {
        verifier: { inject: true },
        formats: { deny: ['keras'] },
        authorities: [{ name: 'release', key: { pem: KEY_A } }],
      },
      cluster(),
      'same',
    );
    const v = initContainers(applyJsonPatch(pod(), inject(pod(), [policy, same]).patch))[0]!;
    expect(configOf(v).policies).toEqual(['ClusterModelPolicy/same', 'ClusterModelPolicy/verified']);
    expect(configOf(v).denyFormats).toEqual(['keras', 'pickle']);
  });

  it('allows a pickle global only when every injecting policy allows it', () => {
    const allowing = (name: string, globals: string[]) =>
      compile(
        {
          verifier: { inject: true },
          formats: { allowPickleGlobals: globals },
          authorities: [{ name: 'release', key: { pem: KEY_A } }],
        },
        cluster(),
        name,
      );
    const a = allowing('a', ['acme.prep.Clip', 'acme.prep.Scale']);
    const b = allowing('b', ['acme.prep.Scale']);
    const both = initContainers(applyJsonPatch(pod(), inject(pod(), [a, b]).patch))[0]!;
    expect(configOf(both).allowGlobals).toEqual(['acme.prep.Scale']);
    const withStrict = initContainers(applyJsonPatch(pod(), inject(pod(), [a, policy]).patch))[0]!;
    expect(configOf(withStrict).allowGlobals).toEqual([]);
    const alone = initContainers(applyJsonPatch(pod(), inject(pod(), [a]).patch))[0]!;
    expect(configOf(alone).allowGlobals).toEqual(['acme.prep.Clip', 'acme.prep.Scale']);
  });
});

describe('the verifier check (validating side)', () => {
  const policy = compile(
    { verifier: { inject: true }, authorities: [{ name: 'release', key: { pem: KEY_A } }] },
    cluster(),
  );
  const injected = () => applyJsonPatch(pod(), inject(pod(), [policy]).patch);

  it('refuses a pod whose verifier is missing', () => {
    expect(check(pod(), policy)[0]?.message).toContain('does not have it');
  });

  it.each([
    ['image', (v: Obj) => (v.image = 'evil/noop:latest')],
    [
      'env',
      (v: Obj) =>
        (v.env = [
          { name: 'MODELGATE_VERIFIER_CONFIG', value: JSON.stringify({ ...configOf(v), threshold: 0 }) },
        ]),
    ],
    [
      'env',
      (v: Obj) => (v.env as Obj[]).push({ name: 'NODE_OPTIONS', value: '--require /models/model/x.js' }),
    ],
    ['envFrom', (v: Obj) => (v.envFrom = [{ configMapRef: { name: 'x' } }])],
    ['args', (v: Obj) => (v.args = ['--version'])],
    ['command', (v: Obj) => (v.command = ['true'])],
    ['securityContext', (v: Obj) => (v.securityContext = { privileged: true })],
    ['volumeMounts', (v: Obj) => (v.volumeMounts = [])],
  ])('refuses a verifier whose %s was altered', (field, alter) => {
    const p = injected();
    alter(initContainers(p)[0]!);
    const f = check(p, policy);
    expect(f).toHaveLength(1);
    expect(f[0]!.message).toMatch(new RegExp(`${field}|does not check|configuration`));
  });

  it('refuses a verifier that is not first', () => {
    const p = injected();
    initContainers(p).unshift({ name: 'early', image: 'busybox', command: ['sh', '-c', 'cat /models/*'] });
    expect(check(p, policy)[0]?.message).toContain('position 2');
  });

  it('refuses a verifier whose config drops the policy', () => {
    const weak = compile({ verifier: { inject: true } }, cluster(), 'weak');
    const p = applyJsonPatch(pod(), inject(pod(), [weak]).patch);
    expect(check(p, policy, [policy, weak])[0]?.message).toContain(
      'differs from the one the policies matching this pod require (env)',
    );
  });

  it('runs through decide() as an extra check', () => {
    const set = new PolicySet([policy]);
    expect(
      decide({ operation: 'CREATE', object: pod(), namespace: 'ml' }, set, cluster(), {
        ...verifierDecideOptions({ image: IMAGE }),
      }).allowed,
    ).toBe(false);
    expect(
      decide({ operation: 'CREATE', object: injected(), namespace: 'ml' }, set, cluster(), {
        ...verifierDecideOptions({ image: IMAGE }),
      }).violations,
    ).toEqual([]);
  });
});
