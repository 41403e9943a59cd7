// Check-then-use: the verifier proves the files in a volume at one moment; anything that can write to that
// storage afterwards can swap them before the server loads them. A pod is only safe when every container
// that runs after the verifier starts (later init containers, sidecars, the server itself) sees the
// verified storage read-only, through whichever volume it reaches it (DESIGN §6b: the verifier runs after
// every writer). Image volumes are read-only whatever a mount asks (the kubelet mounts them so); every
// other volume type counts as writable unless the mount says readOnly: true.
import { isObj } from './verifier-placement.ts';

type Obj = Record<string, unknown>;

export interface VolumeWriter {
  /** "initContainers[2] \"swap-weights\"" */
  container: string;
  /** The volume it mounts writable. */
  volume: string;
  /** The verified volume that volume reaches (the same name unless it is an alias of the same storage). */
  verified: string;
}

const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function normalPath(p: string): string {
  const parts: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

const overlaps = (a: string, b: string): boolean => {
  const x = normalPath(a);
  const y = normalPath(b);
  return x === y || x.startsWith(`${y}/`) || y.startsWith(`${x}/`) || x === '/' || y === '/';
};

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObj(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/**
 * Whether two pod volumes can reach the same files: the same claim, overlapping host or NFS paths, or an
 * identical source of any other type. emptyDir and ephemeral volumes are their own storage.
 */
export function sameStorage(a: Obj, b: Obj): boolean {
  if (a.name === b.name) return true;
  for (const own of ['emptyDir', 'ephemeral', 'image', 'configMap', 'secret', 'downwardAPI', 'projected'])
    if (own in a || own in b) return false;
  const claimA = isObj(a.persistentVolumeClaim) ? str(a.persistentVolumeClaim.claimName) : undefined;
  const claimB = isObj(b.persistentVolumeClaim) ? str(b.persistentVolumeClaim.claimName) : undefined;
  if (claimA !== undefined || claimB !== undefined) return claimA === claimB;
  const hostA = isObj(a.hostPath) ? str(a.hostPath.path) : undefined;
  const hostB = isObj(b.hostPath) ? str(b.hostPath.path) : undefined;
  if (hostA !== undefined || hostB !== undefined)
    return hostA !== undefined && hostB !== undefined && overlaps(hostA, hostB);
  if (isObj(a.nfs) && isObj(b.nfs))
    return a.nfs.server === b.nfs.server && overlaps(str(a.nfs.path) ?? '/', str(b.nfs.path) ?? '/');
  const { name: _a, ...sourceA } = a;
  const { name: _b, ...sourceB } = b;
  return canonical(sourceA) === canonical(sourceB);
}

/**
 * Containers of `spec` that can write a verified volume once the verifier (init container at
 * `verifierIndex`) has run: init containers after it, restartable (sidecar) init containers before it,
 * and every regular container, each through any volume that reaches the verified storage.
 */
export function writersAfterVerifier(
  spec: Obj,
  verifiedVolumes: ReadonlySet<string>,
  verifierIndex: number,
): VolumeWriter[] {
  const volumes = arr(spec.volumes).filter(isObj);
  const byName = new Map(volumes.map((v) => [str(v.name) ?? '', v]));
  const verified = [...verifiedVolumes].map((n) => byName.get(n)).filter((v): v is Obj => v !== undefined);
  const writers: VolumeWriter[] = [];
  const inspect = (container: unknown, label: string): void => {
    if (!isObj(container)) return;
    for (const mount of arr(container.volumeMounts).filter(isObj)) {
      if (mount.readOnly === true) continue;
      const volume = byName.get(str(mount.name) ?? '');
      if (!volume || 'image' in volume) continue;
      const target = verified.find((v) => sameStorage(v, volume));
      if (target)
        writers.push({ container: label, volume: str(volume.name) ?? '', verified: str(target.name) ?? '' });
    }
  };
  arr(spec.initContainers).forEach((c, i) => {
    const name = isObj(c) ? str(c.name) : undefined;
    const sidecar = isObj(c) && c.restartPolicy === 'Always';
    if (i > verifierIndex || (i < verifierIndex && sidecar))
      inspect(c, `initContainers[${i}] "${name ?? '?'}"${sidecar ? ' (a sidecar: it keeps running)' : ''}`);
  });
  arr(spec.containers).forEach((c, i) => {
    const name = isObj(c) ? str(c.name) : undefined;
    inspect(c, `containers[${i}] "${name ?? '?'}"`);
  });
  return writers;
}
