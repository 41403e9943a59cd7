import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  clusterView,
  compiled,
  deployment,
  DIGEST,
  namespace,
  pod,
  podSpec,
  policy,
  policySet,
  runtimeClass,
  withArgs,
  withImageVolume,
  withNodeSelector,
  withRuntimeClass,
} from '../../test/support/builders.ts';
import { decide, type DecideOptions } from './decide.ts';
import { PolicySet } from './policy-set.ts';
import type { BundleVerifier } from './signature-seam.ts';

const PINNED = `reg.example.com/models/llama@${DIGEST}`;
const SNP_LABEL = 'feature.node.kubernetes.io/cpu-security.sev.snp.enabled';
const cluster = clusterView(
  namespace('ml', { env: 'prod' }),
  namespace('dev', { env: 'dev' }),
  runtimeClass('kata-qemu-snp'),
  runtimeClass('kata-qemu-tdx'),
  runtimeClass('kata-qemu-coco-dev'),
  runtimeClass('kata-fake-snp', 'runc'),
);

const create = (object: unknown, ns = 'ml') => ({ operation: 'CREATE' as const, object, namespace: ns });
const run = (object: unknown, set: PolicySet, opts: DecideOptions = {}, view = cluster) =>
  decide(create(object), set, view, opts);
const checks = (d: ReturnType<typeof decide>) => d.violations.map((v) => v.check);

describe('decide: matching', () => {
  const p = policy('prod', {
    match: { namespaceSelector: { matchLabels: { env: 'prod' } } },
    requirePinned: true,
  });
  const unpinned = deployment('d', podSpec(withImageVolume('m', 'reg.example.com/models/llama:v1')));

  it('applies only in namespaces the selector matches', () => {
    expect(run(unpinned, policySet(p)).allowed).toBe(false);
    expect(decide(create(unpinned, 'dev'), policySet(p), cluster).allowed).toBe(true);
  });

  it('never blocks DELETE, CONNECT, subresources, exempt namespaces, non-model workloads and other kinds', () => {
    const set = policySet(policy('all', { requirePinned: true }));
    expect(decide({ operation: 'DELETE', object: unpinned, namespace: 'ml' }, set, cluster).allowed).toBe(
      true,
    );
    expect(decide({ operation: 'CONNECT', namespace: 'ml' }, set, cluster).allowed).toBe(true);
    expect(
      decide({ operation: 'UPDATE', object: unpinned, namespace: 'ml', subResource: 'scale' }, set, cluster)
        .allowed,
    ).toBe(true);
    expect(decide(create(unpinned, 'kube-system'), set, cluster).allowed).toBe(true);
    expect(run({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } }, set).allowed).toBe(true);
  });

  it('a ModelPolicy applies only in its own namespace; kinds and objectSelector narrow the match', () => {
    const set = policySet(policy('local', { requirePinned: true }, 'ModelPolicy', 'dev'));
    expect(run(unpinned, set).allowed).toBe(true);
    expect(decide(create(unpinned, 'dev'), set, cluster).allowed).toBe(false);
    const onlyPods = policySet(
      policy('pods', { requirePinned: true, match: { kinds: [{ group: '', kind: 'Pod' }] } }),
    );
    expect(run(unpinned, onlyPods).allowed).toBe(true);
    expect(
      run(pod('p', podSpec(withImageVolume('m', 'reg.example.com/models/llama:v1'))), onlyPods).allowed,
    ).toBe(false);
    const labelled = policySet(
      policy('team', { requirePinned: true, match: { objectSelector: { matchLabels: { team: 'ml' } } } }),
    );
    expect(run(unpinned, labelled).allowed).toBe(true);
    expect(
      run(deployment('d', podSpec(withImageVolume('m', 'r.io/m:v1')), { labels: { team: 'ml' } }), labelled)
        .allowed,
    ).toBe(false);
  });

  it('every matching policy applies; Warn admits with a warning; Audit admits silently', () => {
    const set = policySet(
      policy('warn', { enforcement: 'Warn', requirePinned: true }),
      policy('audit', { enforcement: 'Audit', sources: ['oci://other.io/**'] }),
    );
    const d = run(unpinned, set);
    expect(d.allowed).toBe(true);
    expect(d.policies).toEqual(['ClusterModelPolicy/audit', 'ClusterModelPolicy/warn']);
    expect(d.violations.map((v) => [v.policy, v.check, v.enforcement])).toEqual([
      ['ClusterModelPolicy/audit', 'source', 'Audit'],
      ['ClusterModelPolicy/warn', 'pinned', 'Warn'],
    ]);
    expect(d.warnings).toHaveLength(1);
    expect(d.warnings[0]).toMatch(
      /^\[ClusterModelPolicy\/warn\] pinned \(oci:\/\/reg.example.com\/models\/llama:v1\): .*Fix: pin/,
    );
  });
});

describe('decide: sources and pinning', () => {
  it('refuses a model from a source the policy does not list, naming the allowed ones', () => {
    const set = policySet(
      policy('src', { sources: ['oci://reg.example.com/models/**', 'hf://example-org/*'] }),
    );
    expect(run(deployment('ok', podSpec(withImageVolume('m', PINNED))), set).allowed).toBe(true);
    const d = run(deployment('bad', podSpec(withArgs('--model', 'evil-org/llama'))), set);
    expect(d.allowed).toBe(false);
    expect(d.violations[0]!.message).toContain('hf://evil-org/llama');
    expect(d.violations[0]!.message).toContain(
      'allowed: oci://reg.example.com/models/**, hf://example-org/*',
    );
    expect(run(deployment('hf', podSpec(withArgs('--model', 'example-org/llama'))), set).allowed).toBe(true);
  });

  it('requirePinned accepts digests and commits, refuses tags and branches', () => {
    const set = policySet(policy('pin', { requirePinned: true }));
    expect(run(deployment('a', podSpec(withImageVolume('m', PINNED))), set).allowed).toBe(true);
    expect(
      run(deployment('b', podSpec(withArgs('--model', 'org/m', '--revision', 'f'.repeat(40)))), set).allowed,
    ).toBe(true);
    const d = run(deployment('c', podSpec(withArgs('--model', 'org/m', '--revision', 'main'))), set);
    expect(d.violations[0]!.message).toContain('revision "main" is a branch or tag that can move');
  });

  it('a digest declared in the annotation pins only when the runtime verifier enforces it', () => {
    const ann = { 'modelgate.io/models': JSON.stringify([{ name: 'llama', volume: 'm', digest: DIGEST }]) };
    const w = deployment('d', podSpec(withImageVolume('m', 'reg.example.com/models/llama:v1')), {
      annotations: ann,
    });
    const noVerifier = run(w, policySet(policy('pin', { requirePinned: true })));
    expect(noVerifier.violations[0]!.message).toContain('does not inject the runtime verifier');
    expect(
      run(w, policySet(policy('pin', { requirePinned: true, verifier: { inject: true } }))).allowed,
    ).toBe(true);
  });

  it('unclassified references and malformed annotations are violations, not ignored', () => {
    const set = policySet(policy('any', {}));
    const spec = podSpec(withArgs('--model', '/data/m'));
    (spec.volumes as unknown[]).push({ name: 'data', hostPath: { path: '/srv' } });
    ((spec.containers as Record<string, unknown>[])[0]!.volumeMounts as unknown[]).push({
      name: 'data',
      mountPath: '/data',
    });
    const d = run(deployment('d', spec), set);
    expect(checks(d)).toEqual(['model-reference']);
    expect(d.violations[0]!.message).toContain('(hostPath)');
    const bad = run(deployment('e', podSpec(), { annotations: { 'modelgate.io/models': '{oops' } }), set);
    expect(checks(bad)).toEqual(['annotation']);
  });
});

describe('decide: signatures', () => {
  const bundleFor = (digest: string) => Buffer.from(JSON.stringify({ digest })).toString('base64');
  /** A fake verifier: the "bundle" names the digest it signs; key "good" verifies, anything else does not. */
  const fakeVerify: BundleVerifier = (bundle, trust) => {
    const { digest } = JSON.parse(Buffer.from(bundle).toString('utf8')) as { digest: string };
    if (trust.method === 'key' && trust.publicKeyPem === 'good')
      return {
        valid: true,
        signer: 'key good',
        statement: { subjectName: 'm', subjectDigest: { algorithm: 'sha256', hex: digest.slice(7) } },
      };
    return { valid: false, reason: 'signature does not verify with this key' };
  };
  const authorities = [{ name: 'release', key: { pem: 'good' } }];
  /** Signed models are bound to their files only by the runtime verifier, so signing policies inject it. */
  const verifier = { inject: true };
  const withBundle = (sig: object, digest = DIGEST) =>
    deployment('d', podSpec(withImageVolume('m', 'reg.example.com/models/llama:v1')), {
      annotations: {
        'modelgate.io/models': JSON.stringify([{ name: 'llama', volume: 'm', digest, signature: sig }]),
      },
    });

  it('verifies an inline bundle at admission and checks the signed digest is the pinned one', () => {
    const set = policySet(policy('sig', { authorities, verifier }));
    expect(run(withBundle({ inline: bundleFor(DIGEST) }), set, { verifyBundle: fakeVerify }).allowed).toBe(
      true,
    );
    const other = 'sha256:' + '9'.repeat(64);
    const d = run(withBundle({ inline: bundleFor(other) }), set, { verifyBundle: fakeVerify });
    expect(d.allowed).toBe(false);
    expect(d.violations[0]!.message).toContain(`is for model digest ${other}, not the declared ${DIGEST}`);
  });

  it('decodes a bundle once per request, however many policies and authorities check it', () => {
    const seen: Uint8Array[] = [];
    const recording: BundleVerifier = (b, t) => {
      seen.push(b);
      return fakeVerify(b, t);
    };
    const two = [...authorities, { name: 'backup', key: { pem: 'good' } }];
    const set = policySet(
      policy('a', { authorities: two, verifier }),
      policy('b', { authorities: two, verifier }),
    );
    expect(run(withBundle({ inline: bundleFor(DIGEST) }), set, { verifyBundle: recording }).allowed).toBe(
      true,
    );
    expect(seen).toHaveLength(4);
    expect(new Set(seen).size).toBe(1);
    run(withBundle({ inline: bundleFor(DIGEST) }), set, { verifyBundle: recording });
    expect(new Set(seen).size).toBe(2); // a new request decodes its own
  });

  it('reads bundles from labelled ConfigMaps in the workload namespace', () => {
    const set = policySet(policy('sig', { authorities, verifier }));
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'llama-sig', namespace: 'ml', labels: { 'modelgate.io/bundle': 'true' } },
      data: { 'model.sig': JSON.stringify({ digest: DIGEST }) },
    };
    const view = clusterView(namespace('ml'), cm);
    expect(
      decide(create(withBundle({ configMapRef: { name: 'llama-sig', key: 'model.sig' } })), set, view, {
        verifyBundle: fakeVerify,
      }).allowed,
    ).toBe(true);
    const missing = decide(
      create(withBundle({ configMapRef: { name: 'nope', key: 'model.sig' } })),
      set,
      view,
      { verifyBundle: fakeVerify },
    );
    expect(missing.violations[0]!.message).toContain(
      'ConfigMap ml/nope (labelled modelgate.io/bundle: "true") was not found',
    );
  });

  it('counts distinct authorities against the threshold', () => {
    const two = policySet(
      policy('two', {
        authorities: [...authorities, { name: 'other', key: { pem: 'bad' } }],
        threshold: 2,
        verifier,
      }),
    );
    const d = run(withBundle({ inline: bundleFor(DIGEST) }), two, { verifyBundle: fakeVerify });
    expect(d.allowed).toBe(false);
    expect(d.violations[0]!.message).toContain(
      'not signed by 2 of 2 trusted authorities (release, other): other: signature does not verify',
    );
  });

  it('defers bundles inside the volume to the runtime verifier, and refuses when it is off', () => {
    expect(
      run(
        withBundle({ path: 'model.sig' }),
        policySet(policy('s', { authorities, verifier: { inject: true } })),
      ).allowed,
    ).toBe(true);
    const d = run(withBundle({ path: 'model.sig' }), policySet(policy('s', { authorities })));
    expect(d.violations[0]!.message).toContain('only the runtime verifier can tie a signature');
    // A bundle at hand at admission is not bound to the mounted files either: the verifier is still needed.
    const inline = run(withBundle({ inline: bundleFor(DIGEST) }), policySet(policy('s', { authorities })), {
      verifyBundle: fakeVerify,
    });
    expect(inline.violations[0]!.message).toContain('only the runtime verifier can tie a signature');
  });

  it('refuses models the server downloads itself: no verifier can check them', () => {
    const d = run(
      deployment('d', podSpec(withArgs('--model', 'org/m'))),
      policySet(policy('s', { authorities, verifier: { inject: true } })),
    );
    expect(d.violations[0]!.message).toContain('downloaded by the model server itself at run time');
  });

  it('allowedDigests trust a pinned digest without a bundle', () => {
    const set = policySet(policy('s', { authorities, allowedDigests: [DIGEST] }));
    expect(run(deployment('d', podSpec(withImageVolume('m', PINNED))), set).allowed).toBe(true);
  });
});

describe('decide: confidential computing', () => {
  const cc = {
    when: { sensitivity: ['high' as const] },
    runtimeClassNames: ['kata-qemu-snp', 'kata-qemu-tdx'],
    requiredNodeLabels: [{ key: SNP_LABEL, values: ['true'] }],
  };
  const set = policySet(policy('cc', { confidentialComputing: cc }));
  const high = { labels: { 'modelgate.io/sensitivity': 'high' } };
  const model = withImageVolume('m', PINNED);
  const onTee = [model, withRuntimeClass('kata-qemu-snp'), withNodeSelector({ [SNP_LABEL]: 'true' })];

  it('admits a high-sensitivity model on a TEE runtime with the node labels', () => {
    expect(run(deployment('d', podSpec(...onTee), high), set).allowed).toBe(true);
  });

  it('does not apply to low-sensitivity workloads; sensitivity is a floor across namespace, object and template', () => {
    expect(run(deployment('d', podSpec(model)), set).allowed).toBe(true);
    const view = clusterView(
      namespace('ml', { 'modelgate.io/sensitivity': 'high' }),
      runtimeClass('kata-qemu-snp'),
    );
    expect(decide(create(deployment('d', podSpec(model))), set, view).allowed).toBe(false);
    // A workload cannot lower its namespace's sensitivity by labelling itself low.
    expect(
      decide(
        create(deployment('d', podSpec(model), { labels: { 'modelgate.io/sensitivity': 'low' } })),
        set,
        view,
      ).allowed,
    ).toBe(false);
    // The highest label wins, wherever it is: the pod template's label raises an object labelled low.
    const mixed = deployment('d', podSpec(model), { labels: { 'modelgate.io/sensitivity': 'low' } });
    (
      mixed.spec as Record<string, Record<string, Record<string, Record<string, string>>>>
    ).template!.metadata!.labels!['modelgate.io/sensitivity'] = 'high';
    (mixed.metadata as Record<string, Record<string, string>>).labels!['modelgate.io/sensitivity'] = 'low';
    expect(run(mixed, set).allowed).toBe(false);
  });

  it('refuses an ordinary runtime, a missing class, and a TEE-named class whose handler is runc', () => {
    expect(
      run(deployment('d', podSpec(model, withNodeSelector({ [SNP_LABEL]: 'true' })), high), set)
        .violations[0]!.message,
    ).toContain('runtimeClassName is not set');
    const runc = policySet(
      policy('cc', { confidentialComputing: { ...cc, runtimeClassNames: ['kata-fake-snp'] } }),
    );
    const d = run(
      deployment(
        'd',
        podSpec(model, withRuntimeClass('kata-fake-snp'), withNodeSelector({ [SNP_LABEL]: 'true' })),
        high,
      ),
      runc,
    );
    expect(d.violations[0]!.message).toContain('uses handler "runc"');
    const gone = run(
      deployment(
        'd',
        podSpec(model, withRuntimeClass('kata-qemu-tdx'), withNodeSelector({ [SNP_LABEL]: 'true' })),
        high,
      ),
      set,
      {},
      clusterView(namespace('ml')),
    );
    expect(gone.violations[0]!.message).toContain('RuntimeClass "kata-qemu-tdx" does not exist');
  });

  it('dev/debug runtimes never pass unless listed', () => {
    const d = run(
      deployment(
        'd',
        podSpec(model, withRuntimeClass('kata-qemu-coco-dev'), withNodeSelector({ [SNP_LABEL]: 'true' })),
        high,
      ),
      set,
    );
    expect(d.violations[0]!.message).toContain(
      '"kata-qemu-coco-dev" is not a confidential-computing runtime allowed',
    );
  });

  it('node labels must be in nodeSelector or in EVERY required affinity term', () => {
    const term = (key: string) => ({ matchExpressions: [{ key, operator: 'In', values: ['true'] }] });
    const withTerms =
      (...terms: object[]) =>
      (s: Record<string, unknown>) => {
        s.affinity = {
          nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } },
        };
      };
    expect(
      run(
        deployment('d', podSpec(model, withRuntimeClass('kata-qemu-snp'), withTerms(term(SNP_LABEL))), high),
        set,
      ).allowed,
    ).toBe(true);
    const escape = run(
      deployment(
        'd',
        podSpec(model, withRuntimeClass('kata-qemu-snp'), withTerms(term(SNP_LABEL), term('zone'))),
        high,
      ),
      set,
    );
    expect(escape.violations[0]!.message).toContain(
      `does not require the confidential-computing node labels ${SNP_LABEL} in (true)`,
    );
    const wrongValue = run(
      deployment(
        'd',
        podSpec(model, withRuntimeClass('kata-qemu-snp'), withNodeSelector({ [SNP_LABEL]: 'false' })),
        high,
      ),
      set,
    );
    expect(wrongValue.allowed).toBe(false);
  });

  it("a RuntimeClass's own scheduling.nodeSelector counts (it is merged into the pod)", () => {
    const view = clusterView(
      namespace('ml'),
      runtimeClass('kata-qemu-snp', 'kata-qemu-snp', { [SNP_LABEL]: 'true' }),
    );
    expect(
      decide(create(deployment('d', podSpec(model, withRuntimeClass('kata-qemu-snp')), high)), set, view)
        .allowed,
    ).toBe(true);
  });

  it('nodeName bypasses the scheduler and is refused', () => {
    const d = run(pod('p', { ...podSpec(...onTee), nodeName: 'gpu-node-1' }, high), set);
    expect(d.violations[0]!.message).toContain('nodeName is set to "gpu-node-1"');
  });

  it('an unknown sensitivity value is treated as high, with a warning', () => {
    const d = run(deployment('d', podSpec(model), { labels: { 'modelgate.io/sensitivity': 'secret' } }), set);
    expect(d.allowed).toBe(false);
    expect(d.warnings[0]).toContain('treats the workload as high-sensitivity');
  });

  it('kinds without a pod spec cannot prove placement and are refused', () => {
    const tm = {
      apiVersion: 'serving.kserve.io/v1alpha1',
      kind: 'TrainedModel',
      metadata: { name: 't', labels: high.labels },
      spec: { model: { storageUri: 'gs://b/m' } },
    };
    expect(run(tm, set).violations[0]!.message).toContain('carries no pod spec');
  });
});

describe('decide: updates', () => {
  const set = policySet(policy('pin', { requirePinned: true }));
  const old = deployment('d', podSpec(withImageVolume('m', 'reg.example.com/models/llama:v1')));

  it('an update that changes neither models nor placement is admitted with a warning', () => {
    const scaled = structuredClone(old) as { spec: { replicas: number } };
    scaled.spec.replicas = 5;
    const d = decide({ operation: 'UPDATE', object: scaled, oldObject: old, namespace: 'ml' }, set, cluster);
    expect(d.allowed).toBe(true);
    expect(d.warnings[0]).toContain('not enforced on this update');
  });

  it('an update that changes a model is enforced; so is any update when the policy says so', () => {
    const changed = deployment('d', podSpec(withImageVolume('m', 'reg.example.com/models/llama:v2')));
    expect(
      decide({ operation: 'UPDATE', object: changed, oldObject: old, namespace: 'ml' }, set, cluster).allowed,
    ).toBe(false);
    const strict = policySet(policy('pin', { requirePinned: true, enforceUnchangedUpdates: true }));
    expect(
      decide({ operation: 'UPDATE', object: old, oldObject: old, namespace: 'ml' }, strict, cluster).allowed,
    ).toBe(false);
  });
});

describe('decide: robustness', () => {
  it('a check that throws fails closed with the reason', () => {
    const d = run(deployment('d', podSpec(withImageVolume('m', PINNED))), policySet(policy('p', {})), {
      extraChecks: [
        {
          name: 'verifier',
          run: () => {
            throw new Error('boom');
          },
        },
      ],
    });
    expect(d.allowed).toBe(false);
    expect(d.violations[0]!.message).toContain('check "verifier" could not be evaluated: boom');
  });

  it('never throws on arbitrary objects, operations and policies', () => {
    const set = new PolicySet([
      compiled(
        policy('a', {
          requirePinned: true,
          sources: ['oci://**'],
          confidentialComputing: {
            always: true,
            runtimeClassNames: ['kata-qemu-snp'],
            requiredNodeLabels: [{ key: 'k', values: ['v'] }],
          },
        }),
      ),
      compiled(policy('b', { authorities: [{ name: 'k', key: { pem: 'good' } }], enforcement: 'Warn' })),
    ]);
    const kinds = [
      ['v1', 'Pod'],
      ['apps/v1', 'Deployment'],
      ['serving.kserve.io/v1beta1', 'InferenceService'],
      ['batch/v1', 'Job'],
    ];
    fc.assert(
      fc.property(
        fc.constantFrom('CREATE', 'UPDATE', 'DELETE', 'CONNECT'),
        fc.constantFrom(...kinds),
        fc.jsonValue(),
        fc.jsonValue(),
        fc.option(fc.jsonValue()),
        (operation, [apiVersion, kind], metadata, spec, oldObject) => {
          const d = decide(
            {
              operation: operation as 'CREATE',
              object: { apiVersion, kind, metadata, spec },
              oldObject,
              namespace: 'ml',
            },
            set,
            cluster,
            { verifyBundle: () => ({ valid: false, reason: 'no' }) },
          );
          expect(typeof d.allowed).toBe('boolean');
        },
      ),
      { numRuns: 1500 },
    );
  });
});

describe('decide: server images (a server is read as one only in an image known to ship it)', () => {
  const mirror = `registry.example.com/mirror/vllm-openai@sha256:${'e'.repeat(64)}`;
  const server = (image: string, command: string[]) =>
    pod('p', { containers: [{ name: 'server', image, command }] });
  const hub = ['vllm', 'serve', `example-org/llama`, '--revision', 'c'.repeat(40)];
  const base = { sources: ['hf://example-org/*'], requirePinned: true };
  const reasons = (d: ReturnType<typeof decide>) => d.violations.map((v) => v.message).join('\n');

  it("admits the server in its publisher's official image, by tag or by digest", () => {
    const set = policySet(policy('prod', base));
    for (const image of [
      'vllm/vllm-openai:v0.11.0',
      `docker.io/vllm/vllm-openai@${DIGEST}`,
      'ghcr.io/llm-d/llm-d-cuda:v0.3',
    ])
      expect(run(server(image, hub), set).allowed, image).toBe(true);
  });

  it('refuses it in any other image, naming the official images and the approval that would admit it', () => {
    const set = policySet(policy('prod', base));
    for (const image of [
      mirror,
      'docker.io/vllm/vllm-openai-evil:v1',
      'docker.io/vllmx/vllm-openai:v1',
      'python:3.12',
    ]) {
      const d = run(server(image, hub), set);
      expect(d.allowed, image).toBe(false);
      expect(checks(d)).toEqual(['container']);
      expect(reasons(d)).toContain('docker.io/vllm/vllm-openai');
      expect(d.violations[0]!.remediation).toContain('spec.serverImages of ClusterModelPolicy prod');
      expect(d.violations[0]!.remediation).toContain('servers: [vllm]');
    }
  });

  it('an approval names the servers the image ships: by repository glob or by digest', () => {
    const byRepo = policySet(
      policy('prod', {
        ...base,
        serverImages: [{ repository: 'registry.example.com/mirror/**', servers: ['vllm'], reason: 'mirror' }],
      }),
    );
    expect(run(server(mirror, hub), byRepo).allowed).toBe(true);
    // Approved as vLLM, not as Triton or SGLang.
    expect(run(server(mirror, ['tritonserver', '--model-repository=/m']), byRepo).allowed).toBe(false);
    expect(
      run(
        server(mirror, [
          'python3',
          '-m',
          'sglang.launch_server',
          '--model-path',
          'example-org/llama',
          '--revision',
          'c'.repeat(40),
        ]),
        byRepo,
      ).allowed,
    ).toBe(false);
    const byDigest = policySet(
      policy('prod', {
        ...base,
        serverImages: [
          { digest: `sha256:${'e'.repeat(64)}`, servers: ['vllm', 'sglang'], reason: 'our build' },
        ],
      }),
    );
    expect(run(server(mirror, hub), byDigest).allowed).toBe(true);
    expect(run(server(mirror.replace(/e{64}$/, 'f'.repeat(64)), hub), byDigest).allowed).toBe(false);
  });

  it("one policy's approval does not satisfy another; a ModelPolicy's is ignored", () => {
    const approving = policy('a', {
      ...base,
      serverImages: [{ repository: 'registry.example.com/mirror/**', servers: ['vllm'], reason: 'mirror' }],
    });
    expect(run(server(mirror, hub), policySet(approving, policy('b', base))).allowed).toBe(false);
    const tenant = policy(
      't',
      { ...base, serverImages: [{ repository: '**', servers: ['vllm'], reason: 'everything' }] },
      'ModelPolicy',
      'ml',
    );
    const d = run(server(mirror, hub), policySet(tenant));
    expect(d.allowed).toBe(false);
    expect(d.violations[0]!.remediation).toContain('a ModelPolicy cannot approve server images');
  });

  it('a KServe container without an image is judged where KServe fills the image in: in the Pod', () => {
    const llmisvc = {
      apiVersion: 'serving.kserve.io/v1alpha1',
      kind: 'LLMInferenceService',
      metadata: { name: 'l', namespace: 'ml' },
      spec: {
        model: { uri: `hf://example-org/llama` },
        template: { containers: [{ name: 'main', command: ['vllm', 'serve', '/mnt/models'] }] },
      },
    };
    const d = run(llmisvc, policySet(policy('prod', base)));
    expect(checks(d)).not.toContain('container');
    const withImage = structuredClone(llmisvc);
    (withImage.spec.template.containers[0] as Record<string, unknown>).image = 'python:3.12';
    expect(checks(run(withImage, policySet(policy('prod', base))))).toContain('container');
  });

  it('a downloader in an image its publisher does not ship may write every volume it mounts writable', () => {
    const spec = (image: string) =>
      pod('p', {
        initContainers: [
          {
            name: 'fetch',
            image,
            command: ['aws', 's3', 'cp', '--recursive', 's3://models-prod/llama', '/mnt/models'],
            volumeMounts: [
              { name: 'models', mountPath: '/mnt/models' },
              { name: 'shared', mountPath: '/shared' },
            ],
          },
        ],
        containers: [
          {
            name: 'server',
            image: 'kserve/huggingfaceserver:v0.15.0',
            args: ['--model_dir=/mnt/models'],
            volumeMounts: [
              { name: 'models', mountPath: '/mnt/models', readOnly: true },
              { name: 'shared', mountPath: '/shared', readOnly: true },
            ],
          },
        ],
        volumes: [
          { name: 'models', emptyDir: {} },
          { name: 'shared', emptyDir: {} },
        ],
      });
    const set = policySet(policy('prod', { sources: ['s3://models-prod/**'], verifier: { inject: true } }));
    const official = run(spec('amazon/aws-cli:2.22.0'), set);
    const other = run(spec('registry.example.com/tools/aws@sha256:' + 'e'.repeat(64)), set);
    expect(reasons(other)).toMatch(/may write every volume it mounts writable\) into volume "shared"/);
    expect(reasons(official)).not.toContain('volume "shared"');
  });
});
