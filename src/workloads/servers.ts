// Per-server grammars: how each model server (and model downloader) reads its command line and
// environment, so modelgate reads them the same way. A grammar is chosen by what the container runs
// (its program, Python module or image) — never by the container's name — and choosing one grants
// nothing: it only tells modelgate where the server takes its models from (and a server recognised by
// its program counts only in an image known to ship it: OFFICIAL_IMAGES, or a policy's spec.serverImages).
// Flags a grammar does not know are read conservatively (command-line.ts); a container no grammar
// recognises is not accounted for unless a ClusterModelPolicy approves its image as loading no model.

import type { ServerId } from '../api/types.ts';

/** What a flag's value means to the server. */
export type FlagKind =
  /** names a model (a hub id, a URI or a local path) */
  | 'model'
  /** comma-separated models */
  | 'model-list'
  /** `name=path` or a JSON object with a path (LoRA adapters), one per value */
  | 'adapter'
  /** a JSON object of options, read by key (FlagSpec.json says which keys load what) */
  | 'json'
  /** the revision of the main model */
  | 'revision'
  /** a file of options that modelgate cannot read at admission */
  | 'config'
  /** code the server imports or runs (plugins, middleware, worker classes): unreadable */
  | 'code'
  /** where downloads are cached (a persistent cache can hold other weights) */
  | 'cache'
  /** where a downloader writes what it fetched */
  | 'destination'
  /** another endpoint to download from (an S3-compatible server, a hub mirror) */
  | 'redirect'
  /** models (`name=path` or a path) named relative to the grammar's model store (TorchServe --models) */
  | 'store-model'
  /** a Hugging Face repository, `owner/name[:tag]` (llama.cpp -hf) */
  | 'hub'
  /** a Docker Hub model, `[namespace/]name[:tag]` (llama.cpp -dr pulls ai/<name> by default) */
  | 'docker-model'
  /** enables loading models at run time; the value decides (see runtimeLoadValues) */
  | 'runtime-load'
  /** cannot name a model */
  | 'value';

export type Arity = 'bool' | 'one' | 'many';

export interface FlagSpec {
  kind: FlagKind;
  arity: Arity;
  /** For `json` flags: what the object's keys mean. */
  json?: JsonOptionSpec;
}

/**
 * How a JSON option's keys are read (vLLM's --speculative-config, --hf-overrides, --kv-transfer-config...).
 * Keys listed here load what they say; any other string value, at any depth, that looks like a path, a URI,
 * a repository or a module (`/`, `\`, `--`, `scheme:`, a leading `.` or `~`) is unreadable: modelgate does
 * not know what the server loads from it.
 */
export interface JsonOptionSpec {
  /** Top-level keys whose string value names a model. */
  models?: readonly string[];
  /** Top-level keys whose string value is a revision of those models (every one must pin them). */
  revisions?: readonly string[];
  /** Keys (at any depth) whose value is code the server imports: always unreadable. */
  code?: readonly string[];
  /** Keys (at any depth) whose value is a registered name, or a dotted Python name the server imports. */
  names?: readonly string[];
  /** Every string value (at any depth) names a model (vLLM --default-mm-loras: modality -> adapter). */
  valuesAreModels?: boolean;
}

/** What an environment variable means to the server. */
export type EnvKind =
  'model' | 'model-list' | 'hub' | 'revision' | 'runtime-load' | 'redirect' | 'cache' | 'config' | 'value';

export type Role = 'server' | 'downloader';

export interface Grammar {
  /** Short name shown in messages ("vLLM"). */
  name: string;
  /**
   * Servers whose code comes from the container's image: the id spec.serverImages approves an image for.
   * Unset for what runs no code of the container's choosing (KServe's modelcar script, a runtime KServe
   * completes) and for downloaders (what they wrote is verified after them, or their image approved).
   */
  id?: ServerId;
  role: Role;
  flags: ReadonlyMap<string, FlagSpec>;
  /** What positional arguments are: the model (vLLM serve), [source, destination] (downloaders), or nothing. */
  positional: 'model' | 'source-destination' | 'none';
  /** argparse and getopt_long accept unambiguous prefixes of long options ("--mod" for "--model"). */
  abbreviations: boolean;
  /** KServe's Python servers accept --model_dir and --model-dir alike. */
  underscoresAreDashes?: boolean;
  env: ReadonlyMap<string, EnvKind>;
  /** Environment variables named `<prefix><FLAG>` are flags too (llama.cpp's LLAMA_ARG_*). */
  envFlagPrefix?: string;
  /** Settings read from variables with these prefixes (MLServer's MLSERVER_MODEL_*): unreadable unless in `env`. */
  envConfigPrefixes?: readonly string[];
  /** Variables a command-line flag overrides when both are given (clap, llama.cpp: the flag wins). */
  envFlags?: ReadonlyMap<string, string>;
  /** The flag naming the directory that store-model values are relative to (TorchServe --model-store). */
  modelStore?: string;
  /** Flags whose value is either a keyword (inert) or a path of the flag's kind (vLLM --generation-config). */
  keywords?: ReadonlyMap<string, RegExp>;
  /**
   * Flags whose value is one of the server's built-in names (vLLM --load-format): any other value names a
   * loader or a class a plugin or the pod supplies, which may load weights from elsewhere — unreadable.
   */
  choices?: ReadonlyMap<string, RegExp>;
  /** Values of a runtime-load flag or variable that enable loading at run time. */
  runtimeLoadValues?: RegExp;
  /** What the server loads when no model is named (its built-in default), as written on its command line. */
  defaultModel?: string;
  /** The container image itself carries the model (NVIDIA NIM). */
  imageCarriesModel?: boolean;
  /** The server only serves models it fetches at run time through its API (cannot be checked). */
  loadsAtRunTime?: string;
  /** Model values that are not hub ids are paths relative to this directory (KServe: /mnt/models). */
  hubIds: boolean;
}

interface FlagTable {
  [kind: string]: string[];
}

/** Builds a flag map: `{ model: ['--model', '-m'], bool: ['--trust-remote-code'] }`; 'many' via `kind+`. */
function flags(table: FlagTable): Map<string, FlagSpec> {
  const out = new Map<string, FlagSpec>();
  for (const [key, names] of Object.entries(table)) {
    const many = key.endsWith('+');
    const kind = (many ? key.slice(0, -1) : key) as FlagKind | 'bool';
    for (const n of names)
      out.set(n, kind === 'bool' ? { kind: 'value', arity: 'bool' } : { kind, arity: many ? 'many' : 'one' });
  }
  return out;
}

const env = (table: Record<string, EnvKind>) => new Map(Object.entries(table));

/** Adds JSON-valued flags to a flag map, each with how its keys are read. */
function withJson(map: Map<string, FlagSpec>, table: Record<string, JsonOptionSpec>): Map<string, FlagSpec> {
  for (const [flag, json] of Object.entries(table)) map.set(flag, { kind: 'json', arity: 'one', json });
  return map;
}

/** vLLM's JSON options (engine and frontend arguments that take a JSON object). */
const VLLM_JSON: Record<string, JsonOptionSpec> = {
  // The draft model of speculative decoding, at its own revision and code revision.
  '--speculative-config': {
    models: ['model', 'draft_model', 'model_path', 'path', 'tokenizer'],
    revisions: ['revision', 'code_revision'],
  },
  // Overrides of the model's own config.json: auto_map names classes in other repositories ("org/repo--mod.Cls").
  '--hf-overrides': { code: ['auto_map'] },
  // KV-cache and encoder-cache connectors: a module path is imported; the connector is a registered name.
  '--kv-transfer-config': { code: ['kv_connector_module_path'], names: ['kv_connector'] },
  '--ec-transfer-config': { code: ['ec_connector_module_path'], names: ['ec_connector'] },
  '--kv-events-config': {},
  // torch.compile settings: a backend or pass named by its Python path is imported.
  '--compilation-config': { code: ['inductor_passes'], names: ['backend'] },
  '-O': { code: ['inductor_passes'], names: ['backend'] },
  '--structured-outputs-config': {},
  '--override-generation-config': {},
  '--additional-config': {},
  '--eplb-config': {},
  '--pooler-config': {},
  '--override-pooler-config': {},
  '--limit-mm-per-prompt': {},
  '--mm-processor-kwargs': {},
  '--media-io-kwargs': {},
  '--rope-scaling': {},
  '--default-chat-template-kwargs': {},
  // Adapters applied by default per modality: each value is a LoRA adapter's path.
  '--default-mm-loras': { valuesAreModels: true },
};

/** Variables every Hugging Face / object-store client reads: where downloads come from and are cached. */
export const DOWNLOAD_ENV: ReadonlyMap<string, EnvKind> = env({
  HF_ENDPOINT: 'redirect',
  HUGGINGFACE_CO_RESOLVE_ENDPOINT: 'redirect',
  HF_HUB_ENDPOINT: 'redirect',
  HF_MIRROR: 'redirect',
  AWS_ENDPOINT_URL: 'redirect',
  AWS_ENDPOINT_URL_S3: 'redirect',
  S3_ENDPOINT: 'redirect',
  S3_ENDPOINT_URL: 'redirect',
  AWS_S3_ENDPOINT: 'redirect',
  STORAGE_EMULATOR_HOST: 'redirect',
  AZURE_STORAGE_BLOB_ENDPOINT: 'redirect',
  MODELSCOPE_ENDPOINT: 'redirect',
  MODELSCOPE_DOMAIN: 'redirect',
  VLLM_USE_MODELSCOPE: 'redirect',
  SGLANG_USE_MODELSCOPE: 'redirect',
  // KServe's storage initializer: a whole storage configuration (type, endpoint_url, bucket) as JSON.
  STORAGE_CONFIG: 'redirect',
  STORAGE_OVERRIDE_CONFIG: 'redirect',
  // TLS off: anyone on the network path serves the bytes (KServe's S3 client, Python's urllib).
  S3_USE_HTTPS: 'redirect',
  S3_VERIFY_SSL: 'redirect',
  PYTHONHTTPSVERIFY: 'redirect',
  HF_HOME: 'cache',
  HF_HUB_CACHE: 'cache',
  HUGGINGFACE_HUB_CACHE: 'cache',
  TRANSFORMERS_CACHE: 'cache',
  XDG_CACHE_HOME: 'cache',
});

/**
 * Prefixes of variables that configure a download client's remotes wholesale: rclone reads
 * RCLONE_CONFIG_<REMOTE>_TYPE/_ENDPOINT/_URL/... as a remote's configuration (Seldon's initializer runs rclone).
 */
export const DOWNLOAD_ENV_PREFIXES: readonly string[] = ['RCLONE_CONFIG_'];

/** Amazon S3's own endpoints (global or regional, HTTPS), as KServe's S3 secret annotations write them. */
const AWS_S3 = /^(https:\/\/)?s3(\.[a-z]{2}(-[a-z]+)+-\d)?\.amazonaws\.com\/?$/;

/**
 * The values of a redirect variable that change nothing: the client's own default endpoint. A scheme-less
 * S3 endpoint is HTTPS unless S3_USE_HTTPS turns it off (KServe's storage initializer).
 */
export const DEFAULT_ENDPOINTS: ReadonlyMap<string, RegExp> = new Map([
  ['HF_ENDPOINT', /^https:\/\/huggingface\.co\/?$/],
  ['HUGGINGFACE_CO_RESOLVE_ENDPOINT', /^https:\/\/huggingface\.co\/?$/],
  ['VLLM_USE_MODELSCOPE', /^(false|0)$/i],
  ['SGLANG_USE_MODELSCOPE', /^(false|0)$/i],
  // TLS on (the default) changes nothing.
  ['S3_USE_HTTPS', /^(1|true|yes|on)$/i],
  ['S3_VERIFY_SSL', /^(1|true|yes|on)$/i],
  ['PYTHONHTTPSVERIFY', /^1$/],
  ['S3_ENDPOINT', AWS_S3],
  ['S3_ENDPOINT_URL', AWS_S3],
  ['AWS_S3_ENDPOINT', AWS_S3],
  ['AWS_ENDPOINT_URL', AWS_S3],
  ['AWS_ENDPOINT_URL_S3', AWS_S3],
]);

const VLLM: Grammar = {
  name: 'vLLM',
  id: 'vllm',
  role: 'server',
  positional: 'model',
  abbreviations: true,
  // FlexibleArgumentParser: --max_model_len is --max-model-len.
  underscoresAreDashes: true,
  hubIds: true,
  defaultModel: 'facebook/opt-125m',
  flags: withJson(
    flags({
      model: [
        '--model',
        '--tokenizer',
        '--speculative-model',
        '--qlora-adapter-name-or-path',
        '--hf-config-path',
        '--generation-config',
      ],
      'adapter+': ['--lora-modules', '--prompt-adapters'],
      // --code-revision: the revision of the model repository's own code (--trust-remote-code) is loaded from.
      revision: ['--revision', '--tokenizer-revision', '--code-revision'],
      config: ['--config', '--model-loader-extra-config'],
      code: [
        '--tool-parser-plugin',
        '--reasoning-parser-plugin',
        '--middleware',
        '--logits-processors',
        '--worker-cls',
        '--worker-extension-cls',
        '--scheduler-cls',
        '--io-processor-plugin',
      ],
      cache: ['--download-dir'],
      value: [
        '--host',
        '--port',
        '--dtype',
        '--max-model-len',
        '--tensor-parallel-size',
        '-tp',
        '--pipeline-parallel-size',
        '-pp',
        '--data-parallel-size',
        '-dp',
        '--gpu-memory-utilization',
        '--max-num-seqs',
        '--max-num-batched-tokens',
        '--quantization',
        '-q',
        '--kv-cache-dtype',
        '--seed',
        '--swap-space',
        '--block-size',
        '--max-lora-rank',
        '--max-loras',
        '--max-cpu-loras',
        '--api-key',
        '--uvicorn-log-level',
        '--tool-call-parser',
        '--reasoning-parser',
        '--tokenizer-mode',
        '--load-format',
        '--distributed-executor-backend',
        '--chat-template',
        '--response-role',
        '--root-path',
        '--cpu-offload-gb',
        '--max-log-len',
        '--model-impl',
        '--ssl-keyfile',
        '--ssl-certfile',
        '--ssl-ca-certs',
        '--ssl-cert-reqs',
        '--tokenizer-pool-size',
        '--tokenizer-pool-type',
        '--max-seq-len-to-capture',
        '--guided-decoding-backend',
        '--num-scheduler-steps',
        '--otlp-traces-endpoint',
        '--lora-dtype',
        '--allowed-local-media-path',
        // Keywords (auto|hf|mistral): they name no file.
        '--config-format',
        '--max-parallel-loading-workers',
        '--long-prefill-token-threshold',
        '--max-num-partial-prefills',
        '--scheduling-policy',
        '--disable-log-requests-after',
        '--uds',
      ],
      'value+': ['--served-model-name', '--allowed-origins', '--allowed-methods', '--allowed-headers'],
      bool: [
        '--enable-chunked-prefill',
        '--no-enable-chunked-prefill',
        '--no-enable-prefix-caching',
        '--disable-sliding-window',
        '--enable-sleep-mode',
        '--disable-fastapi-docs',
        '--disable-frontend-multiprocessing',
        '--enable-expert-parallel',
        '--return-tokens-as-token-ids',
        '--enable-prompt-tokens-details',
        '--enable-server-load-tracking',
        '--enable-log-requests',
        '--disable-log-requests',
        '--trust-remote-code',
        '--enforce-eager',
        '--enable-lora',
        '--disable-log-stats',
        '--enable-prefix-caching',
        '--enable-auto-tool-choice',
        '--disable-custom-all-reduce',
      ],
    }),
    VLLM_JSON,
  ),
  // "auto" reads the model's own generation_config.json, "vllm" uses vLLM's defaults; a folder is a model input.
  keywords: new Map([['--generation-config', /^(auto|vllm)$/]]),
  choices: new Map([
    [
      '--load-format',
      /^(auto|pt|safetensors|npcache|dummy|tensorizer|sharded_state|gguf|bitsandbytes|mistral|runai_streamer|runai_streamer_sharded|fastsafetensors)$/,
    ],
    ['--distributed-executor-backend', /^(ray|mp|uni|external_launcher)$/],
  ]),
  env: env({
    VLLM_ALLOW_RUNTIME_LORA_UPDATING: 'runtime-load',
    VLLM_SERVER_DEV_MODE: 'runtime-load',
    // A JSON file mapping model names to other paths: the model loaded is not the one named.
    VLLM_MODEL_REDIRECT_PATH: 'config',
  }),
  runtimeLoadValues: /^(1|true|yes|on)$/i,
};

const TGI: Grammar = {
  name: 'text-generation-inference',
  id: 'text-generation-inference',
  role: 'server',
  positional: 'none',
  abbreviations: false,
  hubIds: true,
  defaultModel: 'bigscience/bloom-560m',
  flags: flags({
    model: ['--model-id', '--tokenizer-config-path', '--weights-cache-override'],
    'model-list': ['--lora-adapters'],
    revision: ['--revision'],
    cache: ['--huggingface-hub-cache'],
    value: [
      '--port',
      '--hostname',
      '--num-shard',
      '--quantize',
      '--dtype',
      '--max-input-length',
      '--max-input-tokens',
      '--max-total-tokens',
      '--max-batch-prefill-tokens',
      '--max-concurrent-requests',
      '--sharded',
      '--shard-uds-path',
      '--master-port',
      '--cuda-memory-fraction',
    ],
    bool: ['--trust-remote-code', '--disable-custom-kernels', '--json-output'],
  }),
  env: env({
    MODEL_ID: 'model',
    REVISION: 'revision',
    LORA_ADAPTERS: 'model-list',
    WEIGHTS_CACHE_OVERRIDE: 'model',
    TOKENIZER_CONFIG_PATH: 'model',
  }),
  envFlags: new Map([
    ['MODEL_ID', '--model-id'],
    ['REVISION', '--revision'],
    ['LORA_ADAPTERS', '--lora-adapters'],
    ['WEIGHTS_CACHE_OVERRIDE', '--weights-cache-override'],
    ['TOKENIZER_CONFIG_PATH', '--tokenizer-config-path'],
  ]),
};

const LLAMA_CPP: Grammar = {
  name: 'llama.cpp',
  id: 'llama.cpp',
  role: 'server',
  positional: 'none',
  abbreviations: false,
  // common/arg.cpp turns every "_" of a "--" flag into "-" before looking it up: --control_vector is
  // --control-vector.
  underscoresAreDashes: true,
  hubIds: false,
  defaultModel: 'models/7B/ggml-model-f16.gguf',
  flags: flags({
    model: [
      '-m',
      '--model',
      '-mu',
      '--model-url',
      '-md',
      '--model-draft',
      '--mmproj',
      '--mmproj-url',
      '-mv',
      '--model-vocoder',
      '--control-vector',
      '--control-vector-scaled',
      '-mm',
      '-mmu',
      '--lora-scaled',
    ],
    'model+': ['--lora'],
    // START END: the layers a control vector applies to.
    'value+': ['--control-vector-layer-range'],
    value: [
      '--port',
      '--host',
      '-c',
      '--ctx-size',
      '-ngl',
      '--n-gpu-layers',
      '-t',
      '--threads',
      '-np',
      '--parallel',
      '-a',
      '--alias',
      // Server TLS and API keys, sampling and memory settings: none names a model.
      '--api-key',
      '--api-key-file',
      '--ssl-key-file',
      '--ssl-cert-file',
      '-n',
      '--n-predict',
      '-b',
      '--batch-size',
      '-ub',
      '--ubatch-size',
      '--temp',
      '--top-k',
      '--top-p',
      '-s',
      '--seed',
      '-to',
      '--timeout',
      '--threads-http',
      '-ctk',
      '--cache-type-k',
      '-ctv',
      '--cache-type-v',
      '-sm',
      '--split-mode',
      '-ts',
      '--tensor-split',
      '-mg',
      '--main-gpu',
      '--keep',
      '--reasoning-format',
      '--pooling',
      '-ngld',
      '--n-gpu-layers-draft',
      '--draft-max',
      '--draft-min',
      // Prompt formatting and output constraints (a Jinja template, a GBNF grammar, a JSON schema) and
      // logs: read as text, they load no weights.
      '--chat-template',
      '--chat-template-file',
      '--grammar',
      '--grammar-file',
      '-j',
      '--json-schema',
      '--json-schema-file',
      '--log-file',
      // Speculative decoding's tuning (the draft model itself is -md/--model-draft, -hfd).
      '--draft-p-min',
      '--draft-p-split',
      '-cd',
      '--ctx-size-draft',
      '-devd',
      '--device-draft',
      '--chat-template-kwargs',
    ],
    bool: [
      '--embedding',
      '--embeddings',
      '--cont-batching',
      '-cb',
      '--no-cont-batching',
      '--metrics',
      '--no-webui',
      '--jinja',
      '--mlock',
      '--no-mmap',
      '--rerank',
      '--reranking',
      '--log-disable',
      '--slots',
      '--no-slots',
      '--props',
      '--no-warmup',
      // Adapters given with --lora start unapplied; projector placement. They load nothing themselves.
      '--lora-init-without-apply',
      '--no-mmproj',
      '--mmproj-offload',
      '--no-mmproj-offload',
    ],
  }),
  env: env({
    LLAMA_ARG_MODEL: 'model',
    LLAMA_ARG_MODEL_URL: 'model',
    LLAMA_ARG_MODEL_DRAFT: 'model',
    LLAMA_ARG_MMPROJ: 'model',
    LLAMA_ARG_MMPROJ_URL: 'model',
    LLAMA_ARG_HF_REPO: 'hub',
    LLAMA_ARG_HFD_REPO: 'hub',
    LLAMA_ARG_HF_REPO_V: 'hub',
    LLAMA_ARG_HF_FILE: 'value',
    LLAMA_CACHE: 'cache',
    LLAMA_ARG_LORA: 'model',
  }),
  envFlagPrefix: 'LLAMA_ARG_',
  envFlags: new Map([
    ['LLAMA_ARG_MODEL', '--model'],
    ['LLAMA_ARG_MODEL_URL', '--model-url'],
    ['LLAMA_ARG_HF_REPO', '--hf-repo'],
    ['LLAMA_ARG_HF_FILE', '--hf-file'],
    ['LLAMA_ARG_MODEL_DRAFT', '--model-draft'],
    ['LLAMA_ARG_MMPROJ', '--mmproj'],
  ]),
};
// llama.cpp's Hugging Face flags take "owner/name[:quant]": repositories of the hub, fetched at start.
for (const f of [
  '-hf',
  '-hfr',
  '--hf-repo',
  '-hfd',
  '-hfrd',
  '--hf-repo-draft',
  '-hfv',
  '-hfrv',
  '--hf-repo-v',
])
  (LLAMA_CPP.flags as Map<string, FlagSpec>).set(f, { kind: 'hub', arity: 'one' });
// -hff/-hffv name a file inside that repository; -dr pulls from Docker Hub.
for (const f of ['-hff', '--hf-file', '-hffv', '--hf-file-v'])
  (LLAMA_CPP.flags as Map<string, FlagSpec>).set(f, { kind: 'value', arity: 'one' });
for (const f of ['-dr', '--docker-repo'])
  (LLAMA_CPP.flags as Map<string, FlagSpec>).set(f, { kind: 'docker-model', arity: 'one' });

const SGLANG: Grammar = {
  name: 'SGLang',
  id: 'sglang',
  role: 'server',
  positional: 'none',
  abbreviations: true,
  hubIds: true,
  flags: flags({
    model: [
      '--model-path',
      '--model',
      '--tokenizer-path',
      '--speculative-draft-model-path',
      '--draft-model-path',
    ],
    'adapter+': ['--lora-paths'],
    revision: ['--revision'],
    config: ['--config'],
    cache: ['--download-dir'],
    value: [
      '--host',
      '--port',
      '--tp-size',
      '--tp',
      '--dp-size',
      '--dtype',
      '--mem-fraction-static',
      '--context-length',
      '--quantization',
      '--served-model-name',
      '--chat-template',
      '--api-key',
    ],
    bool: ['--trust-remote-code', '--enable-torch-compile', '--disable-radix-cache'],
  }),
  env: env({}),
  loadsAtRunTime:
    'SGLang serves /update_weights_from_disk and /load_lora_adapter whenever it runs: anyone who reaches its port can make it load other weights at run time, where no admission check or verifier sees them',
};

const TRITON: Grammar = {
  name: 'Triton Inference Server',
  id: 'triton',
  role: 'server',
  positional: 'none',
  abbreviations: true,
  hubIds: false,
  flags: flags({
    model: ['--model-repository', '--model-store'],
    'runtime-load': ['--model-control-mode'],
    value: [
      '--http-port',
      '--grpc-port',
      '--metrics-port',
      '--log-verbose',
      '--strict-model-config',
      '--load-model',
      '--repository-poll-secs',
      '--backend-config',
      '--exit-on-error',
      '--strict-readiness',
      '--allow-http',
      '--allow-grpc',
      '--allow-metrics',
      // Loading threads, name scoping, and the metrics, response-cache and trace settings: they load no
      // model (a trace file is output). The backend and repository-agent directories are code: unknown.
      '--model-load-thread-count',
      '--model-namespacing',
      '--metrics-config',
      '--cache-config',
      '--trace-config',
      '--log-file',
      '--exit-timeout-secs',
      '--rate-limit',
      '--pinned-memory-pool-byte-size',
      '--cuda-memory-pool-byte-size',
    ],
    bool: ['--disable-auto-complete-config'],
  }),
  env: env({}),
  runtimeLoadValues: /^(poll|explicit)$/i,
};

const KSERVE_PYTHON: Grammar = {
  name: 'KServe model server',
  id: 'kserve',
  role: 'server',
  positional: 'none',
  abbreviations: true,
  underscoresAreDashes: true,
  hubIds: true,
  defaultModel: '/mnt/models',
  flags: flags({
    model: ['--model-dir', '--model-id'],
    revision: ['--model-revision', '--tokenizer-revision'],
    value: [
      '--model-name',
      '--http-port',
      '--grpc-port',
      '--workers',
      '--max-threads',
      '--backend',
      '--task',
      '--dtype',
      '--max-model-len',
      '--predictor-host',
      '--protocol',
      '--nthread',
    ],
    bool: ['--trust-remote-code', '--disable-lower-case', '--enable-docs-url', '--return-probabilities'],
  }),
  env: env({}),
};

/**
 * KServe's Hugging Face server parses vLLM's engine arguments too (its vLLM backend): every vLLM flag is
 * read as vLLM reads it (--tokenizer names a model, not an abbreviation of --tokenizer-revision), and
 * KServe's own flags as KServe's.
 */
const KSERVE_HF: Grammar = {
  ...KSERVE_PYTHON,
  name: 'KServe Hugging Face server',
  id: 'kserve-huggingface',
  flags: new Map([...VLLM.flags, ...KSERVE_PYTHON.flags]),
  env: VLLM.env,
  ...(VLLM.keywords ? { keywords: VLLM.keywords } : {}),
  ...(VLLM.choices ? { choices: VLLM.choices } : {}),
  ...(VLLM.runtimeLoadValues ? { runtimeLoadValues: VLLM.runtimeLoadValues } : {}),
};

const MLSERVER: Grammar = {
  name: 'MLServer',
  id: 'mlserver',
  role: 'server',
  positional: 'model',
  abbreviations: false,
  hubIds: false,
  flags: flags({}),
  // MLServer reads a model's settings from MLSERVER_MODEL_* (pydantic settings): its URI, its parameters
  // (a Hugging Face model id among them), extra JSON. Names and the implementation class are inert.
  env: env({
    MLSERVER_MODEL_URI: 'model',
    MLSERVER_MODELS_DIR: 'model',
    MLSERVER_MODEL_NAME: 'value',
    MLSERVER_MODEL_VERSION: 'value',
    MLSERVER_MODEL_IMPLEMENTATION: 'value',
    MLSERVER_MODEL_PLATFORM: 'value',
    MLSERVER_MODEL_MAX_BATCH_SIZE: 'value',
    MLSERVER_MODEL_MAX_BATCH_TIME: 'value',
  }),
  envConfigPrefixes: ['MLSERVER_MODEL_'],
};

const TORCHSERVE: Grammar = {
  name: 'TorchServe',
  id: 'torchserve',
  role: 'server',
  positional: 'none',
  abbreviations: false,
  hubIds: false,
  flags: flags({
    model: ['--model-store'],
    'store-model+': ['--models'],
    config: ['--ts-config'],
    value: ['--log-config', '--workflow-store'],
    bool: ['--start', '--stop', '--foreground', '--ncs', '--no-config-snapshots', '--disable-token-auth'],
  }),
  // --models densenet=densenet161.mar loads <model store>/densenet161.mar; "all" loads the store's archives.
  modelStore: '--model-store',
  keywords: new Map([['--models', /^all$/]]),
  // The variable form of --ts-config (TorchServe also reads config.properties in its working directory),
  // and TS_<PROPERTY> variables, which override config.properties (model_store, load_models,
  // enable_model_api, plugins_path, ...): unreadable.
  env: env({ TS_CONFIG_FILE: 'config' }),
  envConfigPrefixes: ['TS_'],
};

const TF_SERVING: Grammar = {
  name: 'TensorFlow Serving',
  id: 'tensorflow-serving',
  role: 'server',
  positional: 'none',
  abbreviations: false,
  hubIds: false,
  defaultModel: '/models/model',
  flags: flags({
    model: ['--model_base_path'],
    config: ['--model_config_file', '--platform_config_file'],
    value: [
      '--model_name',
      '--port',
      '--rest_api_port',
      '--rest_api_timeout_in_ms',
      '--enable_batching',
      '--file_system_poll_wait_seconds',
    ],
  }),
  // The image's entrypoint serves ${MODEL_BASE_PATH}/${MODEL_NAME} (container.ts tfServingModel).
  env: env({}),
};

const NIM: Grammar = {
  name: 'NVIDIA NIM',
  id: 'nim',
  role: 'server',
  positional: 'none',
  abbreviations: false,
  hubIds: true,
  imageCarriesModel: true,
  flags: flags({}),
  env: env({
    NIM_MODEL_NAME: 'model',
    NIM_MODEL_PATH: 'model',
    NIM_CUSTOM_MODEL: 'model',
    NIM_MANIFEST_PATH: 'config',
    // LoRA adapters loaded from a directory, and re-read from it every N seconds when N > 0.
    NIM_PEFT_SOURCE: 'model',
    NIM_PEFT_REFRESH_INTERVAL: 'runtime-load',
    // Where NIM downloads the weights of its profiles from (the image carries the manifest, not the weights).
    NIM_REPOSITORY_OVERRIDE: 'redirect',
  }),
  runtimeLoadValues: /^0*[1-9]\d*$/,
};

const OLLAMA: Grammar = {
  name: 'Ollama',
  id: 'ollama',
  role: 'server',
  positional: 'none',
  abbreviations: false,
  hubIds: false,
  flags: flags({}),
  env: env({ OLLAMA_MODELS: 'cache' }),
  loadsAtRunTime:
    'Ollama pulls and loads models at run time through its API (ollama pull/run), where no admission check or verifier sees them',
};

/** A KServe component's container that KServe completes from its serving runtime (no image of its own). */
const KSERVE_RUNTIME: Grammar = {
  name: 'KServe serving runtime',
  role: 'server',
  positional: 'none',
  abbreviations: false,
  hubIds: false,
  flags: flags({}),
  env: env({}),
};

/**
 * KServe's modelcar: the model image itself runs a fixed script that links its /models directory into the
 * server's volume (through /proc, with a shared process namespace). Recognised by that exact script only.
 */
const MODELCAR: Grammar = {
  name: 'KServe modelcar',
  role: 'server',
  positional: 'none',
  abbreviations: false,
  hubIds: false,
  imageCarriesModel: true,
  flags: flags({}),
  env: env({}),
};

/** KServe's storage initializer and Seldon's rclone initializer: args are [source URI, destination]. */
const STORAGE_INITIALIZER: Grammar = {
  name: 'model storage initializer',
  role: 'downloader',
  positional: 'source-destination',
  abbreviations: false,
  hubIds: false,
  flags: flags({}),
  env: env({ STORAGE_URI: 'model' }),
};

/** `huggingface-cli download <repo> [files] --revision R --local-dir D` (and `hf download`). */
const HF_DOWNLOAD: Grammar = {
  name: 'Hugging Face CLI download',
  role: 'downloader',
  positional: 'model',
  abbreviations: true,
  hubIds: true,
  flags: flags({
    revision: ['--revision'],
    cache: ['--cache-dir'],
    destination: ['--local-dir'],
    value: ['--repo-type', '--include', '--exclude', '--token', '--max-workers', '--local-dir-use-symlinks'],
    bool: ['--quiet', '--force-download', '--resume-download'],
  }),
  env: env({}),
};

/** Object-store copy tools used as model downloaders: every URI argument is a source. */
const OBJECT_COPY: Grammar = {
  name: 'object-store copy',
  role: 'downloader',
  positional: 'source-destination',
  abbreviations: false,
  hubIds: false,
  flags: flags({
    redirect: ['--endpoint-url', '--s3-endpoint', '--gcs-endpoint'],
    value: ['--region', '--profile', '--include', '--exclude'],
    bool: ['--recursive', '-r', '--no-sign-request', '-m'],
  }),
  env: env({}),
};

export const GRAMMARS = {
  MODELCAR,
  KSERVE_RUNTIME,
  VLLM,
  TGI,
  LLAMA_CPP,
  SGLANG,
  TRITON,
  KSERVE_PYTHON,
  KSERVE_HF,
  MLSERVER,
  TORCHSERVE,
  TF_SERVING,
  NIM,
  OLLAMA,
  STORAGE_INITIALIZER,
  HF_DOWNLOAD,
  OBJECT_COPY,
} as const;

export interface Recognition {
  grammar: Grammar;
  /** The arguments the grammar reads (after the program and its subcommand). */
  args: string[];
  /** How modelgate recognised it, for messages ("program vllm serve", "image vllm/vllm-openai"). */
  by: string;
  /**
   * The image is one its publisher ships the server in (OFFICIAL_IMAGES). When false, the program's
   * name is all modelgate knows: the image's code decides what it loads, so the image must be approved.
   */
  officialImage: boolean;
}

/** Programs (basename) and subcommands. */
const PROGRAMS: { program: RegExp; subcommand?: string; grammar: Grammar }[] = [
  { program: /^vllm$/, subcommand: 'serve', grammar: VLLM },
  { program: /^text-generation-launcher$/, grammar: TGI },
  { program: /^(llama-server|llama-cli|llama-run|server)$/, grammar: LLAMA_CPP },
  { program: /^tritonserver$/, grammar: TRITON },
  { program: /^mlserver$/, subcommand: 'start', grammar: MLSERVER },
  { program: /^torchserve$/, grammar: TORCHSERVE },
  { program: /^tensorflow_model_server$/, grammar: TF_SERVING },
  { program: /^ollama$/, grammar: OLLAMA },
  { program: /^(initializer-entrypoint|storage-initializer)$/, grammar: STORAGE_INITIALIZER },
  { program: /^(huggingface-cli|hf)$/, subcommand: 'download', grammar: HF_DOWNLOAD },
  { program: /^(gsutil|rclone)$/, subcommand: 'cp', grammar: OBJECT_COPY },
  { program: /^rclone$/, subcommand: 'copy', grammar: OBJECT_COPY },
  { program: /^rclone$/, subcommand: 'sync', grammar: OBJECT_COPY },
];

/** Python modules (`python -m module`). */
const MODULES: { module: RegExp; subcommand?: string; grammar: Grammar }[] = [
  { module: /^vllm\.entrypoints\.openai\.api_server$/, grammar: VLLM },
  { module: /^vllm\.entrypoints\.cli\.main$/, subcommand: 'serve', grammar: VLLM },
  { module: /^vllm\.entrypoints\.api_server$/, grammar: VLLM },
  { module: /^sglang\.launch_server$/, grammar: SGLANG },
  { module: /^huggingfaceserver(\..*)?$/, grammar: KSERVE_HF },
  {
    module: /^(sklearnserver|xgbserver|lgbserver|pmmlserver|paddleserver|kserve)(\..*)?$/,
    grammar: KSERVE_PYTHON,
  },
  { module: /^mlserver$/, subcommand: 'start', grammar: MLSERVER },
  { module: /^kserve\.storage(\..*)?$/, grammar: STORAGE_INITIALIZER },
  { module: /^huggingface_hub\.commands\.huggingface_cli$/, subcommand: 'download', grammar: HF_DOWNLOAD },
];

/**
 * Official images whose ENTRYPOINT is a known server, for containers that give only `args`. Matched on the
 * canonical repository including its registry: reading args as a server's is trusting the image's
 * entrypoint, and only the publisher can push to these repositories. A mirror or a private build is not
 * recognised by its image: give it an explicit `command` (docs/policy.md#model-servers).
 */
const IMAGES: {
  repository: RegExp;
  /** The repository as a person reads it. */
  shown: string;
  grammar: Grammar;
  entrypointSubcommand?: string;
}[] = [
  { repository: /^docker\.io\/vllm\/vllm-openai$/, shown: 'docker.io/vllm/vllm-openai', grammar: VLLM },
  {
    repository: /^ghcr\.io\/huggingface\/text-generation-inference$/,
    shown: 'ghcr.io/huggingface/text-generation-inference',
    grammar: TGI,
  },
  {
    repository:
      /^us-docker\.pkg\.dev\/deeplearning-platform-release\/gcr\.io\/huggingface-text-generation-inference[a-z0-9._-]*$/,
    shown: 'us-docker.pkg.dev/deeplearning-platform-release/gcr.io/huggingface-text-generation-inference*',
    grammar: TGI,
  },
  {
    repository: /^ghcr\.io\/(ggml-org|ggerganov)\/llama\.cpp$/,
    shown: 'ghcr.io/ggml-org/llama.cpp, ghcr.io/ggerganov/llama.cpp',
    grammar: LLAMA_CPP,
  },
  {
    repository: /^docker\.io\/kserve\/huggingfaceserver(-gpu)?$/,
    shown: 'docker.io/kserve/huggingfaceserver[-gpu]',
    grammar: KSERVE_HF,
  },
  {
    repository: /^docker\.io\/kserve\/(sklearnserver|xgbserver|lgbserver|pmmlserver|paddleserver)(-gpu)?$/,
    shown: 'docker.io/kserve/{sklearn,xgb,lgb,pmml,paddle}server[-gpu]',
    grammar: KSERVE_PYTHON,
  },
  {
    repository:
      /^(docker\.io\/kserve\/storage-initializer|gcr\.io\/kfserving\/storage-initializer|docker\.io\/seldonio\/rclone-storage-initializer)$/,
    shown:
      'docker.io/kserve/storage-initializer, gcr.io/kfserving/storage-initializer, docker.io/seldonio/rclone-storage-initializer',
    grammar: STORAGE_INITIALIZER,
  },
  { repository: /^nvcr\.io\/nim\/[a-z0-9._-]+\/[a-z0-9._-]+$/, shown: 'nvcr.io/nim/*/*', grammar: NIM },
  {
    repository: /^docker\.io\/tensorflow\/serving$/,
    shown: 'docker.io/tensorflow/serving',
    grammar: TF_SERVING,
  },
  { repository: /^docker\.io\/ollama\/ollama$/, shown: 'docker.io/ollama/ollama', grammar: OLLAMA },
  {
    repository: /^docker\.io\/seldonio\/mlserver$/,
    shown: 'docker.io/seldonio/mlserver',
    grammar: MLSERVER,
    entrypointSubcommand: 'start',
  },
];

/**
 * Official images whose entrypoint is a shell script around the server, which re-reads what the pod gives:
 * Hugging Face's Google Cloud containers run `text-generation-launcher $@` after downloading
 * `gs://$AIP_STORAGE_URI` into /tmp/model and exporting MODEL_ID to it; TensorFlow Serving's runs
 * `--model_name=${MODEL_NAME} --model_base_path=${MODEL_BASE_PATH}/${MODEL_NAME} "$@"`. An unquoted
 * expansion splits a value at white space, expands glob characters (and drops an empty argument), so the
 * server sees other arguments than the pod gives.
 */
export interface ShellEntrypoint {
  /** `$@` unquoted: the arguments are split and globbed. */
  splitsArgs: boolean;
  /** Variables expanded unquoted into the server's command line. */
  splitEnv: readonly string[];
  /** Variables whose value the script downloads and then serves. */
  downloadEnv: readonly string[];
  /**
   * First arguments that some images of the repository read as the tool to run, not as a server option
   * (llama.cpp's `full` images run tools.sh: `-s` starts llama-server, `-c` a Python converter, ...). The
   * tag says which image it is, but the runtime pulls by digest, so a tag proves nothing.
   */
  toolWords?: RegExp;
}

const SHELL_ENTRYPOINTS: (ShellEntrypoint & { repository: RegExp })[] = [
  {
    repository: /^us-docker\.pkg\.dev\/deeplearning-platform-release\/gcr\.io\/huggingface-[a-z0-9._-]+$/,
    splitsArgs: true,
    splitEnv: [],
    downloadEnv: ['AIP_STORAGE_URI'],
  },
  {
    repository: /^docker\.io\/tensorflow\/serving$/,
    splitsArgs: false,
    splitEnv: ['MODEL_NAME', 'MODEL_BASE_PATH'],
    downloadEnv: [],
  },
  {
    repository: /^ghcr\.io\/(ggml-org|ggerganov)\/llama\.cpp$/,
    splitsArgs: false,
    splitEnv: [],
    downloadEnv: [],
    toolWords:
      /^(-c|--convert|-q|--quantize|-r|--run|-b|--bench|-p|--perplexity|-a|--all-in-one|-s|--server)$/,
  },
];

/** For an official image whose entrypoint script re-reads its arguments or environment in the shell. */
export function shellEntrypoint(repository: string | undefined): ShellEntrypoint | undefined {
  return repository === undefined ? undefined : SHELL_ENTRYPOINTS.find((e) => e.repository.test(repository));
}

/** Official images whose entrypoint runs its arguments as a command (NVIDIA's nvidia_entrypoint.sh). */
const COMMAND_RUNNING_IMAGES = /^nvcr\.io\/nvidia\/(tritonserver|pytorch)$/;

/**
 * The repositories each server's (and downloader's) publisher ships it in (only the publisher can push
 * there). A server recognised by its program or Python module is the server modelgate reads only in one of
 * these, or in an image a ClusterModelPolicy approves for it (spec.serverImages): a program's name says
 * nothing about the code behind it, and that code decides what is loaded. Mirrors and own builds are approved
 * by the platform. A downloader in another image may write any volume it mounts writable.
 */
const OFFICIAL_IMAGES: { repository: RegExp; shown: string; servers: readonly Grammar[] }[] = [
  ...IMAGES.map((i) => ({
    repository: i.repository,
    shown: i.shown,
    servers: [i.grammar],
  })),
  // KServe's Hugging Face server image runs vLLM and KServe's Python server too.
  {
    repository: /^docker\.io\/kserve\/huggingfaceserver(-gpu)?$/,
    shown: 'docker.io/kserve/huggingfaceserver[-gpu]',
    servers: [VLLM, KSERVE_PYTHON],
  },
  { repository: /^docker\.io\/rocm\/vllm$/, shown: 'docker.io/rocm/vllm', servers: [VLLM] },
  // llm-d's vLLM builds (KServe LLMInferenceService's default images).
  { repository: /^ghcr\.io\/llm-d\/llm-d(-[a-z0-9]+)*$/, shown: 'ghcr.io/llm-d/llm-d[-*]', servers: [VLLM] },
  { repository: /^docker\.io\/lmsysorg\/sglang$/, shown: 'docker.io/lmsysorg/sglang', servers: [SGLANG] },
  { repository: /^nvcr\.io\/nvidia\/tritonserver$/, shown: 'nvcr.io/nvidia/tritonserver', servers: [TRITON] },
  {
    repository: /^docker\.io\/pytorch\/torchserve(-kfs|-nightly)?$/,
    shown: 'docker.io/pytorch/torchserve[-kfs|-nightly]',
    servers: [TORCHSERVE],
  },
  { repository: /^docker\.io\/amazon\/aws-cli$/, shown: 'docker.io/amazon/aws-cli', servers: [OBJECT_COPY] },
  { repository: /^docker\.io\/rclone\/rclone$/, shown: 'docker.io/rclone/rclone', servers: [OBJECT_COPY] },
  {
    repository: /^gcr\.io\/google\.com\/cloudsdktool\/(google-)?cloud-sdk$/,
    shown: 'gcr.io/google.com/cloudsdktool/cloud-sdk',
    servers: [OBJECT_COPY],
  },
];

/** Whether the image is one the server's (or downloader's) publisher ships it in. */
export function isOfficialServerImage(grammar: Grammar, repository: string | undefined): boolean {
  if (repository === undefined) return false;
  return OFFICIAL_IMAGES.some((o) => o.servers.includes(grammar) && o.repository.test(repository));
}

/** The official repositories of a server, for messages ("docker.io/vllm/vllm-openai, ..."). */
export function officialServerImages(grammar: Grammar): string[] {
  return OFFICIAL_IMAGES.filter((o) => o.servers.includes(grammar)).map((o) => o.shown);
}

export interface ProgramInput {
  kind: 'program' | 'entrypoint';
  program?: string;
  module?: string;
  args: string[];
}

/** Which grammar reads this container, or undefined when none does. `repository` is the image's path. */
export function recognise(p: ProgramInput, repository: string | undefined): Recognition | undefined {
  const program = (grammar: Grammar, args: string[], by: string): Recognition => ({
    grammar,
    args,
    by,
    officialImage: isOfficialServerImage(grammar, repository),
  });
  if (p.kind === 'program') {
    if (p.module !== undefined) {
      for (const m of MODULES)
        if (m.module.test(p.module)) {
          if (!m.subcommand) return program(m.grammar, p.args, `python -m ${p.module}`);
          if (p.args[0] === m.subcommand)
            return program(m.grammar, p.args.slice(1), `python -m ${p.module} ${m.subcommand}`);
        }
      return undefined;
    }
    for (const e of PROGRAMS) {
      if (!e.program.test(p.program ?? '')) continue;
      if (!e.subcommand) return program(e.grammar, p.args, `program ${p.program}`);
      if (p.args[0] === e.subcommand)
        return program(e.grammar, p.args.slice(1), `${p.program} ${e.subcommand}`);
    }
    // `aws s3 cp|sync`
    if (p.program === 'aws' && p.args[0] === 's3' && (p.args[1] === 'cp' || p.args[1] === 'sync'))
      return program(OBJECT_COPY, p.args.slice(2), `aws s3 ${p.args[1]}`);
    return undefined;
  }
  if (repository === undefined) return undefined;
  if (COMMAND_RUNNING_IMAGES.test(repository) && p.args.length > 0) return undefined; // see entrypointCommand
  for (const i of IMAGES)
    if (i.repository.test(repository)) {
      // Entrypoint images that run their args as a command (tritonserver's nvidia_entrypoint.sh).
      const args = i.entrypointSubcommand && p.args[0] === i.entrypointSubcommand ? p.args.slice(1) : p.args;
      return { grammar: i.grammar, args, by: `image ${repository}`, officialImage: true };
    }
  return undefined;
}

/** For official images that exec their arguments, the arguments are the command (undefined otherwise). */
export function entrypointCommand(repository: string | undefined, args: string[]): string[] | undefined {
  return repository !== undefined && COMMAND_RUNNING_IMAGES.test(repository) && args.length > 0
    ? args
    : undefined;
}

/** KServe's modelcar scripts (storage_initializer_injector.go), as the shell sees them after `$$` -> `$`. */
const MODELCAR_LINK = /^(?:mkdir -p \S+ && )?ln -sf? \/proc\/\$\$\/root\/models (\/\S+) && sleep infinity$/;
const MODELCAR_INIT =
  /^echo 'Pre-fetching modelcar [^' ]+: ' && \[ -d \/models \] && \[ "\$\(ls -A \/models\)" \] && echo 'OK \.\.\. Prefetched and valid \(\/models exists\)' \|\| \(echo 'NOK \.\.\. Prefetched but modelcar is invalid \(\/models does not exist or is empty\)' && exit 1\)$/;

/** A KServe modelcar script: where it links the model (main container), or `init` for the pre-fetch check. */
export function modelcarScript(script: string): { link: string } | 'init' | undefined {
  const m = MODELCAR_LINK.exec(script);
  if (m) return { link: m[1]! };
  return MODELCAR_INIT.test(script) ? 'init' : undefined;
}
