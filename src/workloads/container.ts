// One container, read as what it runs and what it may load: the program (through launchers and simple
// shell lines), the grammar that reads it (never chosen by the container's name), every model its
// arguments and environment may name, and every input modelgate cannot read. Pure.
import { arr, isObj, obj, str, type JsonObject } from '../json/shape.ts';
import { basename, expandVariables, programOf, type EnvValue, type ProgramView } from './argv.ts';
import { readCommandLine, type Candidate, type Unreadable } from './command-line.ts';
import { envValue, isCredentialName, readEnv, type ContainerEnv } from './env.ts';
import { mountFor, mountsOf, normalisePath, type MountView, type VolumeView } from './pod.ts';
import {
  DEFAULT_ENDPOINTS,
  DOWNLOAD_ENV,
  entrypointCommand,
  GRAMMARS,
  modelcarScript,
  recognise,
  type Grammar,
  type Recognition,
} from './servers.ts';
import { parseModelUri, parseOciReference, type ParsedModelUri } from './uri.ts';

export type ContainerField = 'initContainers' | 'containers' | 'ephemeralContainers';

/** When an unreadable input matters: always, or only when what the container loads is not bound by evidence. */
export type Relevance = 'always' | 'unbound';

export interface UnreadableInput extends Unreadable {
  relevance: Relevance;
}

/** A model a container may load (or download), before the workload links it to declarations. */
export interface ContainerModel {
  /** The value as read, after $(VAR) expansion. */
  value: string;
  where: string;
  /** A URI or hub id (fetched by the server or a downloader), a local path, or the container image itself. */
  kind: 'remote' | 'path' | 'image';
  parsed?: ParsedModelUri;
  /** For local paths: the normalised absolute path, the mount holding it and the path inside its volume. */
  path?: string;
  mount?: MountView;
  pathInVolume?: string;
  /** For downloaded sources: the volume they are written to. */
  destinationVolume?: string;
  /** Why the value could not be classified (no scheme modelgate knows, relative path, ...). */
  unclassified?: string;
}

export interface ContainerView {
  field: ContainerField;
  index: number;
  /** JSON path, e.g. `spec.template.spec.containers[0]`. */
  location: string;
  name: string;
  image?: string;
  /** registry/repository of the image, canonical (docker.io/library/busybox), when it parses. */
  repository?: string;
  /** The image's manifest digest when pinned (sha256:...). */
  imageDigest?: string;
  /** An init container with restartPolicy: Always: it keeps running beside the servers. */
  sidecar: boolean;
  /** What runs, for messages: `vllm serve`, `a sh script`, `the entrypoint of image docker.io/...`. */
  runs: string;
  recognition?: { grammar: Grammar; by: string };
  models: ContainerModel[];
  /** Volumes a downloader writes (its destinations). */
  destinations: string[];
  unreadable: UnreadableInput[];
  mounts: MountView[];
  /** privileged, or capabilities that reach other containers' files or devices. */
  privileged: boolean;
  /** Ephemeral containers: the container whose namespaces it joins. */
  targetContainerName?: string;
  raw: JsonObject;
}

/** Working directories of known server images (where a relative hub id could be shadowed by a local dir). */
const IMAGE_WORKDIRS: [RegExp, string][] = [
  [/(^|\/)vllm-openai$/, '/vllm-workspace'],
  [/(^|\/)text-generation-inference$/, '/usr/src'],
  [/(^|\/)(huggingfaceserver|sklearnserver|xgbserver|lgbserver)$/, '/'],
  [/(^|\/)tritonserver$/, '/opt/tritonserver'],
];

const HUB_ID = /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/;
/** More models than this in one container is not a real server's command line: refused, not read on. */
export const MAX_CANDIDATES_PER_CONTAINER = 256;
/** A probe or hook calling a model server's load API. */
const LOAD_API = /load|adapter|pull|register|\/repository\/|unload|create/i;
/** Programs that exec probes and hooks commonly run and that cannot load a model. */
const BENIGN_PROBE_PROGRAMS = new Set([
  'cat',
  'test',
  '[',
  'ls',
  'true',
  'stat',
  'pgrep',
  'grpc_health_probe',
  'healthcheck',
  'nvidia-smi',
  'sleep',
]);
const DANGEROUS_CAPS = new Set([
  'SYS_ADMIN',
  'ALL',
  'SYS_PTRACE',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'SYS_RAWIO',
  'MKNOD',
]);

export interface ContainerContext {
  podPath: string;
  podMeta: JsonObject;
  volumes: ReadonlyMap<string, VolumeView>;
  /**
   * KServe components: a container with no image and no command is a patch onto the serving runtime's own
   * container (resources, env, extra args), which KServe fills in from the runtime. `vllm` for
   * LLMInferenceService (its runtime is vLLM serving the component's model); `runtime` otherwise.
   */
  kservePatch?: 'vllm' | 'runtime';
  /** Model candidates the whole object may still yield (shared by its containers): bounded work per request. */
  budget: { candidates: number };
}

const describeProgram = (p: ProgramView, image: string | undefined): string =>
  p.kind === 'script'
    ? `a ${p.interpreter} script`
    : p.kind === 'entrypoint'
      ? `the entrypoint of image ${image ?? '(none)'}`
      : p.module !== undefined
        ? `python -m ${p.module}`
        : `${p.program}${p.args[0] && !p.args[0].startsWith('-') ? ` ${p.args[0]}` : ''}`;

export function readContainer(
  raw: JsonObject,
  field: ContainerField,
  index: number,
  ctx: ContainerContext,
): ContainerView {
  const location = `${ctx.podPath}.${field}[${index}]`;
  const name = str(raw.name) ?? '';
  const image = str(raw.image);
  const parsedImage = image !== undefined ? parseOciReference(image) : undefined;
  const repository = parsedImage?.ok
    ? parsedImage.value.uri
        .slice('oci://'.length)
        .replace(/(@sha256:[0-9a-f]{64})?$/, '')
        .replace(/:[^/:]+$/, '')
    : undefined;
  const env: ContainerEnv = readEnv(
    raw,
    ctx.podMeta,
    (v, vars) => expandVariables(v, (n) => vars.get(n)).value,
  );
  const lookup = (n: string): EnvValue | undefined => envValue(env, n);
  const expand = (v: string) => expandVariables(v, lookup);

  const command = arr(raw.command).filter((a): a is string => typeof a === 'string');
  const args = arr(raw.args).filter((a): a is string => typeof a === 'string');
  const unreadable: UnreadableInput[] = [];
  // $(VAR) in command and args is expanded by the kubelet before the program sees it.
  const unknownVars = new Set<string>();
  const expandArgv = (list: string[], what: string): string[] =>
    list.map((a, i) => {
      const e = expand(a);
      for (const u of e.unknown) unknownVars.add(u);
      for (const u of e.unknown)
        unreadable.push({
          where: `${what}[${i}]`,
          value: a,
          reason: `$(${u}) comes from ${describeUnknown(lookup(u))}, which modelgate does not read at admission, so the argument's real value is unknown`,
          remediation: `give ${u} a literal value in the container's env, or write the value into the argument`,
          relevance: 'always',
        });
      return e.value;
    });
  const expandedArgs = expandArgv(args, 'args');
  let program = programOf(expandArgv(command, 'command'), expandedArgs);
  if (program.kind === 'entrypoint') {
    const asCommand = entrypointCommand(repository, expandedArgs);
    if (asCommand) program = programOf(asCommand, []);
  }
  const mounts = mountsOf(raw);
  const sc = obj(raw.securityContext);
  const caps = arr(obj(sc.capabilities).add).filter((c): c is string => typeof c === 'string');
  const view: ContainerView = {
    field,
    index,
    location,
    name,
    ...(image !== undefined ? { image } : {}),
    ...(repository !== undefined ? { repository } : {}),
    ...(parsedImage?.ok && parsedImage.value.digest ? { imageDigest: parsedImage.value.digest } : {}),
    sidecar: field === 'initContainers' && raw.restartPolicy === 'Always',
    runs: describeProgram(program, image),
    models: [],
    destinations: [],
    unreadable,
    mounts,
    privileged:
      sc.privileged === true || caps.some((c) => DANGEROUS_CAPS.has(c.toUpperCase().replace(/^CAP_/, ''))),
    ...(str(raw.targetContainerName) ? { targetContainerName: str(raw.targetContainerName)! } : {}),
    raw,
  };

  // KServe custom containers read STORAGE_URI, and KServe's webhook downloads it into /mnt/models.
  const storageUri = env.vars.get('STORAGE_URI');
  if (storageUri?.kind === 'literal' && storageUri.value !== '')
    addRemote(view, storageUri.value, 'env STORAGE_URI', ctx, undefined);
  else if (storageUri?.kind === 'unknown') unreadable.push(unknownModelVar('STORAGE_URI', storageUri.from));

  if (ctx.kservePatch && image === undefined && command.length === 0) {
    // KServe merges this into the runtime's server container, which serves the component's model.
    const patchArgs = program.kind === 'entrypoint' ? program.args : [];
    const grammar = ctx.kservePatch === 'vllm' ? GRAMMARS.VLLM : GRAMMARS.KSERVE_RUNTIME;
    view.recognition = {
      grammar,
      by: `the ${grammar.name} container KServe completes from the serving runtime`,
    };
    view.runs = `the serving runtime's container (completed by KServe)`;
    if (patchArgs.length > 0 && ctx.kservePatch === 'runtime')
      unreadable.push({
        where: 'args',
        value: patchArgs.join(' ').slice(0, 200),
        reason:
          'KServe appends these arguments to a serving runtime modelgate does not see here, so it cannot read them',
        remediation:
          "set the runtime's arguments in the ServingRuntime (and name the model in storageUri), or name the container's image and command",
        relevance: 'always',
      });
    else
      readWithGrammar(
        view,
        { grammar, args: patchArgs, by: view.recognition.by },
        env,
        ctx,
        raw,
        unknownVars,
        false,
      );
    readHooksAndProbes(view, raw);
    return view;
  }
  // A model image running without a command runs `sh -c <script>` from its args (KServe's modelcar).
  const script =
    program.kind === 'script'
      ? program.script
      : program.kind === 'entrypoint' &&
          /^(sh|\/bin\/sh|bash|\/bin\/bash)$/.test(program.args[0] ?? '') &&
          program.args[1] === '-c' &&
          program.args.length === 3
        ? program.args[2]!
        : undefined;
  const modelcar = script !== undefined ? modelcarScript(script) : undefined;
  if (modelcar) {
    view.recognition = {
      grammar: GRAMMARS.MODELCAR,
      by: modelcar === 'init' ? 'the KServe modelcar pre-fetch script' : 'the KServe modelcar script',
    };
    view.runs = modelcar === 'init' ? 'the KServe modelcar pre-fetch check' : 'the KServe modelcar link';
    if (view.image !== undefined) {
      const p = parseOciReference(view.image);
      const hit = modelcar !== 'init' ? mountFor(normalisePath(modelcar.link) ?? '/', mounts) : undefined;
      view.models.push({
        value: view.image,
        where: 'image (a modelcar image is the model)',
        kind: 'image',
        ...(p.ok ? { parsed: p.value } : { unclassified: p.reason }),
        ...(hit ? { destinationVolume: hit.mount.volume } : {}),
      });
    }
    readHooksAndProbes(view, raw);
    return view;
  }
  const recognition: Recognition | undefined =
    program.kind === 'script' ? undefined : recognise(program, repository);
  if (recognition) {
    view.recognition = { grammar: recognition.grammar, by: recognition.by };
    readWithGrammar(view, recognition, env, ctx, raw, unknownVars);
  } else if (program.kind === 'script') {
    unreadable.push({
      where: 'command',
      value: program.script.length > 200 ? `${program.script.slice(0, 200)}…` : program.script,
      reason: `it runs a ${program.interpreter} script, which modelgate cannot read, so what the container loads is unknown`,
      remediation:
        'run the server directly with command and args as a list (a single simple command in sh -c is read too), or have the platform team approve the image in a ClusterModelPolicy if it loads no model',
      relevance: 'always',
    });
  }
  readHooksAndProbes(view, raw);
  return view;
}

function describeUnknown(v: (EnvValue & { via?: string }) | undefined): string {
  return v?.kind === 'unknown' ? v.from : 'a source modelgate does not read';
}

function unknownModelVar(name: string, from: string): UnreadableInput {
  return {
    where: `env ${name}`,
    value: '(not literal)',
    reason: `${name} names the model and comes from ${from}, which modelgate does not read at admission`,
    remediation: `set ${name} literally in the container's env (or name the model in args), or declare the model in the modelgate.io/models annotation`,
    relevance: 'always',
  };
}

function readWithGrammar(
  view: ContainerView,
  r: Recognition,
  env: ContainerEnv,
  ctx: ContainerContext,
  raw: JsonObject,
  unknownVars: ReadonlySet<string>,
  /** False when the model comes from elsewhere (a KServe component's storageUri): no built-in default. */
  defaultApplies = true,
): void {
  const g = r.grammar;
  const reading = readCommandLine(g, r.args);
  view.unreadable.push(...reading.unreadable.map((u) => ({ ...u, relevance: 'always' as const })));
  const lookup = (n: string) => envValue(env, n);
  const flagsGiven = new Set(reading.candidates.map((c) => c.where.split(' ')[0]!));
  for (const rev of reading.revisions) flagsGiven.add(rev.where.split(' ')[0]!);

  // Environment the grammar reads: model variables (unless a flag given overrides them), revisions, runtime loading.
  const revisions = reading.revisions.map((r2) => r2.value);
  const envCandidates: Candidate[] = [];
  const names = new Set<string>([...g.env.keys()]);
  if (g.envFlagPrefix) {
    for (const n of env.vars.keys()) if (n.startsWith(g.envFlagPrefix)) names.add(n);
  }
  for (const n of names) {
    const kind = g.env.get(n) ?? (g.envFlagPrefix && n.startsWith(g.envFlagPrefix) ? 'config' : undefined);
    const overriddenBy = g.envFlags?.get(n);
    if (overriddenBy && flagsGiven.has(overriddenBy)) continue;
    const v = lookup(n);
    if (!v) continue;
    if (kind === 'model' || kind === 'model-list') {
      if (v.kind === 'unknown') view.unreadable.push(unknownModelVar(n, v.from));
      else if (v.value !== '')
        for (const x of kind === 'model-list' ? v.value.split(',') : [v.value])
          if (x.trim()) envCandidates.push({ value: x.trim(), where: `env ${n}`, kind: 'model' });
    } else if (kind === 'revision') {
      if (v.kind === 'unknown') view.unreadable.push(unknownModelVar(n, v.from));
      else if (v.value !== '') revisions.push(v.value);
    } else if (kind === 'runtime-load') {
      if (v.kind === 'unknown' || g.runtimeLoadValues?.test(v.value))
        view.unreadable.push(
          runtimeLoading(g, `env ${n}`, v.kind === 'literal' ? v.value : `(from ${v.from})`),
        );
    } else if (kind === 'config' && n.startsWith(g.envFlagPrefix ?? '\0')) {
      // llama.cpp reads every LLAMA_ARG_* as its flag: one that looks like a file or model is unreadable.
      if (/MODEL|HF|LORA|MMPROJ|DRAFT|URL|FILE|REPO|PATH|VOCODER|CONTROL/.test(n))
        view.unreadable.push({
          where: `env ${n}`,
          value: v.kind === 'literal' ? v.value : `(from ${v.from})`,
          reason: `${g.name} reads ${n} as a command-line flag that may name a model, and modelgate does not know it`,
          remediation: `name the model with a flag modelgate reads (docs/policy.md lists them for ${g.name})`,
          relevance: 'always',
        });
    } else if (kind === 'config') {
      view.unreadable.push({
        where: `env ${n}`,
        value: v.kind === 'literal' ? v.value : `(from ${v.from})`,
        reason: `${g.name} reads options from ${n}, which modelgate cannot read at admission`,
        remediation: `pass the options on the command line instead`,
        relevance: 'always',
      });
    }
  }
  for (const rl of reading.runtimeLoading) view.unreadable.push(runtimeLoading(g, rl.where, rl.value));
  if (g.loadsAtRunTime)
    view.unreadable.push({
      where: r.by,
      value: view.runs,
      reason: g.loadsAtRunTime,
      remediation:
        'serve the model with a server that loads it from a verified volume at start, or deliver it in a pinned image',
      relevance: 'always',
    });

  // Downloaders: sources go to the destination's volume.
  if (g.role === 'downloader') {
    readDownloader(view, reading, ctx, g);
    readDownloadEnv(view, env, ctx);
    return;
  }
  const candidates = [...reading.candidates, ...envCandidates].filter((c) => c.kind === 'model');
  if (
    defaultApplies &&
    candidates.length === 0 &&
    !g.imageCarriesModel &&
    g.defaultModel &&
    !view.unreadable.some((u) => u.where.startsWith('env '))
  )
    candidates.push({
      value: g.defaultModel,
      where: `${g.name}'s default model (no model is named)`,
      kind: 'model',
    });
  const workingDir = normalisePath(str(raw.workingDir) ?? '') ?? workdirOf(view.repository);
  // An argument holding $(VAR) of unknown value is already reported as unreadable: its text is not the value.
  const unknownRef = (v: string) =>
    unknownVars.size > 0 && [...unknownVars].some((u) => v.includes(`$(${u})`));
  if (candidates.length > MAX_CANDIDATES_PER_CONTAINER) {
    view.unreadable.push({
      where: 'arguments',
      value: `${candidates.length} models`,
      reason: `the container names ${candidates.length} models; modelgate reads at most ${MAX_CANDIDATES_PER_CONTAINER} per container`,
      remediation: 'split the models over several workloads',
      relevance: 'always',
    });
    candidates.length = MAX_CANDIDATES_PER_CONTAINER;
  }
  if (candidates.length > ctx.budget.candidates) {
    view.unreadable.push({
      where: 'arguments',
      value: `${candidates.length} models`,
      reason: 'the object names more models than modelgate reads in one request',
      remediation: 'split the models over several workloads',
      relevance: 'always',
    });
    candidates.length = Math.max(0, ctx.budget.candidates);
  }
  ctx.budget.candidates -= candidates.length;
  for (const c of candidates) if (!unknownRef(c.value)) addCandidate(view, c, g, ctx, workingDir, revisions);
  if (g.imageCarriesModel && view.image) {
    const p = parseOciReference(view.image);
    view.models.push({
      value: view.image,
      where: `image (${g.name} images carry their model)`,
      kind: 'image',
      ...(p.ok ? { parsed: p.value } : { unclassified: p.reason }),
    });
  }
  for (const c of reading.caches) cacheLocation(view, c.where, c.value, ctx.volumes);
  readDownloadEnv(view, env, ctx);
  // The Hugging Face client's default cache (~/.cache/huggingface) on a volume that outlives the pod.
  if (
    !['HF_HOME', 'HF_HUB_CACHE', 'HUGGINGFACE_HUB_CACHE', 'TRANSFORMERS_CACHE', 'XDG_CACHE_HOME'].some((n) =>
      envValue(env, n),
    )
  )
    for (const m of view.mounts)
      if (/\/\.cache(\/huggingface(\/hub)?)?$/.test(m.mountPath))
        cacheLocation(
          view,
          `volume mount ${m.mountPath} (the default Hugging Face cache)`,
          m.mountPath,
          ctx.volumes,
        );
}

function runtimeLoading(g: Grammar, where: string, value: string): UnreadableInput {
  return {
    where,
    value,
    reason: `${where} = ${value} lets ${g.name} load models at run time (through its API or by watching files), where no admission check or verifier sees them`,
    remediation: `remove ${where.replace(/^env /, '')}; load every model at start`,
    relevance: 'always',
  };
}

function workdirOf(repository: string | undefined): string | undefined {
  if (!repository) return undefined;
  return IMAGE_WORKDIRS.find(([re]) => re.test(repository))?.[1];
}

/** Download endpoints and caches from the environment (Hugging Face, S3, GCS, ModelScope clients). */
function readDownloadEnv(view: ContainerView, env: ContainerEnv, ctx: ContainerContext): void {
  for (const [n, kind] of DOWNLOAD_ENV) {
    const v = envValue(env, n);
    if (!v) continue;
    if (kind === 'redirect') {
      if (
        v.kind === 'literal' &&
        (v.value === '' || DEFAULT_ENDPOINTS.get(n) === v.value.replace(/\/+$/, ''))
      )
        continue;
      view.unreadable.push({
        where: `env ${n}`,
        value: v.kind === 'literal' ? v.value : `(from ${v.from})`,
        reason: `${n} redirects where models are downloaded from, so a reference's name no longer says whose bytes are fetched`,
        remediation: `remove ${n}, or deliver the model in a volume the runtime verifier checks (or a digest-pinned image)`,
        relevance: 'unbound',
      });
    } else if (kind === 'cache') {
      if (v.kind === 'unknown')
        view.unreadable.push({
          where: `env ${n}`,
          value: `(from ${v.from})`,
          reason: `${n} sets the download cache from ${v.from}, which modelgate does not read; a cache on shared storage can hold other weights under a model's name`,
          remediation: `set ${n} literally to a path on an emptyDir volume`,
          relevance: 'unbound',
        });
      else if (v.value !== '') cacheLocation(view, `env ${n}`, v.value, ctx.volumes);
    }
  }
  for (const f of env.envFrom)
    if (
      !isCredentialName(f.prefix) &&
      [...DOWNLOAD_ENV.keys()].some((n) => n.startsWith(f.prefix)) &&
      !f.source.secret
    )
      view.unreadable.push({
        where: f.location,
        value: f.source.from,
        reason: `${f.source.from} may set variables that redirect downloads or caches (${[
          ...DOWNLOAD_ENV.keys(),
        ]
          .filter((n) => n.startsWith(f.prefix))
          .slice(0, 4)
          .join(', ')}, ...), and modelgate does not read it at admission`,
        remediation: 'set the variables the server needs literally in env, or give envFrom a prefix',
        relevance: 'unbound',
      });
}

/** A download cache on storage that outlives the pod can hold other weights under a model's name. */
function cacheLocation(
  view: ContainerView,
  where: string,
  value: string,
  volumes: ContainerContext['volumes'],
): void {
  const path = normalisePath(value);
  if (path === undefined) return;
  const hit = mountFor(path, view.mounts);
  const vol = hit ? volumes.get(hit.mount.volume) : undefined;
  if (vol && !vol.podLocal)
    view.unreadable.push({
      where,
      value,
      reason: `the download cache ${value} is on volume "${vol.name}" (${vol.type}), which outlives the pod: files already there are loaded under a model's name without being downloaded or checked`,
      remediation:
        'put the cache on an emptyDir volume, or deliver the model in a volume the runtime verifier checks',
      relevance: 'unbound',
    });
}

function readDownloader(
  view: ContainerView,
  reading: ReturnType<typeof readCommandLine>,
  ctx: ContainerContext,
  g: Grammar,
): void {
  const positionals = reading.candidates;
  const pairs: { source: Candidate; dest?: string }[] = [];
  if (g === GRAMMARS.STORAGE_INITIALIZER) {
    // KServe: [src, dst] or several pairs.
    for (let i = 0; i < positionals.length; i += 2)
      pairs.push({
        source: positionals[i]!,
        ...(positionals[i + 1] ? { dest: positionals[i + 1]!.value } : {}),
      });
  } else {
    const dest = reading.destinations[0]?.value ?? positionals.find((c) => c.kind === 'destination')?.value;
    for (const c of positionals)
      if (c.kind !== 'destination') pairs.push({ source: c, ...(dest !== undefined ? { dest } : {}) });
  }
  for (const { source, dest } of pairs) {
    let destinationVolume: string | undefined;
    if (dest !== undefined) {
      const p = normalisePath(dest);
      const hit = p !== undefined ? mountFor(p, view.mounts) : undefined;
      if (hit) {
        destinationVolume = hit.mount.volume;
        if (!view.destinations.includes(destinationVolume)) view.destinations.push(destinationVolume);
      }
    }
    const value = source.value;
    if (g === GRAMMARS.HF_DOWNLOAD && HUB_ID.test(value)) {
      const revs = reading.revisions.map((r) => r.value);
      for (const rev of revs.length > 0 ? revs : [undefined]) {
        const p = parseModelUri(`hf://${value}${rev ? `:${rev}` : ''}`);
        view.models.push({
          value,
          where: source.where,
          kind: 'remote',
          ...(p.ok ? { parsed: p.value } : { unclassified: p.reason }),
          ...(destinationVolume ? { destinationVolume } : {}),
        });
      }
      continue;
    }
    addRemote(view, value, source.where, ctx, destinationVolume);
  }
}

function addRemote(
  view: ContainerView,
  value: string,
  where: string,
  _ctx: ContainerContext,
  destinationVolume: string | undefined,
): void {
  const p = parseModelUri(value);
  view.models.push({
    value,
    where,
    kind: 'remote',
    ...(p.ok ? { parsed: p.value } : { unclassified: p.reason }),
    ...(destinationVolume ? { destinationVolume } : {}),
  });
}

/** A model value read by a server's grammar: URI, hub id, absolute or relative path. */
function addCandidate(
  view: ContainerView,
  c: Candidate,
  g: Grammar,
  ctx: ContainerContext,
  workingDir: string | undefined,
  revisions: string[],
): void {
  const v = c.value.trim();
  if (v === '') return;
  if (/[\s;&|<>`$(){}*?!]/.test(v)) {
    view.models.push({
      value: v,
      where: c.where,
      kind: 'path',
      unclassified: `${JSON.stringify(v.length > 120 ? `${v.slice(0, 120)}…` : v)} is not a model reference modelgate can read (it holds spaces or shell characters)`,
    });
    return;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) {
    addRemote(view, v, c.where, ctx, undefined);
    return;
  }
  if (v.startsWith('/')) {
    addPath(view, v, c.where);
    return;
  }
  const relative =
    v.startsWith('./') || v.startsWith('../') || v === '.' || v === '..' || v.split('/').includes('..');
  if (!relative && g.hubIds && HUB_ID.test(v)) {
    // A hub id — unless a directory of that name exists where the server runs (from_pretrained prefers it).
    for (const rev of revisions.length > 0 ? revisions : [undefined]) {
      const p = parseModelUri(`hf://${v}${rev ? `:${rev}` : ''}`);
      view.models.push({
        value: v,
        where: c.where,
        kind: 'remote',
        ...(p.ok ? { parsed: p.value } : { unclassified: p.reason }),
      });
    }
    for (const local of shadowingPaths(v, view.mounts, workingDir))
      addPath(
        view,
        local,
        `${c.where} (a local directory ${local} would be loaded instead of the hub model)`,
      );
    return;
  }
  if (workingDir !== undefined) {
    addPath(view, `${workingDir}/${v}`, c.where);
    return;
  }
  if (relative) {
    view.models.push({
      value: v,
      where: c.where,
      kind: 'path',
      unclassified: `the relative path ${v} depends on the container's working directory, which is not set`,
    });
    return;
  }
  // A relative path with no working directory: inside the image, unless a volume could be there.
  const shadows = shadowingPaths(v, view.mounts, undefined);
  for (const local of shadows) addPath(view, local, c.where);
  if (shadows.length === 0) addPath(view, `/(image working directory)/${v}`, c.where, true);
}

/** Where `rel` could resolve to a mounted volume when the working directory is `workingDir` (or unknown). */
function shadowingPaths(rel: string, mounts: readonly MountView[], workingDir: string | undefined): string[] {
  if (workingDir !== undefined) {
    const p = normalisePath(`${workingDir}/${rel}`);
    return p !== undefined && mountFor(p, mounts) ? [p] : [];
  }
  const segs = rel.split('/');
  const out: string[] = [];
  for (const m of mounts) {
    for (let k = segs.length; k >= 1; k--) {
      const suffix = `/${segs.slice(0, k).join('/')}`;
      if (m.mountPath.endsWith(suffix)) {
        const cwd = m.mountPath.slice(0, m.mountPath.length - suffix.length) || '/';
        const p = normalisePath(`${cwd}/${rel}`);
        if (p !== undefined && !out.includes(p)) out.push(p);
        break;
      }
    }
  }
  return out;
}

function addPath(view: ContainerView, raw: string, where: string, inImage = false): void {
  if (inImage) {
    const p = view.image !== undefined ? parseOciReference(view.image) : undefined;
    view.models.push({
      value: raw,
      where,
      kind: 'image',
      ...(p?.ok ? { parsed: p.value } : { unclassified: p?.reason ?? 'the container has no image' }),
    });
    return;
  }
  const path = normalisePath(raw);
  if (path === undefined) {
    view.models.push({
      value: raw,
      where,
      kind: 'path',
      unclassified: `the model path ${raw} uses "..", which can leave the volume it appears to be on; write the path without ".."`,
    });
    return;
  }
  const hit = mountFor(path, view.mounts);
  if (!hit) {
    // Not on a volume: the model is baked into the container image.
    const p = view.image !== undefined ? parseOciReference(view.image) : undefined;
    view.models.push({
      value: path,
      where,
      kind: 'image',
      path,
      ...(p?.ok ? { parsed: p.value } : { unclassified: p?.reason ?? 'the container has no image' }),
    });
    return;
  }
  const inVolume = [hit.mount.subPath, hit.rest].filter((x) => x !== undefined && x !== '').join('/');
  view.models.push({ value: path, where, kind: 'path', path, mount: hit.mount, pathInVolume: inVolume });
}

/** Exec and HTTP lifecycle hooks and probes run in the container: one that calls a load API loads a model. */
function readHooksAndProbes(view: ContainerView, raw: JsonObject): void {
  const handlers: [string, unknown][] = [
    ['lifecycle.postStart', obj(raw.lifecycle).postStart],
    ['lifecycle.preStop', obj(raw.lifecycle).preStop],
    ['livenessProbe', raw.livenessProbe],
    ['readinessProbe', raw.readinessProbe],
    ['startupProbe', raw.startupProbe],
  ];
  for (const [where, h] of handlers) {
    if (!isObj(h)) continue;
    if (isObj(h.exec)) {
      const cmd = arr(h.exec.command).filter((a): a is string => typeof a === 'string');
      const p = programOf(cmd, []);
      const prog = p.kind === 'program' ? p.program : undefined;
      const callsLoadApi =
        p.kind === 'program' &&
        (prog === 'curl' || prog === 'wget') &&
        p.args.some(
          (a) =>
            LOAD_API.test(a) ||
            /^(-X|--request|-d|--data.*|--post-data|--post-file|-F|--form|-T|--upload-file)$/.test(a),
        );
      const benign =
        p.kind === 'program' &&
        p.module === undefined &&
        (BENIGN_PROBE_PROGRAMS.has(prog ?? '') || ((prog === 'curl' || prog === 'wget') && !callsLoadApi));
      if (!benign)
        view.unreadable.push({
          where: `${where}.exec`,
          value: cmd.join(' ').slice(0, 200),
          reason:
            p.kind === 'script'
              ? `the ${where} hook runs a ${p.interpreter} script inside the container, which modelgate cannot read (it could load a model through the server's API)`
              : callsLoadApi
                ? `the ${where} hook sends a request that can make the server load a model at run time`
                : `the ${where} hook runs ${basename(cmd[0] ?? '?')} inside the container, which modelgate cannot read (it could load a model through the server's API)`,
          remediation: `use an httpGet probe on the health endpoint, or a probe command such as cat or grpc_health_probe`,
          relevance: 'always',
        });
    } else if (isObj(h.httpGet)) {
      const path = str(h.httpGet.path) ?? '/';
      if (LOAD_API.test(path))
        view.unreadable.push({
          where: `${where}.httpGet`,
          value: path,
          reason: `the ${where} hook calls ${path}, which can make the server load a model at run time`,
          remediation: 'point the hook at the server health endpoint',
          relevance: 'always',
        });
    }
  }
}
