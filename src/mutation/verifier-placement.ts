// Where the verifier sits in a pod, and whether the one a pod carries is the one its policies require.
// Both the mutating side (idempotency) and the validating side (missing or altered) use these.
import { VERIFIER_CONTAINER_NAME } from '../api/types.ts';
import { canonicalJson, isObj, type JsonObject } from '../json/shape.ts';
import type { VerifierContainer } from './verifier-container.ts';

type Obj = JsonObject;

/**
 * Fields compared between the pod's verifier and the expected one. Everything that changes what runs or
 * what it can reach is here; fields the API server defaults (imagePullPolicy) or that cannot weaken the
 * check (resources, whose quantities the API server may re-serialise) are not.
 */
const COMPARED_FIELDS = [
  'image',
  'command',
  'args',
  'workingDir',
  'env',
  'envFrom',
  'volumeMounts',
  'volumeDevices',
  'securityContext',
  'terminationMessagePath',
  'terminationMessagePolicy',
  'restartPolicy',
  'lifecycle',
  'stdin',
  'tty',
] as const;

const empty = (v: unknown) => v === undefined || v === null || (Array.isArray(v) && v.length === 0);

/** The fields in which `actual` differs from `expected` (empty: the same verifier). */
export function verifierDifferences(actual: Obj, expected: VerifierContainer): string[] {
  const exp = expected as unknown as Obj;
  return COMPARED_FIELDS.filter((f) => {
    const a = actual[f];
    const e = exp[f];
    if (empty(e)) return !empty(a);
    return canonicalJson(a) !== canonicalJson(e);
  });
}

export function initContainersOf(podSpec: Obj): unknown[] {
  return Array.isArray(podSpec.initContainers) ? podSpec.initContainers : [];
}

export function verifierIndex(initContainers: readonly unknown[]): number {
  return initContainers.findIndex((c) => isObj(c) && c.name === VERIFIER_CONTAINER_NAME);
}

/**
 * Index the verifier must have: right after the last init container that writes a volume it checks (a
 * downloader such as KServe's storage initializer), else first. Native sidecars (restartPolicy: Always)
 * are not writers here — they run beside the verifier, so the validating side refuses them as writers.
 * Every init container after the verifier then runs on verified files.
 */
export function expectedVerifierIndex(
  initContainers: readonly unknown[],
  verifiedVolumes: ReadonlySet<string>,
): number {
  const others = initContainers.filter((c) => !(isObj(c) && c.name === VERIFIER_CONTAINER_NAME));
  let last = -1;
  others.forEach((c, i) => {
    if (!isObj(c) || c.restartPolicy === 'Always') return;
    const mounts = Array.isArray(c.volumeMounts) ? c.volumeMounts : [];
    if (
      mounts.some(
        (m) => isObj(m) && typeof m.name === 'string' && verifiedVolumes.has(m.name) && m.readOnly !== true,
      )
    )
      last = i;
  });
  return last + 1;
}

export { isObj };
