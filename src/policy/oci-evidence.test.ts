import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { kserveModelcarPod, namespace, policy, pod } from '../../test/support/builders.ts';
import { planVerifier, verifierDecideOptions } from '../mutation/index.ts';
import {
  CLEAN_SCAN,
  evidenceConfigMap,
  imageManifestBytes,
  recordFor,
} from '../oci/oci-images.test-support.ts';
import { digestOf } from '../oci/manifest.ts';
import type { OciEvidenceRecord } from '../oci/evidence.ts';
import { VerdictCache } from '../signing/cache.ts';
import { signOciManifest } from '../oci/signed-manifest.ts';
import { loadSigner } from '../signing/sign.ts';
import { MemoryClusterView } from './cluster-view.ts';
import { compilePolicy } from './compile.ts';
import { decide } from './decide.ts';
import { PolicySet } from './policy-set.ts';
import { extractModelReferences } from '../workloads/extract.ts';

type Obj = Record<string, unknown>;

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    signer: loadSigner(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
    pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
const release = keyPair();
const other = keyPair();

const MANIFEST = imageManifestBytes('model.safetensors', 'tokenizer.json');
const DIGEST = digestOf(MANIFEST);
const REF = `registry.example.com/models/llama@${DIGEST}`;
const signed = signOciManifest(MANIFEST, release.signer, 'llama').bundle;
const VERIFIER = `registry.example.com/modelgate@sha256:${'e'.repeat(64)}`;

function setOf(...specs: Obj[]) {
  return new PolicySet(
    specs.map((spec, i) => {
      const r = compilePolicy(policy(`p${i}`, spec), new MemoryClusterView(), {
        controllerNamespace: 'modelgate-system',
        validateTrust: () => undefined,
      });
      if (!r.ok) throw new Error(r.message);
      return r.policy;
    }),
  );
}
const signedBy = (pem: string, extra: Obj = {}) => ({
  authorities: [{ name: 'release', key: { pem } }],
  ...extra,
});

function viewWith(...records: OciEvidenceRecord[]) {
  const v = new MemoryClusterView({ evidenceNamespace: 'modelgate-system', evidenceResolved: true });
  v.upsert(namespace('ml'));
  for (const r of records) v.upsert(evidenceConfigMap(r));
  return v;
}

const imageVolumePod = (reference = REF) =>
  pod('p', {
    containers: [
      {
        name: 'server',
        image: `vllm/vllm-openai@sha256:${'a'.repeat(64)}`,
        args: ['--model', '/mnt/m'],
        volumeMounts: [{ name: 'm', mountPath: '/mnt/m', readOnly: true }],
      },
    ],
    volumes: [{ name: 'm', image: { reference } }],
  });

const modelcarPod = (reference = REF) => kserveModelcarPod(reference);

const cache = new VerdictCache();
const verifyBundle = (b: Uint8Array, t: Parameters<VerdictCache['verify']>[1]) => cache.verify(b, t);
const judge = (object: Obj, set: PolicySet, view: MemoryClusterView) =>
  decide({ operation: 'CREATE', object, namespace: 'ml' }, set, view, {
    verifyBundle,
    ...verifierDecideOptions({ image: VERIFIER }),
  });
const plan = (object: Obj, set: PolicySet, view: MemoryClusterView) =>
  planVerifier({
    workload: extractModelReferences(object)!,
    namespace: 'ml',
    policies: set.policies,
    cluster: view,
    defaults: { image: VERIFIER },
    verifyBundle,
  });

describe('admission-time OCI evidence', () => {
  it('a signed, scanned image volume is verified at admission: no verifier, no re-hash', () => {
    const set = setOf(signedBy(release.pem, { verifier: { inject: true } }));
    const view = viewWith(recordFor(MANIFEST, [signed], { scan: CLEAN_SCAN }));
    const d = judge(imageVolumePod(), set, view);
    expect(d.violations).toEqual([]);
    expect(d.allowed).toBe(true);
    expect(d.evidence).toEqual([
      expect.objectContaining({
        kind: 'admission-oci',
        model: `oci://${REF}`,
        policy: 'ClusterModelPolicy/p0',
      }),
    ]);
    expect(d.evidence![0]!.detail).toMatch(/signed by release: key sha256:/);
    expect(plan(imageVolumePod(), set, view).kind).toBe('none');
  });

  it('without verifier.inject too (the runtime enforces the digest; the controller scanned it)', () => {
    const set = setOf(signedBy(release.pem));
    const view = viewWith(recordFor(MANIFEST, [signed], { scan: CLEAN_SCAN }));
    expect(judge(imageVolumePod(), set, view).allowed).toBe(true);
    expect(judge(modelcarPod(), set, view).allowed).toBe(true);
  });

  it('a signature the controller could not scan behind: the verifier scans, nothing is re-hashed', () => {
    const set = setOf(signedBy(release.pem, { verifier: { inject: true } }));
    const view = viewWith(
      recordFor(MANIFEST, [signed], { scan: { ...CLEAN_SCAN, status: 'incomplete', reason: 'zstd' } }),
    );
    // Admitted once the mutating webhook has added the scan-only verifier (the pod as written lacks it).
    const d = judge(imageVolumePod(), set, view);
    expect(d.violations.map((v) => v.check)).toEqual(['verifier']);
    expect(d.evidence?.[0]?.detail).toMatch(/scanned at pod start \(zstd\)/);
    const p = plan(imageVolumePod(), set, view);
    expect(p.kind).toBe('inject');
    if (p.kind === 'inject')
      expect(p.config.models).toEqual([{ name: 'm', volume: 'm', path: '/models/m', scanOnly: true }]);
    // A modelcar cannot be scanned at pod start: refused with the reason.
    const mc = judge(modelcarPod(), set, view);
    expect(mc.allowed).toBe(false);
    expect(mc.violations.map((v) => v.message).join()).toMatch(/could not scan its layers: zstd/);
  });

  it('refuses a modelcar whose manifest is unsigned, signed by another key, or signed over other content', () => {
    const set = setOf(signedBy(release.pem));
    const cases: [OciEvidenceRecord, RegExp][] = [
      [recordFor(MANIFEST, [], { scan: CLEAN_SCAN }), /no model-signing signature over manifest/],
      [
        recordFor(MANIFEST, [signOciManifest(MANIFEST, other.signer, 'x').bundle], { scan: CLEAN_SCAN }),
        /release: public key mismatch/,
      ],
      [
        recordFor(
          MANIFEST,
          [signOciManifest(imageManifestBytes('model.safetensors'), release.signer, 'x').bundle],
          { scan: CLEAN_SCAN },
        ),
        /covers other content/,
      ],
    ];
    for (const [record, why] of cases) {
      const d = judge(modelcarPod(), set, viewWith(record));
      expect(d.allowed).toBe(false);
      expect(
        d.violations
          .filter((v) => v.check === 'signature')
          .map((v) => v.message)
          .join(),
      ).toMatch(why);
    }
  });

  it('an unsigned image volume falls back to the runtime verifier (re-hash), as before', () => {
    const set = setOf(signedBy(release.pem, { verifier: { inject: true } }));
    const view = viewWith(recordFor(MANIFEST, [], { scan: CLEAN_SCAN }));
    const d = judge(imageVolumePod(), set, view);
    expect(d.allowed).toBe(false); // the pod lacks the verifier the policy requires
    expect(d.violations.map((v) => v.check)).toEqual(['verifier']);
    expect(d.evidence?.map((e) => e.kind)).toEqual(['runtime-hash']);
    const p = plan(imageVolumePod(), set, view);
    expect(p.kind === 'inject' && p.config.models[0]!.scanOnly).toBeUndefined();
  });

  it('no record yet: "verification pending, retry" and a miss for the controller', () => {
    const set = setOf(signedBy(release.pem));
    const d = judge(modelcarPod(), set, viewWith());
    expect(d.allowed).toBe(false);
    expect(d.violations.map((v) => v.message).join()).toMatch(/verification pending.*retry in a few seconds/);
    expect(d.ociMisses).toEqual([{ digest: DIGEST, uri: `oci://${REF}` }]);
  });

  it('a record the registry could not give (outage before any resolution) refuses, naming the failure', () => {
    const set = setOf(signedBy(release.pem));
    const view = viewWith({
      version: 1,
      digest: DIGEST,
      repository: 'r/m',
      checkedAt: 1,
      error: 'cannot reach r: ECONNREFUSED',
    });
    const d = judge(modelcarPod(), set, view);
    expect(d.allowed).toBe(false);
    expect(d.violations.map((v) => v.message).join()).toMatch(/ECONNREFUSED/);
  });

  it('a record kept through an outage keeps serving its positive verdict', () => {
    const set = setOf(signedBy(release.pem));
    const record = {
      ...recordFor(MANIFEST, [signed], { scan: CLEAN_SCAN }),
      error: 'cannot reach r: ECONNREFUSED',
      checkedAt: 99,
    };
    expect(judge(modelcarPod(), set, viewWith(record)).allowed).toBe(true);
  });

  it('threshold 2 needs two distinct authorities over the same manifest', () => {
    const two = {
      authorities: [
        { name: 'release', key: { pem: release.pem } },
        { name: 'qa', key: { pem: other.pem } },
      ],
      threshold: 2,
    };
    const set = setOf(two);
    expect(
      judge(modelcarPod(), set, viewWith(recordFor(MANIFEST, [signed], { scan: CLEAN_SCAN }))).allowed,
    ).toBe(false);
    const both = [signed, signOciManifest(MANIFEST, other.signer, 'x').bundle];
    expect(judge(modelcarPod(), set, viewWith(recordFor(MANIFEST, both, { scan: CLEAN_SCAN }))).allowed).toBe(
      true,
    );
  });

  it('an artifact behind an image volume mounts empty: refused whatever its signature', () => {
    const set = setOf(signedBy(release.pem, { verifier: { inject: true } }));
    const view = viewWith(recordFor(MANIFEST, [signed], { scan: CLEAN_SCAN, shape: 'artifact' }));
    const d = judge(imageVolumePod(), set, view);
    expect(d.allowed).toBe(false);
    expect(d.violations.find((v) => v.check === 'model-reference')?.message).toMatch(/EMPTY directory/);
  });

  it("the controller's scan: code is refused, and so is a format the policy denies (declared or found)", () => {
    const set = setOf(signedBy(release.pem, { formats: { deny: ['pickle'] } }));
    const evil = {
      ...CLEAN_SCAN,
      problems: [
        { file: 'layer_000.tar.gz!model.pkl', verdict: 'dangerous', rule: 'global', detail: 'os.system' },
      ],
    };
    const pickled = {
      ...CLEAN_SCAN,
      formats: { pickle: 'layer_000.tar.gz!w.pt', 'pytorch-zip': 'layer_000.tar.gz!w.pt' },
    };
    const declared = [{ source: 'config.format', value: 'pytorch', formats: ['pytorch-zip', 'pickle'] }];
    for (const [record, why] of [
      [recordFor(MANIFEST, [signed], { scan: evil }), /refused by modelgate's scan.*os.system/],
      [recordFor(MANIFEST, [signed], { scan: pickled }), /a pickle file .* denies the pickle format/],
      [recordFor(MANIFEST, [signed], { scan: CLEAN_SCAN, declared }), /declares config.format = "pytorch"/],
    ] as const) {
      const d = judge(modelcarPod(), set, viewWith(record));
      expect(d.allowed).toBe(false);
      expect(
        d.violations
          .filter((v) => v.check === 'format')
          .map((v) => v.message)
          .join(),
      ).toMatch(why);
    }
  });

  it("pickle globals the controller's scan treated as data count only for policies that allow them (the intersection, as the verifier's)", () => {
    const scan = {
      ...CLEAN_SCAN,
      formats: { pickle: 'layer_000.tar.gz!model/pipeline.pkl' },
      allowGlobals: ['acme.prep.Clip', 'acme.prep.Scale'],
      usedGlobals: ['acme.prep.Clip'],
    };
    const view = viewWith(recordFor(MANIFEST, [signed], { scan }));
    const allows = (globals: string[], extra: Obj = {}) =>
      signedBy(release.pem, { formats: { allowPickleGlobals: globals, ...extra } });
    const both = judge(
      modelcarPod(),
      setOf(allows(['acme.prep.Clip']), allows(['acme.prep.Clip', 'x.Y'])),
      view,
    );
    expect(both.violations).toEqual([]);
    expect(both.evidence?.map((e) => e.kind)).toEqual(['admission-oci', 'admission-oci']);
    // A second policy that does not allow it: refused by that policy alone, naming the global.
    const one = judge(modelcarPod(), setOf(allows(['acme.prep.Clip']), allows(['acme.prep.Scale'])), view);
    expect(one.allowed).toBe(false);
    expect(one.violations.map((v) => `${v.policy} ${v.check}`)).toEqual(['ClusterModelPolicy/p1 format']);
    expect(one.violations[0]!.message).toMatch(/reference acme.prep.Clip.*policy p1 does not/);
    expect(one.violations[0]!.remediation).toMatch(/allowPickleGlobals of policy p1/);
    // A policy without the list at all (the default scan) refuses it too; formats.deny still applies.
    expect(judge(modelcarPod(), setOf(signedBy(release.pem)), view).violations.map((v) => v.check)).toEqual([
      'format',
    ]);
    const denied = judge(modelcarPod(), setOf(allows(['acme.prep.Clip'], { deny: ['pickle'] })), view);
    expect(denied.violations.map((v) => v.message).join()).toMatch(/denies the pickle format/);
    // A scan refused before a policy allowed the global says it is being scanned again.
    const stale = {
      ...CLEAN_SCAN,
      problems: [
        {
          file: 'layer_000.tar.gz!model/pipeline.pkl',
          verdict: 'suspicious',
          rule: 'pickle-unknown-import',
          detail: 'acme.prep.Clip',
        },
      ],
    };
    const s = judge(
      modelcarPod(),
      setOf(allows(['acme.prep.Clip'])),
      viewWith(recordFor(MANIFEST, [signed], { scan: stale })),
    );
    expect(s.violations.map((v) => v.message).join()).toMatch(/scanned before acme.prep.Clip was allowed/);
  });

  it("records count only in modelgate's namespace and under their own digest's name", () => {
    const set = setOf(signedBy(release.pem));
    const record = recordFor(MANIFEST, [signed], { scan: CLEAN_SCAN });
    const tenant = new MemoryClusterView({ evidenceNamespace: 'modelgate-system' });
    tenant.upsert(evidenceConfigMap(record, 'ml'));
    expect(judge(modelcarPod(), set, tenant).allowed).toBe(false);
    const misnamed = new MemoryClusterView({ evidenceNamespace: 'modelgate-system' });
    const cm = evidenceConfigMap(record) as { metadata: { name: string } };
    cm.metadata.name = `modelgate-oci-${'f'.repeat(64)}`;
    misnamed.upsert(cm);
    expect(judge(modelcarPod(), set, misnamed).allowed).toBe(false);
    // Without an evidence namespace (a view that reads no records) nothing counts either.
    const none = new MemoryClusterView();
    none.upsert(evidenceConfigMap(record));
    expect(judge(modelcarPod(), set, none).allowed).toBe(false);
  });

  it('a tag-only reference never uses evidence (nothing pins the bytes)', () => {
    const set = setOf(signedBy(release.pem));
    const view = viewWith(recordFor(MANIFEST, [signed], { scan: CLEAN_SCAN }));
    const d = judge(modelcarPod('registry.example.com/models/llama:v1'), set, view);
    expect(d.allowed).toBe(false);
    expect(d.ociMisses).toBeUndefined();
  });

  it('KServe: oci:// and oci+native:// storage URIs use evidence; oci+fetch:// (a download) does not', () => {
    const set = setOf(signedBy(release.pem));
    const view = viewWith(recordFor(MANIFEST, [signed], { scan: CLEAN_SCAN }));
    const isvc = (uri: string) => ({
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: { name: 'i', namespace: 'ml' },
      spec: { predictor: { model: { modelFormat: { name: 'huggingface' }, storageUri: uri } } },
    });
    for (const scheme of ['oci', 'oci+native']) {
      const d = judge(isvc(`${scheme}://${REF}`), set, view);
      expect(d.evidence?.map((e) => e.kind)).toEqual(['admission-oci']);
    }
    const fetched = judge(isvc(`oci+fetch://${REF}`), set, view);
    expect(fetched.evidence?.map((e) => e.kind) ?? []).not.toContain('admission-oci');
  });

  it('a modelcar proven at admission: nothing else in the pod may rewrite its link or reach its files', () => {
    const set = setOf(signedBy(release.pem));
    const view = viewWith(recordFor(MANIFEST, [signed], { scan: CLEAN_SCAN }));
    const writable = modelcarPod() as { spec: { containers: Obj[] } };
    (writable.spec.containers[0]!.volumeMounts as Obj[])[0]!.readOnly = false;
    const d1 = judge(writable, set, view);
    expect(d1.violations.find((v) => v.check === 'integrity')?.message).toMatch(/could replace the link/);
    const privileged = modelcarPod() as { spec: { containers: Obj[] } };
    privileged.spec.containers[0]!.securityContext = { privileged: true };
    expect(
      judge(privileged, set, view)
        .violations.map((v) => v.message)
        .join(),
    ).toMatch(/shares its process namespace/);
  });

  it('an undeclared image volume waits for the registry ("pending"); a declared one takes the runtime path at once', () => {
    const set = setOf(signedBy(release.pem, { verifier: { inject: true } }));
    const pending = judge(imageVolumePod(), set, viewWith());
    expect(pending.allowed).toBe(false);
    expect(pending.violations.map((v) => v.message).join()).toMatch(/verification pending/);
    expect(pending.ociMisses?.map((m) => m.digest)).toEqual([DIGEST]);
    const declared = imageVolumePod() as { metadata: { annotations: Record<string, string> } };
    declared.metadata.annotations = {
      'modelgate.io/models': JSON.stringify([{ name: 'm', volume: 'm', digest: `sha256:${'c'.repeat(64)}` }]),
    };
    const d = judge(declared, set, viewWith());
    expect(d.violations.map((v) => v.check)).toEqual(['verifier']); // needs the injected verifier, nothing else
    // A registry that never answered: refused with its error (fail closed), not handed to a verifier.
    const failed = judge(
      imageVolumePod(),
      set,
      viewWith({
        version: 1,
        digest: DIGEST,
        repository: 'r/m',
        checkedAt: 1,
        error: 'cannot reach r: ECONNREFUSED',
      }),
    );
    expect(failed.violations.map((v) => v.message).join()).toMatch(
      /the registry could not tell: .*ECONNREFUSED/,
    );
    expect(failed.violations.map((v) => v.remediation).join()).toMatch(/reach the registry/);
    // A view that reads no records (the feature off), or records given once (`check`, a file) with no
    // controller to resolve more, never waits: the runtime path.
    const off = new MemoryClusterView();
    off.upsert(namespace('ml'));
    expect(judge(imageVolumePod(), set, off).violations.map((v) => v.check)).toEqual(['verifier']);
    const file = new MemoryClusterView({ evidenceNamespace: 'modelgate-system' });
    file.upsert(namespace('ml'));
    const offline = judge(imageVolumePod(), set, file);
    expect(offline.violations.map((v) => v.check)).toEqual(['verifier']);
    expect(offline.ociMisses?.map((m) => m.digest)).toEqual([DIGEST]); // check says it could not look
  });
});
