// The bytes at a model path must come from the mount modelgate attributed to it. Another mount at or below
// a model path replaces part of the model with other files (a PVC mounted as one file of a verified
// directory, or as one model of a Triton repository); two mounts at one path leave the runtime's choice
// (the last one wins) hidden; a mountPath that is not a normal absolute path cannot be reasoned about.
import { arr, isObj, str, type JsonObject } from '../json/shape.ts';
import type { ContainerView, UnreadableInput } from './container.ts';
import { normalisePath } from './pod.ts';

/**
 * Where a process finds the code and the loader settings it runs: the system's programs and libraries, the
 * dynamic loader's configuration, Python's installations, the NVIDIA directories first on GPU images' PATH
 * and library path. A volume at, inside or above one of them replaces code the image ships.
 */
/** A Linux system's programs and libraries (in a container image, and on the node). */
export const SYSTEM_CODE_DIRS: readonly string[] = [
  '/bin',
  '/sbin',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/usr',
];

const CODE_LOCATIONS = [
  ...SYSTEM_CODE_DIRS,
  '/etc/ld.so.preload',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/ld.so.cache',
  '/etc/pip.conf',
  '/opt/conda',
];
/**
 * Inside $HOME: Python's user site (its .pth files run at start-up), clients' configuration files, and the
 * caches of compiled code that servers load instead of compiling again — vLLM's torch.compile cache
 * (~/.cache/vllm), torch extensions, FlashInfer and DeepGEMM JIT builds, outlines' pickled cache
 * (~/.cache/...), Triton's kernels (~/.triton) and CUDA's JIT cache (~/.nv). The Hugging Face cache under
 * ~/.cache is data, judged as a download cache (container.ts hubCache; its modules/ with
 * --trust-remote-code).
 */
const HOME_CODE_LOCATIONS = [
  '.local',
  '.aws',
  '.boto',
  '.config',
  '.huggingface',
  '.pip',
  '.netrc',
  '.cache',
  '.triton',
  '.nv',
];
/** TorchInductor's default cache, /tmp/torchinductor_<user>: compiled kernels it loads (any user). */
const INDUCTOR_CACHE = '/tmp/torchinductor_';
/** Data, not code, under the locations above (time zones, mounted read-only from the host). */
const NOT_CODE = ['/usr/share/zoneinfo'];

const within = (a: string, b: string) => a === b || b === '/' || a.startsWith(`${b}/`);

/** Mounts at, inside or above a location the process loads code or client configuration from. */
function codeLocationInputs(
  raw: JsonObject,
  view: ContainerView,
  ownScratch: (volume: string) => boolean,
  out: UnreadableInput[],
): void {
  const homeVar = arr(raw.env).find((e) => isObj(e) && e.name === 'HOME');
  const home = normalisePath((isObj(homeVar) ? str(homeVar.value) : undefined) ?? '/root') ?? '/root';
  const locations = [
    ...CODE_LOCATIONS,
    ...HOME_CODE_LOCATIONS.map((l) => `${home === '/' ? '' : home}/${l}`),
  ];
  const hfCache = `${home === '/' ? '' : home}/.cache/huggingface`;
  for (const m of view.mounts) {
    // An emptyDir only this container mounts starts empty and holds only what the container itself writes.
    if ([...NOT_CODE, hfCache].some((n) => within(m.mountPath, n)) || ownScratch(m.volume)) continue;
    const hit =
      locations.find((l) => within(m.mountPath, l) || within(l, m.mountPath)) ??
      (m.mountPath.startsWith(INDUCTOR_CACHE) || within(`${INDUCTOR_CACHE}root`, m.mountPath)
        ? `${INDUCTOR_CACHE}<user>`
        : undefined);
    if (hit === undefined) continue;
    out.push({
      where: `volumeMounts ${m.volume}`,
      value: m.mountPath,
      reason: `volume "${m.volume}" is mounted at ${m.mountPath}, over ${hit}, where the container's programs, libraries, start-up settings or compiled-code caches come from: the pod would replace code the image ships, and that code decides what is loaded`,
      remediation: `mount the volume elsewhere (data under /data, /models or /mnt); put programs and their settings in the image`,
      relevance: 'always',
    });
  }
}

export function overlayInputs(
  raw: JsonObject,
  view: ContainerView,
  ownScratch: (volume: string) => boolean,
): UnreadableInput[] {
  const out: UnreadableInput[] = [];
  const refuse = (where: string, value: string, reason: string, remediation: string) =>
    out.push({ where, value, reason, remediation, relevance: 'always' });
  const seen = new Map<string, string>();
  for (const m of arr(raw.volumeMounts)) {
    if (!isObj(m)) continue;
    const written = str(m.mountPath) ?? '';
    const path = normalisePath(written);
    if (path === undefined || (path !== written && path !== written.replace(/\/+$/, ''))) {
      refuse(
        `volumeMounts ${str(m.name) ?? '?'}`,
        written,
        `the mountPath ${JSON.stringify(written)} is not a plain absolute path (".", ".." or "//" in it), so which directory it covers is not what it says`,
        'write the mountPath as a plain absolute path',
      );
      if (path === undefined) continue;
    }
    const prior = seen.get(path);
    if (prior !== undefined)
      refuse(
        `volumeMounts ${str(m.name) ?? '?'}`,
        written,
        `volumes "${prior}" and "${str(m.name) ?? '?'}" are both mounted at ${path}; the container sees only the last, which need not be the one modelgate checked`,
        'mount one volume per path',
      );
    else seen.set(path, str(m.name) ?? '?');
  }
  codeLocationInputs(raw, view, ownScratch, out);
  // A mount at or below a model path, other than the one the model is read from.
  for (const model of view.models) {
    if (model.path === undefined) continue;
    const own = model.mount?.mountPath;
    for (const m of view.mounts) {
      if (m.mountPath === own) continue;
      if (m.mountPath === model.path || m.mountPath.startsWith(`${model.path === '/' ? '' : model.path}/`))
        refuse(
          `volumeMounts ${m.volume}`,
          m.mountPath,
          `volume "${m.volume}" is mounted at ${m.mountPath}, inside the model path ${model.path}, so part of what the server loads there is not the model modelgate checked`,
          'do not mount anything inside a model directory',
        );
    }
  }
  return out;
}
