// One container, read as what it runs and what it may load: the program (through launchers and simple
// shell lines), the grammar that reads it (never chosen by the container's name), every model its
// arguments and environment may name, and every input modelgate cannot read. Pure.
import { arr, canonicalJson, obj, str, type JsonObject } from '../json/shape.ts';
import { expandVariables, programOf, simpleShellWords, type EnvValue, type ProgramView } from './argv.ts';
import { readCommandLine, type Candidate, type Unreadable } from './command-line.ts';
import { envValue, readEnv, type ContainerEnv, type PodIdentity } from './env.ts';
import { mountFor, mountsOf, normalisePath, type MountView, type VolumeView } from './pod.ts';
import {
  entrypointCommand,
  isOfficialServerImage,
  GRAMMARS,
  modelcarScript,
  recognise,
  shellEntrypoint,
  type Grammar,
  type Recognition,
  DOWNLOAD_ENV,
} from './servers.ts';
import { parseOciReference, type ParsedModelUri } from './uri.ts';
import {
  cacheLocation,
  networkRedirects,
  readDownloadEnv,
  readDownloader,
  redirectFlags,
  type PodNetwork,
} from './downloads.ts';
import { readHooksAndProbes } from './hooks.ts';
import { codeEnvInputs, suppliedFileInputs } from './code-env.ts';
import { overlayInputs } from './overlays.ts';
import { addCandidate, addRemote, imageEnvOf, workdirOf } from './model-values.ts';

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
  /**
   * The grammar modelgate reads the container with. `officialImage`: the image is one the server's
   * publisher ships it in, or runs no code of the pod's choosing (KServe's modelcar script; a runtime container
   * KServe completes, whose image the Pod's own admission judges); otherwise only a policy can vouch for it.
   */
  recognition?: { grammar: Grammar; by: string; officialImage: boolean };
  models: ContainerModel[];
  /** Volumes a downloader writes (its destinations). */
  destinations: string[];
  unreadable: UnreadableInput[];
  mounts: MountView[];
  /** privileged, or capabilities that reach other containers' files or devices. */
  privileged: boolean;
  /** Ephemeral containers: the container whose namespaces it joins. */
  targetContainerName?: string;
  /**
   * The environment as resolved at admission (downward-API values of the object's own labels and
   * annotations included): an UPDATE that changes it is not an unchanged update.
   */
  envSnapshot: string;
  /**
   * Absolute paths the container names on its volumes, in its command, arguments and literal environment,
   * whatever flag or variable carries them (bounded): a path inside a signed model must be one its
   * signature covers (the runtime verifier checks; extract.ts passes them on).
   */
  namedPaths: NamedPath[];
  raw: JsonObject;
}

export interface NamedPath {
  volume: string;
  /** The path inside the volume ('' for its root), the mount's subPath included. */
  pathInVolume: string;
  /** Where it was named (`args[3]`, `env CHAT_TEMPLATE`) and the text, for messages. */
  where: string;
  value: string;
}

/**
 * More named paths than this in one container are not read on: the container is refused (a path past the
 * cap would go unchecked).
 */
const MAX_NAMED_PATHS = 256;

/** A relative token that may name a file: `./x`, `../x`, `.gitattributes`, `dir/file`, `file.ext`. */
const RELATIVE_FILE = /^(?:\.|[\w@+-][\w.@+-]*(?:\/|\.[A-Za-z]))/;

/**
 * Paths in command-line and environment text that fall on the container's volumes: absolute ones, and
 * relative ones (a `./x`, `dir/file` or `file.ext` token) when the working directory is on a volume — the
 * server opens them there. A path through `..` on a volume, or more than MAX_NAMED_PATHS of them, is
 * unreadable: the signature check must see every path the container names inside a model.
 */
function namedVolumePaths(
  argv: readonly { where: string; value: string; relative: boolean }[],
  mounts: readonly MountView[],
  cwd: string | undefined,
): { paths: NamedPath[]; problems: UnreadableInput[] } {
  const paths: NamedPath[] = [];
  const problems: UnreadableInput[] = [];
  if (mounts.length === 0) return { paths, problems };
  const cwdOnVolume = cwd !== undefined && mountFor(cwd, mounts) !== undefined ? cwd : undefined;
  const seen = new Set<string>();
  for (const { where, value, relative } of argv) {
    // Flag values (--x=/p), lists (a=/p,b=/q), JSON ({"path": "/p"}) and PATH-like lists (/p:/q).
    for (const t of value.split(/[\s:,;="'{}[\]]+/)) {
      const absolute = t.startsWith('/')
        ? t
        : relative && cwdOnVolume !== undefined && RELATIVE_FILE.test(t) && !t.startsWith('-')
          ? `${cwdOnVolume}/${t}`
          : undefined;
      if (absolute === undefined) continue;
      const path = normalisePath(absolute);
      if (path === undefined) {
        // `..` after a symlink leaves where the text says: refuse it when any of it lies on a volume.
        const before = normalisePath(absolute.slice(0, absolute.search(/\/\.\.(?:\/|$)/)) || '/');
        if (before !== undefined && mountFor(before, mounts) !== undefined && problems.length === 0)
          problems.push({
            where,
            value: t.length > 200 ? `${t.slice(0, 200)}…` : t,
            reason: `the path goes through ".." on a volume, so modelgate cannot tell which file it names (a symlink changes where ".." leads) nor check that a model's signature covers it`,
            remediation: 'write the path without ".." segments',
            relevance: 'always',
          });
        continue;
      }
      const hit = mountFor(path, mounts);
      if (!hit) continue;
      const pathInVolume = [hit.mount.subPath, hit.rest].filter((x) => x !== undefined && x !== '').join('/');
      const key = `${hit.mount.volume}\u0000${pathInVolume}`;
      if (seen.has(key)) continue;
      if (paths.length >= MAX_NAMED_PATHS) {
        problems.push({
          where,
          value: t.length > 200 ? `${t.slice(0, 200)}…` : t,
          reason: `the container names more than ${MAX_NAMED_PATHS} different paths on its volumes; modelgate checks a bounded number of them against the models' signatures and refuses the rest`,
          remediation: `name at most ${MAX_NAMED_PATHS} paths on volumes (pass a directory rather than its files)`,
          relevance: 'always',
        });
        return { paths, problems };
      }
      seen.add(key);
      paths.push({ volume: hit.mount.volume, pathInVolume, where, value: t });
    }
  }
  return { paths, problems };
}

/** More models than this in one container is not a real server's command line: refused, not read on. */
export const MAX_CANDIDATES_PER_CONTAINER = 256;
/**
 * Capabilities that give no reach into other containers' files, the node's devices or its kernel (Docker's
 * default set, and what network meshes, GPU and RDMA workloads add). Any other capability, unknown names
 * included, counts as privileged (SYS_ADMIN, SYS_MODULE, SYS_PTRACE, DAC_READ_SEARCH, SYS_RAWIO, MKNOD, ...).
 */
const HARMLESS_CAPS = new Set([
  'AUDIT_WRITE',
  'AUDIT_READ',
  'BLOCK_SUSPEND',
  'BPF',
  'CHOWN',
  'FOWNER',
  'FSETID',
  'IPC_LOCK',
  'IPC_OWNER',
  'KILL',
  'LEASE',
  'NET_ADMIN',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_RAW',
  'PERFMON',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
  'SYS_NICE',
  'SYS_RESOURCE',
  'SYS_TTY_CONFIG',
  'WAKE_ALARM',
]);

export interface ContainerContext {
  podPath: string;
  /** Where the container sits when it is not in a container list (KServe's predictor.model: spec.predictor.model). */
  location?: string;
  pod: PodIdentity;
  volumes: ReadonlyMap<string, VolumeView>;
  /**
   * KServe components: a container with no image and no command is a patch onto the serving runtime's own
   * container (resources, env, extra args), which KServe fills in from the runtime. `vllm` for
   * LLMInferenceService (its runtime is vLLM serving the component's model); `runtime` otherwise.
   */
  kservePatch?: 'vllm' | 'runtime';
  /**
   * The runtime KServe's own ServingRuntimes run for the component's model format (predictor.model,
   * predictor.sklearn, ...), whose grammar reads the arguments a patch appends; absent when the component
   * names its runtime or the format has no standard one.
   */
  kserveRuntime?: Grammar;
  /** The component has a storageUri: KServe downloads it to /mnt/models, where the runtime reads it. */
  kserveModelDir?: boolean;
  /** Model candidates the whole object may still yield (shared by its containers): bounded work per request. */
  budget: { candidates: number };
  /** How many containers of the pod mount each volume. */
  mountCounts?: ReadonlyMap<string, number>;
  /** The pod's own name resolution: hostAliases and DNS settings that send a host name elsewhere. */
  podNetwork?: PodNetwork;
}

const describeProgram = (p: ProgramView, image: string | undefined): string =>
  p.kind === 'script'
    ? `a ${p.interpreter} script`
    : p.kind === 'entrypoint'
      ? `the entrypoint of image ${image ?? '(none)'}`
      : p.module !== undefined
        ? `python -m ${p.module}`
        : `${p.program}${p.args[0] && !p.args[0].startsWith('-') ? ` ${p.args[0]}` : ''}`;

/**
 * A volume that starts empty (an emptyDir, a generic ephemeral claim with no data source) and that no other
 * container of the pod mounts: it holds only what this one writes.
 */
const ownScratch = (ctx: ContainerContext, volume: string): boolean =>
  ctx.volumes.get(volume)?.startsEmpty === true && (ctx.mountCounts?.get(volume) ?? 2) <= 1;

export function readContainer(
  raw: JsonObject,
  field: ContainerField,
  index: number,
  ctx: ContainerContext,
): ContainerView {
  const view = readContainerAs(raw, field, index, ctx);
  view.unreadable.push(...overlayInputs(raw, view, (vol) => ownScratch(ctx, vol)));
  return view;
}

function readContainerAs(
  raw: JsonObject,
  field: ContainerField,
  index: number,
  ctx: ContainerContext,
): ContainerView {
  const location = ctx.location ?? `${ctx.podPath}.${field}[${index}]`;
  const name = str(raw.name) ?? '';
  const image = str(raw.image);
  const parsedImage = image !== undefined ? parseOciReference(image) : undefined;
  const repository = parsedImage?.ok
    ? parsedImage.value.uri
        .slice('oci://'.length)
        .replace(/(@sha256:[0-9a-f]{64})?$/, '')
        .replace(/:[^/:]+$/, '')
    : undefined;
  const env: ContainerEnv = readEnv(raw, ctx.pod, (v, sofar) =>
    expandVariables(v, (n) => envValue(sofar, n)),
  );
  const lookup = (n: string): EnvValue | undefined => envValue(env, n);
  const expand = (v: string) => expandVariables(v, lookup);

  const command = arr(raw.command).filter((a): a is string => typeof a === 'string');
  const args = arr(raw.args).filter((a): a is string => typeof a === 'string');
  const unreadable: UnreadableInput[] = [];
  // $(VAR) in command and args is expanded by the kubelet before the program sees it.
  const unknownVars = new Set<string>();
  // Arguments holding unknown values, by their expanded text: a grammar that reads one as the value of an
  // inert flag (--host $(POD_IP), --api-key $(API_KEY)) clears it; anywhere else it stays unreadable.
  const opaqueArgs = new Map<string, UnreadableInput[]>();
  const expandArgv = (list: string[], what: string): string[] =>
    list.map((a, i) => {
      const e = expand(a);
      for (const u of e.unknown) unknownVars.add(u);
      // One finding per argument (its first unknown variable named): bounded however many references it holds.
      const u = e.unknown[0];
      if (u !== undefined) {
        const input: UnreadableInput = {
          where: `${what}[${i}]`,
          value: a.length > 200 ? `${a.slice(0, 200)}…` : a,
          reason: `$(${u}) comes from ${describeUnknown(lookup(u))}${e.unknown.length > 1 ? ` (and ${e.unknown.length - 1} more references of unknown value)` : ''}, which modelgate does not read at admission, so the argument's real value is unknown`,
          remediation: `give ${u} a literal value in the container's env, or write the value into the argument`,
          relevance: 'always',
        };
        unreadable.push(input);
        // The program itself (command[0]) is never an inert value.
        if (what === 'args' || i > 0) {
          const same = opaqueArgs.get(e.value);
          if (same) same.push(input);
          else opaqueArgs.set(e.value, [input]);
        }
      }
      return e.value;
    });
  /** Drops the findings of arguments the grammar read as inert flag values (whole, or `--flag=value`). */
  const clearInert = (inert: ReadonlySet<string>) => {
    const cleared = new Set<UnreadableInput>();
    for (const [value, inputs] of opaqueArgs) {
      const eq = value.startsWith('--') ? value.indexOf('=') : -1;
      const flagValue = eq > 0 && !value.slice(0, eq).includes('$(') ? value.slice(eq + 1) : undefined;
      if (inert.has(value) || (flagValue !== undefined && inert.has(flagValue)))
        for (const input of inputs) cleared.add(input);
    }
    if (cleared.size > 0) {
      const kept = unreadable.filter((x) => !cleared.has(x));
      unreadable.length = 0;
      unreadable.push(...kept);
    }
  };
  const expandedArgs = expandArgv(args, 'args');
  const expandedCommand = expandArgv(command, 'command');
  let program = programOf(expandedCommand, expandedArgs);
  if (program.kind === 'entrypoint') {
    const asCommand = entrypointCommand(repository, expandedArgs);
    if (asCommand) program = programOf(asCommand, []);
  }
  const mounts = mountsOf(raw);
  // Relative paths in the command line are opened in the working directory (environment values are not
  // read as relative paths: LANG=en_US.UTF-8 names no file).
  const named = namedVolumePaths(
    [
      ...expandedCommand.map((value, i) => ({ where: `command[${i}]`, value, relative: i > 0 })),
      ...expandedArgs.map((value, i) => ({ where: `args[${i}]`, value, relative: true })),
      ...[...env.vars].flatMap(([name, v]) =>
        v.kind === 'literal' ? [{ where: `env ${name}`, value: v.value, relative: false }] : [],
      ),
    ],
    mounts,
    normalisePath(str(raw.workingDir) ?? '') ?? workdirOf(repository),
  );
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
    // A Windows HostProcess container runs as a process on the node itself, outside any container.
    privileged:
      sc.privileged === true ||
      obj(sc.windowsOptions).hostProcess === true ||
      caps.some((c) => !HARMLESS_CAPS.has(c.toUpperCase().replace(/^CAP_/, ''))),
    ...(str(raw.targetContainerName) ? { targetContainerName: str(raw.targetContainerName)! } : {}),
    envSnapshot: canonicalJson([[...env.vars.entries()], env.envFrom]),
    namedPaths: named.paths,
    raw,
  };
  unreadable.push(...named.problems);

  // KServe custom containers read STORAGE_URI, and KServe's webhook downloads it into /mnt/models.
  const storageUri = env.vars.get('STORAGE_URI');
  if (storageUri?.kind === 'literal' && storageUri.value !== '')
    addRemote(view, storageUri.value, 'env STORAGE_URI', ctx, undefined);
  else if (storageUri?.kind === 'unknown') unreadable.push(unknownModelVar('STORAGE_URI', storageUri.from));

  // An LLMInferenceService container without a command runs the command of KServe's template (merged by
  // container name) — vLLM serving the component's model — in its own image when it names one.
  if (ctx.kservePatch && command.length === 0 && (image === undefined || ctx.kservePatch === 'vllm')) {
    // KServe merges this into the runtime's server container, which serves the component's model.
    const patchArgs = [
      ...(ctx.kservePatch === 'vllm' ? additionalVllmArgs(env, unreadable) : []),
      ...(program.kind === 'entrypoint' ? program.args : []),
    ];
    const grammar =
      ctx.kservePatch === 'vllm' ? GRAMMARS.VLLM : (ctx.kserveRuntime ?? GRAMMARS.KSERVE_RUNTIME);
    const officialImage = image === undefined || isOfficialServerImage(grammar, repository);
    view.recognition = {
      grammar,
      by:
        image === undefined
          ? `the ${grammar.name} container KServe completes from the serving runtime`
          : `KServe's ${grammar.name} template in image ${repository ?? image}`,
      officialImage,
    };
    view.runs = `the serving runtime's container (completed by KServe)`;
    if (patchArgs.length > 0 && grammar === GRAMMARS.KSERVE_RUNTIME)
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
      clearInert(
        readWithGrammar(
          view,
          { grammar, args: patchArgs, by: view.recognition.by, officialImage },
          env,
          ctx,
          raw,
          unknownVars,
          false,
        ),
      );
    if (ctx.kserveModelDir) {
      // /mnt/models is the component's storageUri, downloaded by KServe: the reference to it stands for it.
      const downloaded = (m: ContainerModel) =>
        m.kind === 'image' &&
        m.path !== undefined &&
        (m.path === '/mnt/models' || m.path.startsWith('/mnt/models/'));
      view.models = view.models.filter((m) => !downloaded(m));
    }
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
      officialImage: true,
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
  // The program must be the image's: not a file on a volume, not found through a PATH the pod chose.
  if (program.kind === 'program') {
    for (const [k, v] of program.env) env.vars.set(k, { kind: 'literal', value: v });
    const origin = programOrigin(program, mounts, env, str(raw.workingDir), repository);
    if (origin) {
      unreadable.push({
        where: 'command',
        value: program.path,
        reason: origin,
        remediation:
          "run the program the image ships (an absolute path in the image, or a name found in the image's PATH), with the working directory in the image",
        relevance: 'always',
      });
      view.runs = `${program.path} (${origin})`;
      readHooksAndProbes(view, raw);
      return view;
    }
  }
  const recognition: Recognition | undefined =
    program.kind === 'script' ? undefined : recognise(program, repository);
  if (recognition) {
    view.recognition = {
      grammar: recognition.grammar,
      by: recognition.by,
      // A KServe component's container without an image runs the image KServe fills in from the serving
      // runtime (or its LLMInferenceService config): the Pod's own admission judges that image.
      officialImage: recognition.officialImage || (ctx.kservePatch !== undefined && image === undefined),
    };
    if (program.kind === 'entrypoint') entrypointWorkdir(view, raw, ctx, repository);
    clearInert(readWithGrammar(view, recognition, env, ctx, raw, unknownVars));
    if (program.kind === 'entrypoint') readShellEntrypoint(view, expandedArgs, env, ctx, repository);
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

/**
 * An image's entrypoint runs as the image says — for Python servers `python3 -m <server>` (vLLM's image,
 * KServe's), which imports modules from the working directory before the installed ones. A working
 * directory on a volume the pod supplies (the container's workingDir, or a volume over the image's own
 * WORKDIR) can then replace the server's code, as with an explicit `python -m` (programOrigin).
 */
function entrypointWorkdir(
  view: ContainerView,
  raw: JsonObject,
  ctx: ContainerContext,
  repository: string | undefined,
): void {
  const written = str(raw.workingDir);
  const cwd = written !== undefined ? normalisePath(written) : workdirOf(repository);
  if (cwd === undefined) {
    if (written !== undefined)
      view.unreadable.push({
        where: 'workingDir',
        value: written,
        reason: `the working directory ${JSON.stringify(written)} is not a normal absolute path`,
        remediation: 'write workingDir as a plain absolute path in the image, or leave it unset',
        relevance: 'always',
      });
    return;
  }
  const hit = mountFor(cwd, view.mounts);
  if (!hit || ownScratch(ctx, hit.mount.volume)) return;
  view.unreadable.push({
    where: 'workingDir',
    value: cwd,
    reason: `the image's entrypoint runs with the working directory ${cwd} on volume "${hit.mount.volume}"; a Python entrypoint (python -m, as vLLM's and KServe's images run) imports modules from there first, so files on that volume can replace the server's code`,
    remediation:
      'leave the working directory in the image (unset workingDir, mount nothing over the image WORKDIR), or run the server with an explicit command',
    relevance: 'always',
  });
}

/**
 * Where a program comes from, when it is not the image's own: a path on a mounted volume, a relative path
 * whose working directory is unknown or on a volume, a PATH the pod set that reaches a volume, or (for
 * `python -m`) a working directory on a volume that shadows the module. Undefined when it is the image's.
 */
function programOrigin(
  program: Extract<ProgramView, { kind: 'program' }>,
  mounts: readonly MountView[],
  env: ContainerEnv,
  workingDirRaw: string | undefined,
  repository: string | undefined,
): string | undefined {
  const onVolume = (p: string) => mountFor(p, mounts)?.mount.volume;
  const cwdRaw = program.chdir ?? workingDirRaw;
  if (cwdRaw !== undefined && normalisePath(cwdRaw) === undefined)
    return `its working directory ${JSON.stringify(cwdRaw)} is not a normal absolute path`;
  const cwd = cwdRaw !== undefined ? normalisePath(cwdRaw) : workdirOf(repository);
  const path = program.path;
  if (path.startsWith('/')) {
    const n = normalisePath(path);
    if (n === undefined) return `the program path ${path} uses ".."`;
    const v = onVolume(n);
    return v !== undefined
      ? `the program ${path} is a file on volume "${v}", not part of the image`
      : undefined;
  }
  if (path.includes('/')) {
    if (cwd === undefined)
      return `the relative program path ${path} depends on a working directory modelgate does not know`;
    const n = normalisePath(`${cwd}/${path}`);
    const v = n !== undefined ? onVolume(n) : 'unknown';
    return v !== undefined ? `the program ${path} resolves to a file on volume "${v}"` : undefined;
  }
  const PATH = envValue(env, 'PATH');
  if (PATH?.kind === 'unknown') return `PATH comes from ${PATH.from}, so which "${path}" runs is unknown`;
  if (PATH?.kind === 'literal')
    for (const dir of PATH.value.split(':')) {
      const n = normalisePath(dir || '.');
      if (n === undefined)
        return `PATH holds ${JSON.stringify(dir)}, a relative directory, so which "${path}" runs depends on the working directory`;
      const v = onVolume(n);
      if (v !== undefined)
        return `PATH holds ${dir}, on volume "${v}", so "${path}" may be a file the pod supplies`;
    }
  if (program.module !== undefined && cwd !== undefined) {
    // python -m puts the working directory first on sys.path.
    const v = onVolume(cwd);
    if (v !== undefined)
      return `python -m runs with the working directory ${cwd} on volume "${v}", where a module of that name shadows the installed one`;
  }
  return undefined;
}

/**
 * KServe's LLMInferenceService template runs `eval "vllm serve /mnt/models ... ${VLLM_ADDITIONAL_ARGS} $@"`:
 * the variable is more vLLM arguments, read by the shell first. Literal words (quotes allowed) are read as
 * vLLM arguments; anything the shell would do more with (variables, `;`, substitutions) runs commands.
 */
const ADDITIONAL_ARGS = 'VLLM_ADDITIONAL_ARGS';
function additionalVllmArgs(env: ContainerEnv, unreadable: UnreadableInput[]): string[] {
  const v = envValue(env, ADDITIONAL_ARGS);
  if (!v) return [];
  if (v.kind === 'unknown') {
    unreadable.push({
      where: `env ${ADDITIONAL_ARGS}`,
      value: `(from ${v.from})`,
      reason: `KServe's vLLM template adds ${ADDITIONAL_ARGS} to vLLM's command line, and it comes from ${v.from}, which modelgate does not read at admission`,
      remediation: `set ${ADDITIONAL_ARGS} literally in the container's env`,
      relevance: 'always',
    });
    return [];
  }
  if (v.value.trim() === '') return [];
  // A leading word keeps simpleShellWords from reading the first argument as a command or an assignment.
  const words = simpleShellWords(`vllm ${v.value}`)?.slice(1);
  if (words === undefined)
    unreadable.push({
      where: `env ${ADDITIONAL_ARGS}`,
      value: v.value.length > 200 ? `${v.value.slice(0, 200)}…` : v.value,
      reason: `KServe's vLLM template evaluates ${ADDITIONAL_ARGS} as shell code (eval), and this value is more than literal words: it can run other commands`,
      remediation: `give ${ADDITIONAL_ARGS} only vLLM flags and values, quoted with '...' where needed`,
      relevance: 'always',
    });
  return words ?? [];
}

/** Revision flags of the main model, and variables naming it. */
const MAIN_REVISION_FLAGS = new Set(['--revision', '--model-revision']);
const MAIN_MODEL_ENV = new Set(['MODEL_ID', 'STORAGE_URI']);

function describeUnknown(v: (EnvValue & { via?: string }) | undefined): string {
  return v?.kind === 'unknown' ? v.from : 'a source modelgate does not read';
}

/** What an unquoted shell expansion changes: white space splits, `*` `?` `[` expand as file names. */
const SHELL_CHANGES = /[\s*?[]/;

/**
 * The image is referenced by a "server" or "light" tag alone (llama.cpp's images whose entrypoint is the server
 * or llama-cli itself): the runtime resolves that tag, and only the publisher moves it. With a digest, the
 * digest decides which image runs, whatever the tag says.
 */
function serverTagOnly(image: string | undefined): boolean {
  const ref = image !== undefined ? parseOciReference(image) : undefined;
  if (!ref?.ok || ref.value.digest !== undefined) return false;
  return /:(server|light)(-[\w.-]+)?$/.test(ref.value.uri);
}

/**
 * An official image whose entrypoint script expands the pod's arguments or variables unquoted (servers.ts
 * SHELL_ENTRYPOINTS): a value the shell would split or glob (or an empty argument, which it drops) reaches
 * the server as other arguments than the ones modelgate read; a model the script downloads from the
 * environment replaces the one the server is told to load.
 */
function readShellEntrypoint(
  view: ContainerView,
  args: readonly string[],
  env: ContainerEnv,
  ctx: ContainerContext,
  repository: string | undefined,
): void {
  const shell = shellEntrypoint(repository);
  if (!shell) return;
  const changed = (where: string, value: string, how: string, remediation: string) =>
    view.unreadable.push({
      where,
      value: value.length > 200 ? `${value.slice(0, 200)}…` : value,
      reason: `the entrypoint of image ${repository} expands ${how} unquoted in the shell, which splits it at white space, expands * ? [ as file names${how === 'its arguments ($@)' ? ' and drops an empty one' : ''}, so the server sees other arguments than modelgate read`,
      remediation,
      relevance: 'always',
    });
  const i = shell.splitsArgs ? args.findIndex((a) => a === '' || SHELL_CHANGES.test(a)) : -1;
  if (i >= 0)
    changed(
      `args[${i}]`,
      args[i]!,
      'its arguments ($@)',
      'give every option and value as its own argument, without white space, *, ? or [ and not empty (or set command to run the server directly)',
    );
  if (shell.toolWords?.test(args[0] ?? '') && !serverTagOnly(view.image))
    view.unreadable.push({
      where: 'args[0]',
      value: args[0]!,
      reason: `some images of ${repository} (the "full" tags) run a script that reads the first argument as the tool to start ("${args[0]}" may start another program than the server, with the rest of the arguments), and only a "server" or "light" tag without a digest says which image runs (with a digest, the digest decides)`,
      remediation:
        "set command to the server's program in the image (for example [/app/llama-server]), or begin args with another option (--ctx-size rather than -c)",
      relevance: 'always',
    });
  for (const name of shell.splitEnv) {
    const v = env.vars.get(name);
    if (v?.kind === 'literal' && SHELL_CHANGES.test(v.value))
      changed(
        `env ${name}`,
        v.value,
        `$${name}`,
        `set ${name} without white space, *, ? or [ (or set command to run the server directly)`,
      );
  }
  for (const name of shell.downloadEnv) {
    const v = env.vars.get(name);
    if (v?.kind === 'literal' && v.value !== '')
      addRemote(
        view,
        v.value,
        `env ${name} (the image's entrypoint downloads it and serves it)`,
        ctx,
        undefined,
      );
    else if (v?.kind === 'unknown') view.unreadable.push(unknownModelVar(name, v.from));
  }
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
): ReadonlySet<string> {
  const g = r.grammar;
  const cwdForCode = normalisePath(str(raw.workingDir) ?? '') ?? workdirOf(view.repository);
  view.unreadable.push(...codeEnvInputs(env, view.mounts, cwdForCode, (vol) => ownScratch(ctx, vol)));
  const reading = readCommandLine(g, r.args);
  view.unreadable.push(...reading.unreadable.map((u) => ({ ...u, relevance: 'always' as const })));
  const lookup = (n: string) => envValue(env, n);
  const flagsGiven = new Set(reading.candidates.map((c) => c.where.split(' ')[0]!));
  for (const rev of reading.revisions) flagsGiven.add(rev.where.split(' ')[0]!);

  // Environment the grammar reads: model variables (unless a flag given overrides them), revisions, runtime loading.
  // A revision pins the model of its own flag: --revision (or REVISION) the main model, --tokenizer-revision
  // the tokenizer. A tokenizer, an adapter or a draft model named without its own revision is not pinned.
  const flagOf = (where: string) => where.split(' ')[0]!.replace(/_/g, '-');
  const revisions = reading.revisions
    .filter((r2) => MAIN_REVISION_FLAGS.has(flagOf(r2.where)))
    .map((r2) => r2.value);
  // The main model's repository is also read at the tokenizer's revision (when no --tokenizer names
  // another) and at the code revision: every one of them must pin it.
  const alsoMain = (r2: { where: string }) =>
    flagOf(r2.where) === '--code-revision' ||
    (flagOf(r2.where) === '--tokenizer-revision' && !flagsGiven.has('--tokenizer'));
  const revisionsFor = (c: Candidate): (string | undefined)[] =>
    c.revisions
      ? c.revisions
      : c.main
        ? reading.revisions.some(alsoMain)
          ? [
              ...(revisions.length > 0 ? revisions : [undefined]),
              ...reading.revisions.filter(alsoMain).map((r2) => r2.value),
            ]
          : revisions
        : reading.revisions
            .filter((r2) => flagOf(r2.where) === `${flagOf(c.where)}-revision`)
            .map((r2) => r2.value);
  const envCandidates: Candidate[] = [];
  const names = new Set<string>([...g.env.keys()]);
  const prefixed = (n: string) =>
    (g.envFlagPrefix !== undefined && n.startsWith(g.envFlagPrefix)) ||
    (g.envConfigPrefixes ?? []).some((p) => n.startsWith(p));
  for (const n of env.vars.keys()) if (prefixed(n)) names.add(n);
  // An envFrom source may set any variable of those prefixes: settings modelgate cannot read.
  const prefixes = [
    ...(g.envFlagPrefix !== undefined ? [g.envFlagPrefix] : []),
    ...(g.envConfigPrefixes ?? []),
  ];
  for (const f of env.envFrom) {
    const p = prefixes.find((x) => x.startsWith(f.prefix) || f.prefix.startsWith(x));
    if (p !== undefined)
      view.unreadable.push({
        where: f.location,
        value: f.source.from,
        reason: `${g.name} reads its settings from ${p}* variables, and ${f.source.from} may set them, which modelgate does not read at admission`,
        remediation: `set the ${p}* variables ${g.name} needs literally in env`,
        relevance: 'always',
      });
  }
  for (const n of names) {
    const kind = g.env.get(n) ?? (prefixed(n) ? 'config' : undefined);
    const overriddenBy = g.envFlags?.get(n);
    if (overriddenBy && flagsGiven.has(overriddenBy)) continue;
    const v = lookup(n);
    if (!v) continue;
    if (kind === 'model' || kind === 'model-list' || kind === 'hub') {
      if (v.kind === 'unknown') view.unreadable.push(unknownModelVar(n, v.from));
      else if (v.value !== '')
        for (const x of kind === 'model-list' ? v.value.split(',') : [v.value])
          if (x.trim())
            envCandidates.push({
              value: x.trim(),
              where: `env ${n}`,
              kind: 'model',
              ...(kind === 'model' && MAIN_MODEL_ENV.has(n) ? { main: true as const } : {}),
              ...(kind === 'hub' ? { hub: true as const } : {}),
            });
    } else if (kind === 'revision') {
      if (v.kind === 'unknown') view.unreadable.push(unknownModelVar(n, v.from));
      else if (v.value !== '') revisions.push(v.value);
    } else if (kind === 'redirect') {
      // A server that downloads what its image only names (NIM's profiles): the digest binds nothing then.
      view.unreadable.push({
        where: `env ${n}`,
        value: v.kind === 'literal' ? v.value : `(from ${v.from})`,
        reason: `${n} makes ${g.name} download its model from another place than the one its image names, so neither the image's digest nor the model's name says whose bytes are loaded`,
        remediation: `remove ${n}`,
        relevance: g.imageCarriesModel ? 'always' : 'unbound',
      });
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

  // Variables naming files the pod supplies, once the volumes the container reads models from are known.
  const supplied = () => {
    const modelVolumes = new Set<string>();
    for (const m of view.models) {
      if (m.mount) modelVolumes.add(m.mount.volume);
      if (m.destinationVolume) modelVolumes.add(m.destinationVolume);
    }
    const skip = (n: string) => g.env.has(n) || prefixed(n) || DOWNLOAD_ENV.has(n);
    view.unreadable.push(...suppliedFileInputs(env, view.mounts, ctx.volumes, skip, modelVolumes, g.name));
  };
  // Downloaders: sources go to the destination's volume.
  redirectFlags(view, reading);
  if (g.role === 'downloader') {
    readDownloader(view, reading, ctx, g);
    readDownloadEnv(view, env, ctx);
    networkRedirects(view, ctx);
    supplied();
    return reading.inert;
  }
  if (g === GRAMMARS.TF_SERVING && !flagsGiven.has('--model_base_path'))
    tfServingModel(view, env, envCandidates);
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
  // (Linear in the value: its references are read once and looked up in the set.)
  const unknownRef = (v: string) =>
    unknownVars.size > 0 &&
    expandVariables(v, (n) => (unknownVars.has(n) ? { kind: 'unknown', from: n } : undefined)).unknown
      .length > 0;
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
  for (const c of candidates)
    if (!unknownRef(c.value)) addCandidate(view, c, g, ctx, workingDir, revisionsFor(c));
    else if (reading.inert.has(c.value))
      // Also an inert flag's value elsewhere on the line: reported here, as the model it may be.
      view.unreadable.push({
        where: c.where,
        value: c.value,
        reason: `${c.where} holds a $(VAR) reference whose value modelgate does not read at admission, so the model it names is unknown`,
        remediation:
          'write the model into the argument, or give the variable a literal value in the container env',
        relevance: 'always',
      });
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
  if (view.models.some((m) => m.kind === 'remote')) networkRedirects(view, ctx);
  hubCache(view, env, ctx);
  if (r.args.some((a) => /^--trust[-_]remote[-_]code(=|$)/.test(a))) trustedCodeCache(view, env, ctx);
  supplied();
  return reading.inert;
}

/**
 * With --trust-remote-code the server imports the model repository's Python files from the Hugging Face
 * modules cache (HF_MODULES_CACHE, by default $HF_HOME/modules): storage the pod brings there is code it runs.
 */
function trustedCodeCache(view: ContainerView, env: ContainerEnv, ctx: ContainerContext): void {
  if (envValue(env, 'HF_MODULES_CACHE') !== undefined) return; // a path variable: code-env.ts judges it
  const lit = (n: string) => {
    const v = envValue(env, n);
    if (v === undefined) return imageEnvOf(view.repository, n);
    return v.kind === 'literal' && v.value !== '' ? v.value : undefined;
  };
  const hfHome =
    lit('HF_HOME') ?? `${lit('XDG_CACHE_HOME') ?? `${lit('HOME') ?? '/root'}/.cache`}/huggingface`;
  const modules = normalisePath(`${hfHome}/modules`);
  const hit = modules !== undefined ? mountFor(modules, view.mounts) : undefined;
  if (!hit || ownScratch(ctx, hit.mount.volume)) return;
  view.unreadable.push({
    where: '--trust-remote-code',
    value: modules!,
    reason: `with --trust-remote-code the server imports the model's Python code from ${modules}, which is on volume "${hit.mount.volume}": code there is whatever that storage holds`,
    remediation:
      'mount the Hugging Face cache on an emptyDir only the server uses, or drop --trust-remote-code',
    relevance: 'always',
  });
}

/**
 * Where the Hugging Face client caches downloads, as it decides: HF_HUB_CACHE, else HF_HOME/hub, else
 * $XDG_CACHE_HOME/huggingface/hub, else $HOME/.cache/huggingface/hub (HOME is /root when unset, as for
 * root). A cache on storage that outlives the pod (at it, above it or inside it) can hold other weights.
 */
function hubCache(view: ContainerView, env: ContainerEnv, ctx: ContainerContext): void {
  const value = (n: string) => envValue(env, n);
  for (const n of [
    'HF_HUB_CACHE',
    'HUGGINGFACE_HUB_CACHE',
    'TRANSFORMERS_CACHE',
    'HF_HOME',
    'XDG_CACHE_HOME',
    'HOME',
  ]) {
    const v = value(n);
    if (v?.kind === 'unknown') {
      view.unreadable.push({
        where: `env ${n}`,
        value: `(from ${v.from})`,
        reason: `${n} decides where downloads are cached and comes from ${v.from}, which modelgate does not read; a cache on shared storage can hold other weights under a model's name`,
        remediation: `set ${n} literally to a path on an emptyDir volume`,
        relevance: 'unbound',
      });
      return;
    }
  }
  const lit = (n: string) => {
    const v = value(n);
    if (v === undefined) return imageEnvOf(view.repository, n);
    return v.kind === 'literal' && v.value !== '' ? v.value : undefined;
  };
  const home = lit('HOME') ?? '/root';
  const cache =
    lit('HF_HUB_CACHE') ??
    lit('HUGGINGFACE_HUB_CACHE') ??
    lit('TRANSFORMERS_CACHE') ??
    (lit('HF_HOME')
      ? `${lit('HF_HOME')}/hub`
      : `${lit('XDG_CACHE_HOME') ?? `${home}/.cache`}/huggingface/hub`);
  cacheLocation(view, 'the Hugging Face cache', cache, ctx.volumes);
  // Also any mount named like a cache under a home this container may have (the image's user is unknown).
  for (const m of view.mounts)
    if (/\/\.cache(\/huggingface(\/hub)?)?$/.test(m.mountPath))
      cacheLocation(
        view,
        `volume mount ${m.mountPath} (a Hugging Face cache)`,
        `${m.mountPath}`,
        ctx.volumes,
      );
}

/**
 * TensorFlow Serving's image serves ${MODEL_BASE_PATH}/${MODEL_NAME} (defaults /models and model): the name
 * is one path segment, never a way out of the base path.
 */
function tfServingModel(view: ContainerView, env: ContainerEnv, out: Candidate[]): void {
  const base = envValue(env, 'MODEL_BASE_PATH');
  const name = envValue(env, 'MODEL_NAME');
  for (const [n, v] of [
    ['MODEL_BASE_PATH', base],
    ['MODEL_NAME', name],
  ] as const)
    if (v?.kind === 'unknown') {
      view.unreadable.push(unknownModelVar(n, v.from));
      return;
    }
  if (!base && !name) return;
  const nameValue = name?.kind === 'literal' ? name.value : 'model';
  if (nameValue === '' || nameValue === '.' || nameValue === '..' || nameValue.includes('/')) {
    view.unreadable.push({
      where: 'env MODEL_NAME',
      value: nameValue,
      reason: `MODEL_NAME ${JSON.stringify(nameValue)} is not a single directory name, so the model is read from outside MODEL_BASE_PATH`,
      remediation: 'set MODEL_NAME to the model directory name under MODEL_BASE_PATH',
      relevance: 'always',
    });
    return;
  }
  const baseValue = base?.kind === 'literal' ? base.value : '/models';
  out.push({
    value: `${baseValue.replace(/\/+$/, '')}/${nameValue}`,
    where: 'env MODEL_BASE_PATH/MODEL_NAME',
    kind: 'model',
    main: true,
  });
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
