// OCI evidence in the red-team suite (issue 17): models pinned by a digest the runtime enforces, proven
// at admission by a model-signing signature over that manifest found in the registry. The records are
// what modelgate's controller writes (ConfigMaps in modelgate's namespace), built here over manifests of
// our own and signed with the OCI fixture key, which policy `oci` trusts (redteam-policies.yaml). Every
// hostile case is a way to get bytes no trusted signature covers loaded under a signed name.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CLEAN_SCAN,
  evidenceConfigMap,
  imageManifestBytes,
  recordFor,
} from '../../src/oci/oci-images.test-support.ts';
import { digestOf } from '../../src/oci/manifest.ts';
import type { OciEvidenceRecord } from '../../src/oci/evidence.ts';
import { signOciManifest } from '../../src/oci/signed-manifest.ts';
import { loadSigner, signPayload } from '../../src/signing/sign.ts';
import type { Case } from './cases.ts';

type Obj = Record<string, unknown>;

const release = loadSigner(
  readFileSync(join(import.meta.dirname, '../fixtures/oci/signing-key.pem'), 'utf8'),
);
const stranger = loadSigner(
  generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString(),
);

const REPO = 'registry.example.com/models/llama';
const manifest = (...names: string[]) => {
  const bytes = imageManifestBytes(...names);
  return { bytes, digest: digestOf(bytes), ref: `${REPO}@${digestOf(bytes)}` };
};
const sign = (m: { bytes: Uint8Array }, by = release) => signOciManifest(m.bytes, by, 'llama').bundle;

const SIGNED = manifest('model.safetensors', 'tokenizer.json');
const UNSIGNED = manifest('unsigned.safetensors');
const STRANGER = manifest('stranger.safetensors');
const COSIGN = manifest('cosign.safetensors');
const V1 = manifest('v.safetensors');
const V2 = manifest('v.safetensors', 'extra.bin');
const ARTIFACT = manifest('artifact.safetensors');
const CODE = manifest('code.pkl');
const PICKLE = manifest('weights.pt');
const UNSCANNED = manifest('zstd.safetensors');
const PLANTED = manifest('planted.safetensors');
const NONE = manifest('never-resolved.safetensors');
const GLOBALS = manifest('pipeline.pkl');

/** A bundle from the trusted key over another statement on the same bytes (as a cosign image signature is). */
const cosignStyle = signPayload(
  new TextEncoder().encode(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: REPO, digest: { sha256: COSIGN.digest.slice(7) } }],
      predicateType: 'https://sigstore.dev/cosign/sign/v1',
      predicate: {},
    }),
  ),
  release,
);

/** The records in modelgate's namespace, and one planted in a tenant's. */
export function ociRecords(): { modelgate: OciEvidenceRecord[]; tenant: Obj[] } {
  return {
    modelgate: [
      recordFor(SIGNED.bytes, [sign(SIGNED)], { scan: CLEAN_SCAN }),
      recordFor(UNSIGNED.bytes, [], { scan: CLEAN_SCAN }),
      recordFor(STRANGER.bytes, [sign(STRANGER, stranger)], { scan: CLEAN_SCAN }),
      recordFor(COSIGN.bytes, [cosignStyle], { scan: CLEAN_SCAN }),
      recordFor(V2.bytes, [sign(V1)], { scan: CLEAN_SCAN }),
      recordFor(ARTIFACT.bytes, [sign(ARTIFACT)], { scan: CLEAN_SCAN, shape: 'artifact' }),
      recordFor(CODE.bytes, [sign(CODE)], {
        scan: {
          ...CLEAN_SCAN,
          formats: { pickle: 'layer_000.tar.gz!code.pkl' },
          problems: [
            { file: 'layer_000.tar.gz!code.pkl', verdict: 'dangerous', rule: 'global', detail: 'os.system' },
          ],
        },
      }),
      recordFor(PICKLE.bytes, [sign(PICKLE)], {
        scan: {
          ...CLEAN_SCAN,
          formats: { 'pytorch-zip': 'layer_000.tar.gz!weights.pt', pickle: 'layer_000.tar.gz!weights.pt' },
        },
      }),
      // Scanned clean only because another policy allows the class it references.
      recordFor(GLOBALS.bytes, [sign(GLOBALS)], {
        scan: {
          ...CLEAN_SCAN,
          formats: { joblib: 'layer_000.tar.gz!pipeline.pkl' },
          allowGlobals: ['acme.prep.Clip'],
          usedGlobals: ['acme.prep.Clip'],
        },
      }),
      recordFor(UNSCANNED.bytes, [sign(UNSCANNED)], {
        scan: {
          ...CLEAN_SCAN,
          status: 'incomplete',
          reason: 'layer 0 is zstd-compressed, which the controller cannot unpack',
        },
      }),
    ],
    tenant: [evidenceConfigMap(recordFor(PLANTED.bytes, [sign(PLANTED)], { scan: CLEAN_SCAN }), 'oci')],
  };
}

const D = (c: string) => `sha256:${c.repeat(64)}`;
const VLLM = `vllm/vllm-openai@${D('a')}`;
const HF_SERVER = `kserve/huggingfaceserver@${D('a')}`;

const pod = (spec: Obj): Obj => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'oci' },
  spec,
});

export const imageVolumePod = (reference: string): Obj =>
  pod({
    containers: [
      {
        name: 'server',
        image: VLLM,
        args: ['--model', '/mnt/m'],
        volumeMounts: [{ name: 'm', mountPath: '/mnt/m', readOnly: true }],
      },
    ],
    volumes: [{ name: 'm', image: { reference } }],
  });

export const modelcarPod = (
  reference: string,
  extra: { serverWritable?: boolean; privileged?: boolean } = {},
): Obj =>
  pod({
    shareProcessNamespace: true,
    containers: [
      {
        name: 'kserve-container',
        image: HF_SERVER,
        args: ['--model_dir=/mnt/models'],
        volumeMounts: [
          { name: 'kserve-provision-location', mountPath: '/mnt', readOnly: !extra.serverWritable },
        ],
        ...(extra.privileged ? { securityContext: { privileged: true } } : {}),
      },
      {
        name: 'modelcar',
        image: reference,
        args: ['sh', '-c', 'ln -sf /proc/$$$$/root/models /mnt/models && sleep infinity'],
        volumeMounts: [{ name: 'kserve-provision-location', mountPath: '/mnt' }],
      },
    ],
    volumes: [{ name: 'kserve-provision-location', emptyDir: {} }],
  });

const isvc = (uri: string): Obj => ({
  apiVersion: 'serving.kserve.io/v1beta1',
  kind: 'InferenceService',
  metadata: { name: 'i', namespace: 'oci' },
  spec: { predictor: { model: { modelFormat: { name: 'huggingface' }, storageUri: uri } } },
});

const deny = (name: string, object: Obj, why: RegExp, request?: Case['request']): Case => ({
  name,
  class: 'oci',
  object,
  expect: 'deny',
  why,
  ...(request ? { request } : {}),
});
const allow = (name: string, object: Obj): Case => ({ name, class: 'oci', object, expect: 'allow' });

export function ociCases(): Case[] {
  const running = modelcarPod(SIGNED.ref);
  const withDebugger = structuredClone(running) as { spec: Obj };
  withDebugger.spec.ephemeralContainers = [
    {
      name: 'debugger',
      image: `registry.example.com/web/storefront@${D('e')}`,
      targetContainerName: 'kserve-container',
    },
  ];
  return [
    allow(
      'a modelcar whose manifest the trusted key signed, scanned clean: verified at admission',
      modelcarPod(SIGNED.ref),
    ),
    allow(
      'an image volume whose manifest the trusted key signed, scanned clean: no verifier, no re-hash',
      imageVolumePod(SIGNED.ref),
    ),
    allow(
      'a signed image volume the controller could not scan: admitted with a scan-only verifier',
      imageVolumePod(UNSCANNED.ref),
    ),
    allow('a KServe oci+native:// storage URI whose manifest is signed', isvc(`oci+native://${SIGNED.ref}`)),
    deny(
      'a modelcar nobody has resolved yet: verification pending, retry',
      modelcarPod(NONE.ref),
      /verification pending.*retry/,
    ),
    deny(
      'a modelcar whose manifest has no signature in the registry',
      modelcarPod(UNSIGNED.ref),
      /no model-signing signature over manifest/,
    ),
    deny(
      'a modelcar signed by a key the policy does not trust',
      modelcarPod(STRANGER.ref),
      /release: public key mismatch/,
    ),
    deny(
      'a cosign image signature by the trusted key on the same digest is not a model signature',
      modelcarPod(COSIGN.ref),
      /is not a model_signing predicate/,
    ),
    deny(
      'the repository re-pushed with a changed layer: the old signature does not cover the new digest',
      modelcarPod(V2.ref),
      /covers other content/,
    ),
    deny(
      'a signed ModelPack-shaped artifact as an image volume: containerd mounts it empty',
      imageVolumePod(ARTIFACT.ref),
      /EMPTY directory/,
    ),
    deny(
      'a signed model whose layers carry pickle code',
      modelcarPod(CODE.ref),
      /refused by modelgate's scan/,
    ),
    deny('a signed model in a format the policy denies', modelcarPod(PICKLE.ref), /denies the pickle format/),
    deny(
      'a signed model scanned clean only because another policy allows the pickle global it uses',
      modelcarPod(GLOBALS.ref),
      /reference acme.prep.Clip.*policy oci does not/,
    ),
    deny(
      'a signed modelcar the controller could not scan (nothing scans it at pod start)',
      modelcarPod(UNSCANNED.ref),
      /could not scan its layers/,
    ),
    deny(
      'a record planted in the tenant namespace counts for nothing',
      modelcarPod(PLANTED.ref),
      /verification pending/,
    ),
    deny('a modelcar referenced by tag, whatever the records say', modelcarPod(`${REPO}:v1`), /tag "v1"/),
    deny(
      'a server that mounts the modelcar link volume writable could swap the link',
      modelcarPod(SIGNED.ref, { serverWritable: true }),
      /could replace the link/,
    ),
    deny(
      'a privileged container in a modelcar pod reaches the model through the shared process namespace',
      modelcarPod(SIGNED.ref, { privileged: true }),
      /shares its process namespace/,
    ),
    deny('a debug container added to a running modelcar pod', withDebugger, /joins a modelcar pod/, {
      operation: 'UPDATE',
      subResource: 'ephemeralcontainers',
      oldObject: running,
    }),
    deny(
      'a KServe oci:// storage URI whose manifest is unsigned',
      isvc(`oci://${UNSIGNED.ref}`),
      /no model-signing signature|runtime verifier/,
    ),
  ];
}
