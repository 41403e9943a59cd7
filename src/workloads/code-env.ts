// Environment that makes a recognised server run code other than its own: the dynamic loader's preloads
// and library paths, interpreter search paths and start-up files, shells' start-up files, and option
// variables of other runtimes. A pinned official image with LD_PRELOAD of a file on a ConfigMap volume runs
// whatever that file says, which can load any model: such a variable is refused unless every file or
// directory it names is in the image (absolute, on no mounted volume), and whenever its value is unknown.
import type { UnreadableInput } from './container.ts';
import { envValue, type ContainerEnv } from './env.ts';
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
  for (const name of CODE_ENV) {
    const v = envValue(env, name);
    if (!v) continue;
    if (v.kind === 'unknown') {
      refuse(
        name,
        `(from ${v.from})`,
        `${name} can make the server run other code, and it comes from ${v.from}, which modelgate does not read at admission`,
      );
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
      if (hit) {
        refuse(
          name,
          v.value,
          `${name} names ${t}, on volume "${hit.mount.volume}": the server would run code the pod supplies, which can load any model`,
        );
        break;
      }
    }
  }
  return out;
}
