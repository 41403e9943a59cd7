// No writer of the verified bytes after verification. The runtime verifier's result is evidence only for
// the bytes the server then reads, so from the moment the verifier starts nothing in the pod may be able
// to change a volume it checks: init containers that write it run before it; every container that runs
// beside or after it (native sidecars, the servers, ephemeral containers, later init containers) mounts it
// read-only; no second volume aliases the same storage; and nothing reaches another container's files
// (a shared process namespace, privileged containers, host paths into the kubelet's or the runtime's
// directories, debug containers targeting a server).
//
// What a pod cannot close by itself: storage that other pods write (a ReadWriteMany claim mounted
// elsewhere). Use ReadOnlyMany claims or OCI image volumes for verified models (docs/policy.md).
import { VERIFIER_CONTAINER_NAME } from '../../api/types.ts';
import { obj, str } from '../../json/shape.ts';
import type { PodSpecView, WorkloadContainer } from '../../workloads/extract.ts';
import { normalisePath } from '../../workloads/pod.ts';
import { modelsOf, verifiedVolumes } from '../binding.ts';
import type { Check, Finding } from '../types.ts';

/** Host paths that lead into other containers' files, the kubelet's volumes or the container runtime. */
const PROTECTED_HOST_PATHS = [
  '/var/lib/kubelet',
  '/var/lib/containerd',
  '/run/containerd',
  '/var/run/containerd',
  '/var/lib/docker',
  '/var/run/docker.sock',
  '/run/docker.sock',
  '/var/lib/containers',
  '/run/crio',
  '/var/run/crio',
  '/var/log/pods',
  '/proc',
  '/sys',
  '/dev',
];

/** True when mounting `hostPath` exposes a protected path (it is one, lies inside one, or contains one). */
export function hostPathReachesContainers(hostPath: string): boolean {
  const p = normalisePath(hostPath);
  if (p === undefined) return true;
  return PROTECTED_HOST_PATHS.some(
    (q) => p === q || p.startsWith(`${q}/`) || p === '/' || q.startsWith(`${p}/`),
  );
}

const FIX_RO =
  'mount the model volume with readOnly: true in every container except the init containers that write it before the verifier';

export const noWriterAfterVerification: Check = (ctx) => {
  const { workload, policy } = ctx;
  const verified = verifiedVolumes(workload, policy);
  if (verified.size === 0) return [];
  const findings: Finding[] = [];
  const add = (message: string, remediation: string) =>
    findings.push({ check: 'integrity', message, remediation });
  workload.podSpecs.forEach((pod, p) => {
    const mine = [...verified].filter((v) => pod.volumes.has(v));
    if (mine.length === 0) return;
    const containers = workload.containers.filter((c) => c.pod === p && c.name !== VERIFIER_CONTAINER_NAME);
    podWide(pod, mine, add);
    // Writers: init containers (not sidecars) with a writable mount of a verified volume. The verifier is
    // placed right after the last of them, so every later init container runs after the verifier.
    const inits = containers.filter((c) => c.field === 'initContainers');
    // Image, ConfigMap, Secret and projected volumes are read-only whatever the mount says.
    const writes = (c: WorkloadContainer, v: string) =>
      !pod.volumes.get(v)?.readOnlySource && c.mounts.some((m) => m.volume === v && !m.readOnly);
    const lastWriter = Math.max(
      -1,
      ...inits.filter((c) => !c.sidecar && mine.some((v) => writes(c, v))).map((c) => c.index),
    );
    for (const c of containers) {
      for (const v of mine) {
        if (!writes(c, v)) continue;
        if (c.field === 'initContainers' && !c.sidecar) continue; // runs, and ends, before the verifier
        const when =
          c.field === 'initContainers'
            ? 'a native sidecar (restartPolicy: Always) keeps running while and after the verifier checks it'
            : c.field === 'ephemeralContainers'
              ? 'an ephemeral container starts after the verifier checked it'
              : 'it runs after the verifier checked it';
        add(
          `container "${c.name}" (${c.location}) mounts verified volume "${v}" writable; ${when}, so it could change the verified files before or while they are loaded`,
          FIX_RO,
        );
      }
      // An init container that loads a verified model must run after every writer (and so after the verifier).
      if (
        c.field === 'initContainers' &&
        !c.sidecar &&
        c.index < lastWriter &&
        modelsOf(workload, c).some((m) => m.volume && mine.includes(m.volume))
      )
        add(
          `init container "${c.name}" (${c.location}) loads a model from a verified volume before init container ${lastWriter + 1} finishes writing it, so it would load files the verifier has not checked`,
          'move it after the init containers that download or write the model',
        );
      if (c.targetContainerName !== undefined) {
        const target = containers.find(
          (t) => t.name === c.targetContainerName && t.field !== 'ephemeralContainers',
        );
        if (target && target.mounts.some((m) => mine.includes(m.volume)))
          add(
            `ephemeral container "${c.name}" targets container "${target.name}", sharing its process namespace, through which it can reach the verified model files the target reads`,
            'debug without --target, or in a copy of the pod (kubectl debug --copy-to)',
          );
      }
      if (c.privileged)
        add(
          `container "${c.name}" (${c.location}) is privileged or adds capabilities that reach other containers' files and devices, so it could change verified model files`,
          'drop privileged and the added capabilities (SYS_ADMIN, SYS_PTRACE, DAC_OVERRIDE, ...) from containers of pods that load verified models',
        );
    }
  });
  return findings;
};

function podWide(pod: PodSpecView, verified: string[], add: (m: string, r: string) => void): void {
  if (pod.spec.shareProcessNamespace === true)
    add(
      `${pod.path}.shareProcessNamespace is true: every container can reach the others' files through /proc, including verified model files`,
      'remove shareProcessNamespace from pods that load verified models',
    );
  if (pod.spec.hostPID === true)
    add(
      `${pod.path}.hostPID is true: containers can reach every process's files on the node`,
      'remove hostPID',
    );
  const backings = new Map<string, string[]>();
  for (const v of pod.volumes.values()) {
    if (v.type === 'hostPath') {
      const path = str(obj(v.spec.hostPath).path) ?? '/';
      if (hostPathReachesContainers(path))
        add(
          `volume "${v.name}" mounts host path ${path}, which reaches the kubelet's volumes or the container runtime, and through them the verified model files`,
          'remove the hostPath volume (or use one outside the kubelet and container runtime directories)',
        );
    }
    if (v.backing !== undefined) backings.set(v.backing, [...(backings.get(v.backing) ?? []), v.name]);
  }
  // Two volumes on one storage: a read-only verified mount is pointless if the other is writable.
  const hostPaths = [...pod.volumes.values()].filter((v) => v.type === 'hostPath');
  for (const [backing, names] of backings) {
    if (names.length > 1 && names.some((n) => verified.includes(n)))
      add(
        `volumes ${names.map((n) => `"${n}"`).join(' and ')} are the same storage (${backing.replace(/^(\w+):/, '$1 ')}); one of them is verified, and the other could change its files`,
        'mount the storage through one volume only',
      );
  }
  for (const a of hostPaths)
    for (const b of hostPaths) {
      if (a === b || !verified.includes(a.name)) continue;
      const pa = normalisePath(str(obj(a.spec.hostPath).path) ?? '/') ?? '/';
      const pb = normalisePath(str(obj(b.spec.hostPath).path) ?? '/') ?? '/';
      if (pa !== pb && (pb.startsWith(`${pa}/`) || pa.startsWith(`${pb}/`) || pb === '/'))
        add(
          `host-path volumes "${a.name}" (${pa}) and "${b.name}" (${pb}) overlap; "${a.name}" is verified and "${b.name}" could change its files`,
          'mount the storage through one volume only',
        );
    }
}
