// Environment that makes a recognised server run code other than its own: the dynamic loader's preloads
// and library paths, interpreter search paths and start-up files, shells' start-up files, and option
// variables of other runtimes. A pinned official image with LD_PRELOAD of a file on a ConfigMap volume runs
// whatever that file says, which can load any model: such a variable is refused unless every file or
// directory it names is in the image (absolute, on no mounted volume), and whenever its value is unknown.
import type { UnreadableInput } from './container.ts';
import { envValue, isCredentialName, type ContainerEnv } from './env.ts';
import { mountFor, normalisePath, type MountView } from './pod.ts';

/** Variables holding paths (colon- or space-separated) the process loads code from or runs. */
const PATH_VARS = [
  'LD_PRELOAD',
  'LD_LIBRARY_PATH',
  'LD_AUDIT',
  'PYTHONPATH',
  'PYTHONHOME',
  'PYTHONSTARTUP',
  'PYTHONUSERBASE',
  'PYTHONPYCACHEPREFIX',
  'BASH_ENV',
  'ENV',
  'NODE_PATH',
  'PERL5LIB',
  'RUBYLIB',
  'CLASSPATH',
  'GCONV_PATH',
  'HF_MODULES_CACHE',
  'TRITON_CACHE_DIR',
  'TORCHINDUCTOR_CACHE_DIR',
  'TORCH_EXTENSIONS_DIR',
  'TORCH_HOME',
  'VLLM_CACHE_ROOT',
  'VLLM_CONFIG_ROOT',
  'VLLM_LOGGING_CONFIG_PATH',
  // Where compiled kernels are cached and loaded from (vLLM's torch.compile cache lives under
  // $XDG_CACHE_HOME/vllm, torch extensions under $XDG_CACHE_HOME/torch_extensions), and the tools and
  // libraries compilers and profilers load by path.
  'XDG_CACHE_HOME',
  'TRITON_HOME',
  'TRITON_OVERRIDE_DIR',
  'TRITON_LIBCUDA_PATH',
  'TRITON_PTXAS_PATH',
  'TRITON_CUOBJDUMP_PATH',
  'TRITON_NVDISASM_PATH',
  'FLASHINFER_WORKSPACE_BASE',
  'CUDA_CACHE_PATH',
  'CUDA_INJECTION64_PATH',
  'NVTX_INJECTION64_PATH',
  'NUMBA_CACHE_DIR',
  'OUTLINES_CACHE_DIR',
  'DG_JIT_CACHE_DIR',
  'CUPY_CACHE_DIR',
  'CC',
  'CXX',
  // Python's user site (~/.local: its .pth files run at start-up) and every client's ~/.config live here.
  'HOME',
  'XDG_CONFIG_HOME',
  // OpenSSL loads providers and engines that its configuration names; NCCL loads plugins by path.
  'OPENSSL_CONF',
  'OPENSSL_MODULES',
  'OPENSSL_ENGINES',
  'NCCL_NET_PLUGIN',
  'NCCL_TUNER_PLUGIN',
  'NCCL_PROFILER_PLUGIN',
];
/** Option strings of other runtimes that can load a file (--require, -javaagent, ...). */
const OPTION_VARS = [
  'NODE_OPTIONS',
  'JAVA_TOOL_OPTIONS',
  '_JAVA_OPTIONS',
  'JDK_JAVA_OPTIONS',
  'PERL5OPT',
  'RUBYOPT',
  'PYTHONWARNINGS',
];

export const CODE_ENV: readonly string[] = [...PATH_VARS, ...OPTION_VARS];

/**
 * `cwd` is the working directory when known (the container's workingDir, or the image's for known
 * images): relative entries resolve against it, as the loader and interpreters do.
 */
export function codeEnvInputs(
  env: ContainerEnv,
  mounts: readonly MountView[],
  cwd: string | undefined,
  /** An emptyDir only this container mounts: it starts empty with the pod and holds only what it writes. */
  ownScratch: (volume: string) => boolean = () => false,
): UnreadableInput[] {
  const out: UnreadableInput[] = [];
  const refuse = (name: string, value: string, reason: string) =>
    out.push({
      where: `env ${name}`,
      value,
      reason,
      remediation: `remove ${name}, or point it only at files in the image`,
      relevance: 'always',
    });
  // Variables of unknown value, by where they come from: one envFrom source may set dozens of them, and one
  // finding per source says what to fix.
  const unknown = new Map<string, string[]>();
  for (const name of CODE_ENV) {
    const v = envValue(env, name);
    if (!v) continue;
    if (v.kind === 'unknown') {
      const names = unknown.get(v.from);
      if (names) names.push(name);
      else unknown.set(v.from, [name]);
      continue;
    }
    if (v.value.trim() === '') continue;
    const tokens = PATH_VARS.includes(name)
      ? v.value.split(/[:\s]+/).filter(Boolean)
      : v.value.split(/[\s=]+/).filter((t) => t.includes('/'));
    for (const t of tokens) {
      // A relative entry resolves against the working directory; when that is unknown, it is only a risk
      // where a volume could be mounted at it.
      const path = t.startsWith('/')
        ? normalisePath(t)
        : cwd !== undefined
          ? normalisePath(`${cwd}/${t}`)
          : undefined;
      if (path === undefined) {
        const bare = t.replace(/^\.\/|\/$/g, '');
        if (!t.startsWith('/') && cwd === undefined && !mounts.some((m) => m.mountPath.endsWith(`/${bare}`)))
          continue;
        refuse(name, v.value, `${name} names ${JSON.stringify(t)}, which is not a normal path in the image`);
        break;
      }
      const hit = mountFor(path, mounts);
      if (hit && !ownScratch(hit.mount.volume)) {
        refuse(
          name,
          v.value,
          `${name} names ${t}, on volume "${hit.mount.volume}": the server would run code the pod supplies, which can load any model`,
        );
        break;
      }
    }
  }
  for (const [from, names] of unknown) {
    const shown =
      names.length > 4 ? `${names.slice(0, 4).join(', ')} and ${names.length - 4} more` : names.join(', ');
    out.push({
      where: `env ${names[0]!}`,
      value: `(from ${from})`,
      reason: `${shown} can make the server run other code, and ${names.length === 1 ? 'it comes' : 'they come'} from ${from}, which modelgate does not read at admission`,
      remediation: `set ${names.length === 1 ? names[0]! : 'these variables'} literally in the container's env (or not at all), pointing only at files in the image`,
      relevance: 'always',
    });
  }
  return out;
}

const MAX_SUPPLIED_FINDINGS = 32;

/** Volume types whose files exist before the container starts and come from the pod's author or its storage. */
const SUPPLIED = (type: string) => !['emptyDir', 'image', 'downwardAPI'].includes(type);

/**
 * Any other variable whose value names a file or directory on a volume whose content the pod supplies (a
 * ConfigMap, a Secret, a claim, a host path): modelgate does not know what the server does with that
 * variable, and a file there can change what it loads (a settings file naming another model, a client
 * configuration with another endpoint) or make it run code. Credentials from Secrets are not: they grant
 * access, they do not choose a model. Paths inside the volumes the container reads its models from are
 * bound by the model's own evidence.
 */
export function suppliedFileInputs(
  env: ContainerEnv,
  mounts: readonly MountView[],
  volumes: ReadonlyMap<string, { type: string }>,
  skip: (name: string) => boolean,
  modelVolumes: ReadonlySet<string>,
  server: string,
): UnreadableInput[] {
  const out: UnreadableInput[] = [];
  for (const [name, v] of env.vars) {
    if (v.kind !== 'literal' || skip(name) || CODE_ENV.includes(name)) continue;
    // Bounded work and output: one refusal already says what to fix; a few more name the pattern.
    if (out.length >= MAX_SUPPLIED_FINDINGS) {
      out.push({
        where: 'env',
        value: '(more variables)',
        reason: `more variables name files the pod supplies; modelgate reports the first ${MAX_SUPPLIED_FINDINGS}`,
        remediation: 'remove the variables that name files on ConfigMaps, Secrets, claims or host paths',
        relevance: 'always',
      });
      break;
    }
    for (const t of v.value.split(/[\s:,;=]+/)) {
      if (!t.startsWith('/')) continue;
      const path = normalisePath(t);
      const hit = path !== undefined ? mountFor(path, mounts) : undefined;
      if (!hit || modelVolumes.has(hit.mount.volume)) continue;
      const type = volumes.get(hit.mount.volume)?.type ?? 'unknown';
      if (!SUPPLIED(type)) continue;
      if (isCredentialName(name) && (type === 'secret' || type === 'projected')) continue;
      out.push({
        where: `env ${name}`,
        value: v.value.length > 200 ? `${v.value.slice(0, 200)}…` : v.value,
        reason: `${name} names ${t}, on volume "${hit.mount.volume}" (${type}), a file the pod supplies; modelgate does not know what ${server} does with ${name}, and such a file can change what it loads or make it run code`,
        remediation: `remove ${name}, pass the setting as a command-line flag modelgate reads, or put the file in the image`,
        relevance: 'always',
      });
      break;
    }
  }
  return out;
}
