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
import { obj, str } from '../../json/shape.ts';
import type { PodSpecView, WorkloadContainer } from '../../workloads/extract.ts';
import { SYSTEM_CODE_DIRS } from '../../workloads/overlays.ts';
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

/**
 * Host paths through which a writable mount takes over the node (and so every pod on it): static pod
 * manifests the kubelet runs without admission, the node's programs, libraries, start-up and scheduled jobs,
 * its users' homes, other distributions' kubelet and runtime roots, and local storage provisioners' roots
 * (other pods' volumes). Read-only mounts of them (/etc/localtime, /usr/share/zoneinfo) are harmless.
 */
const NODE_CONTROL_HOST_PATHS = [
  ...SYSTEM_CODE_DIRS,
  '/etc',
  '/boot',
  '/root',
  '/home',
  '/opt',
  '/run',
  '/var/run',
  '/var/lib',
  '/var/spool',
  '/var/snap',
  '/snap',
];

/** True when a writable mount of `hostPath` can change the node's programs or configuration. */
export function hostPathControlsNode(hostPath: string): boolean {
  const p = normalisePath(hostPath);
  if (p === undefined) return true;
  return NODE_CONTROL_HOST_PATHS.some((q) => p === q || p.startsWith(`${q}/`) || q.startsWith(`${p}/`));
}

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
  const findings: Finding[] = [];
  const add = (message: string, remediation: string) =>
    findings.push({ check: 'integrity', message, remediation });
  workload.podSpecs.forEach((pod, p) => {
    const containers = workload.containers.filter((c) => c.pod === p);
    // Whatever this pod loads, these reach other pods' verified volumes on the same node.
    nodeWide(pod, containers, add);
    const mine = verifiedVolumes(workload, policy, p);
    if (mine.size === 0) return;
    podWide(pod, mine, add);
    // Writers: init containers (not sidecars) with a writable mount of a verified volume. The verifier is
    // placed right after the last of them, so every later init container runs after the verifier.
    const inits = containers.filter((c) => c.field === 'initContainers');
    // Image, ConfigMap, Secret and projected volumes are read-only whatever the mount says.
    const writes = (c: WorkloadContainer, v: string) =>
      !pod.volumes.get(v)?.readOnlySource && c.mounts.some((m) => m.volume === v && !m.readOnly);
    const writers = inits.filter((c) => !c.sidecar && [...mine].some((v) => writes(c, v)));
    const lastWriter = writers[writers.length - 1];
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
        lastWriter !== undefined &&
        c.field === 'initContainers' &&
        !c.sidecar &&
        c.index < lastWriter.index &&
        modelsOf(workload, c).some((m) => m.pod === p && m.volume !== undefined && mine.has(m.volume))
      )
        add(
          `init container "${c.name}" (${c.location}) loads a model from a verified volume before init container "${lastWriter.name}" (${lastWriter.location}) finishes writing it, so it would load files the verifier has not checked`,
          `move it after init container "${lastWriter.name}", which downloads or writes the model`,
        );
      if (c.targetContainerName !== undefined) {
        const target = containers.find(
          (t) => t.name === c.targetContainerName && t.field !== 'ephemeralContainers',
        );
        if (target && target.mounts.some((m) => mine.has(m.volume)))
          add(
            `ephemeral container "${c.name}" targets container "${target.name}", sharing its process namespace, through which it can reach the verified model files the target reads`,
            'debug without --target, or in a copy of the pod (kubectl debug --copy-to)',
          );
      }
    }
  });
  return findings;
};

/**
 * What reaches beyond the pod, into other pods' files on the node (their verified model volumes included):
 * the host's process namespace, host paths into the kubelet or the container runtime, privilege. Refused in
 * every pod a policy selects, whether or not it loads a verified model itself.
 */
function nodeWide(
  pod: PodSpecView,
  containers: readonly WorkloadContainer[],
  add: (m: string, r: string) => void,
): void {
  if (pod.spec.hostPID === true)
    add(
      `${pod.path}.hostPID is true: its containers can reach every process's files on the node, including the verified model files of other pods`,
      'remove hostPID',
    );
  if (obj(obj(pod.spec.securityContext).windowsOptions).hostProcess === true)
    add(
      `${pod.path}.securityContext.windowsOptions.hostProcess is true: its containers run as processes on the node itself, outside any container, and can change the verified model files of every pod there`,
      'remove hostProcess (node agents belong in namespaces no model policy selects)',
    );
  for (const v of pod.volumes.values()) {
    if (v.type !== 'hostPath') continue;
    const path = str(obj(v.spec.hostPath).path) ?? '/';
    if (hostPathReachesContainers(path))
      add(
        `volume "${v.name}" mounts host path ${path}, which reaches the kubelet's volumes or the container runtime, and through them the verified model files of every pod on the node`,
        'remove the hostPath volume (or use one outside the kubelet and container runtime directories)',
      );
    else if (hostPathControlsNode(path)) {
      const writers = containers.filter((c) => c.mounts.some((m) => m.volume === v.name && !m.readOnly));
      if (writers.length > 0)
        add(
          `volume "${v.name}" mounts host path ${path} writable in container "${writers[0]!.name}" (${writers[0]!.location}): through it a pod changes the node's programs, configuration or static pods (which the kubelet runs without admission), and so the verified model files of every pod on the node`,
          "mount it with readOnly: true, or use a host path outside the node's system directories (or a PersistentVolumeClaim)",
        );
    }
  }
  for (const c of containers)
    if (c.privileged)
      add(
        `container "${c.name}" (${c.location}) is privileged or adds capabilities that reach other containers' files and devices, so it could change the verified model files of pods on its node`,
        'drop privileged and the added capabilities (SYS_ADMIN, SYS_PTRACE, DAC_OVERRIDE, ...); node agents that need them belong in namespaces no model policy selects',
      );
}

/** What reaches a verified volume from inside the pod: shared processes, a second volume on its storage. */
function podWide(pod: PodSpecView, verified: ReadonlySet<string>, add: (m: string, r: string) => void): void {
  if (pod.spec.shareProcessNamespace === true)
    add(
      `${pod.path}.shareProcessNamespace is true: every container can reach the others' files through /proc, including verified model files`,
      'remove shareProcessNamespace from pods that load verified models',
    );
  const backings = new Map<string, string[]>();
  const hostPaths: { name: string; path: string }[] = [];
  for (const v of pod.volumes.values()) {
    if (v.backing !== undefined) {
      const names = backings.get(v.backing);
      if (names) names.push(v.name);
      else backings.set(v.backing, [v.name]);
    }
    if (v.type === 'hostPath')
      hostPaths.push({ name: v.name, path: normalisePath(str(obj(v.spec.hostPath).path) ?? '/') ?? '/' });
  }
  // Two volumes on one storage: a read-only verified mount is pointless if the other is writable.
  for (const [backing, names] of backings)
    if (names.length > 1 && names.some((n) => verified.has(n)))
      add(
        `volumes ${names.map((n) => `"${n}"`).join(' and ')} are the same storage (${backing.replace(/^(\w+):/, '$1 ')}); one of them is verified, and the other could change its files`,
        'mount the storage through one volume only',
      );
  // Host paths that contain one another (linear in the volumes for each verified host-path volume).
  for (const a of hostPaths) {
    if (!verified.has(a.name)) continue;
    for (const b of hostPaths) {
      if (a === b || a.path === b.path) continue;
      if (b.path.startsWith(`${a.path}/`) || a.path.startsWith(`${b.path}/`) || b.path === '/')
        add(
          `host-path volumes "${a.name}" (${a.path}) and "${b.name}" (${b.path}) overlap; "${a.name}" is verified and "${b.name}" could change its files`,
          'mount the storage through one volume only',
        );
    }
  }
}
