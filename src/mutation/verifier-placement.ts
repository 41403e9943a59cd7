// Where the verifier sits in a pod, and whether the one a pod carries is the one its policies require.
// Both the mutating side (idempotency) and the validating side (missing or altered) use these.
import {
  STORAGE_INITIALIZER,
  VERIFIER_CONTAINER_NAME,
  type VerifierContainer,
} from './verifier-container.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

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

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObj(v))
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'undefined';
}

const empty = (v: unknown) => v === undefined || v === null || (Array.isArray(v) && v.length === 0);

/** The fields in which `actual` differs from `expected` (empty: the same verifier). */
export function verifierDifferences(actual: Obj, expected: VerifierContainer): string[] {
  const exp = expected as unknown as Obj;
  return COMPARED_FIELDS.filter((f) => {
    const a = actual[f];
    const e = exp[f];
    if (empty(e)) return !empty(a);
    return canonical(a) !== canonical(e);
  });
}

export function initContainersOf(podSpec: Obj): unknown[] {
  return Array.isArray(podSpec.initContainers) ? podSpec.initContainers : [];
}

export function verifierIndex(initContainers: readonly unknown[]): number {
  return initContainers.findIndex((c) => isObj(c) && c.name === VERIFIER_CONTAINER_NAME);
}

/** Index the verifier must have: first, or right after KServe's storage initializer (it downloads the model). */
export function expectedVerifierIndex(initContainers: readonly unknown[]): number {
  const others = initContainers.filter((c) => !(isObj(c) && c.name === VERIFIER_CONTAINER_NAME));
  const si = others.findIndex((c) => isObj(c) && c.name === STORAGE_INITIALIZER);
  return si + 1;
}

export { isObj };
