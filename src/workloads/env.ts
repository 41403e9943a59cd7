// A container's environment as modelgate can know it at admission: literal values, values it can resolve
// from the object itself (downward-API fields of the pod's own metadata), and values it cannot know
// (ConfigMaps, Secrets, envFrom). Used to expand $(VAR) and to read the variables a server takes its
// model, its download endpoint or its cache from.
import { arr, isObj, str, type JsonObject } from '../json/shape.ts';
import type { EnvValue } from './argv.ts';

export interface EnvSource {
  /** Where the variable comes from, for messages: `ConfigMap llm-config key MODEL`, `envFrom ConfigMap x`. */
  from: string;
  /** True for Secrets (credentials are expected there). */
  secret: boolean;
}

export interface ContainerEnv {
  /** Each explicitly named variable: literal, resolved, or unknown with its source. Later entries win. */
  vars: Map<string, EnvValue & { source?: EnvSource }>;
  /** envFrom sources: each may set any variable whose name starts with `prefix`. */
  envFrom: { prefix: string; source: EnvSource; location: string }[];
}

/** Names of credentials: harmless wherever they come from (they grant access, they do not choose a model). */
const CREDENTIAL =
  /(^|_)(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|APIKEY|ACCESS_KEY|ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PRIVATE_KEY|CREDENTIALS?|AUTH)$/i;
export const isCredentialName = (name: string): boolean => CREDENTIAL.test(name);

/** Downward-API fields whose value the deployer does not choose freely (so never a model name). */
const OPAQUE_FIELDS = new Set([
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
]);

/** The metadata a container's pod will have, as far as the object says. */
export interface PodIdentity {
  /** The Pod's own metadata, or what a template gives its pods (labels, annotations, namespace). */
  meta: JsonObject;
  /**
   * A controller creates the pods: their names are generated, and labels and annotations the template
   * does not set, or that controllers write (pod-template-hash, statefulset.kubernetes.io/pod-name,
   * KServe's), are not known until then.
   */
  generated: boolean;
}

/** Labels and annotations a workload controller writes on the pods it creates, whatever the template says. */
const CONTROLLER_KEYS =
  /^(pod-template-hash|controller-revision-hash|controller-uid|job-name|batch\.kubernetes\.io\/.+|statefulset\.kubernetes\.io\/.+|apps\.kubernetes\.io\/.+|serving\.kserve\.io\/.+|component|app)$/;

function fieldRefValue(path: string, pod: PodIdentity): EnvValue {
  const { meta } = pod;
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) {
    const map = isObj(meta[m[1]!]) ? (meta[m[1]!] as JsonObject) : {};
    const v = str(map[m[2]!]);
    const what = `${m[1] === 'labels' ? 'label' : 'annotation'} ${m[2]}`;
    if (pod.generated && (v === undefined || CONTROLLER_KEYS.test(m[2]!)))
      return { kind: 'unknown', from: `the pods' ${what}, which the controller that creates them sets` };
    // A missing label or annotation is an empty string in the container.
    return { kind: 'literal', value: v ?? '' };
  }
  if (path === 'metadata.name') {
    const name = pod.generated ? undefined : str(meta.name);
    return name !== undefined ? { kind: 'literal', value: name } : { kind: 'unknown', from: 'the pod name' };
  }
  if (OPAQUE_FIELDS.has(path)) return { kind: 'unknown', from: `field ${path}` };
  return { kind: 'unknown', from: `field ${path}` };
}

/** Reads `env` and `envFrom`; `$(VAR)` in env values refers to variables defined before it, as the kubelet expands. */
export function readEnv(
  container: JsonObject,
  pod: PodIdentity,
  expand: (v: string, sofar: ContainerEnv) => { value: string; unknown: string[] },
): ContainerEnv {
  const vars: ContainerEnv['vars'] = new Map();
  const envFrom: ContainerEnv['envFrom'] = [];
  arr(container.envFrom).forEach((e, i) => {
    if (!isObj(e)) return;
    const prefix = str(e.prefix) ?? '';
    const cm = isObj(e.configMapRef) ? str(e.configMapRef.name) : undefined;
    const sec = isObj(e.secretRef) ? str(e.secretRef.name) : undefined;
    envFrom.push({
      prefix,
      source:
        sec !== undefined
          ? { from: `envFrom Secret ${sec}`, secret: true }
          : { from: `envFrom ConfigMap ${cm ?? '?'}`, secret: false },
      location: `envFrom[${i}]`,
    });
  });
  for (const e of arr(container.env)) {
    if (!isObj(e)) continue;
    const name = str(e.name);
    if (!name) continue;
    const value = str(e.value);
    if (value !== undefined || !isObj(e.valueFrom)) {
      // $(X) of a variable whose value is unknown leaves this one unknown too (not the text "$(X)").
      const e = expand(value ?? '', { vars, envFrom });
      if (e.unknown.length > 0) {
        const from = e.unknown.map((u) => envValue({ vars, envFrom }, u)).find((x) => x?.kind === 'unknown');
        vars.set(name, {
          kind: 'unknown',
          from: `$(${e.unknown.join('), $(')}) ${from?.kind === 'unknown' ? `from ${from.from}` : 'whose value is not known'}`,
        });
      } else vars.set(name, { kind: 'literal', value: e.value });
      continue;
    }
    const vf = e.valueFrom;
    if (isObj(vf.fieldRef)) vars.set(name, fieldRefValue(str(vf.fieldRef.fieldPath) ?? '', pod));
    else if (isObj(vf.resourceFieldRef)) vars.set(name, { kind: 'unknown', from: 'a resource field' });
    else if (isObj(vf.configMapKeyRef))
      vars.set(name, {
        kind: 'unknown',
        from: `ConfigMap ${str(vf.configMapKeyRef.name) ?? '?'} key ${str(vf.configMapKeyRef.key) ?? '?'}`,
        source: { from: `ConfigMap ${str(vf.configMapKeyRef.name) ?? '?'}`, secret: false },
      });
    else if (isObj(vf.secretKeyRef))
      vars.set(name, {
        kind: 'unknown',
        from: `Secret ${str(vf.secretKeyRef.name) ?? '?'} key ${str(vf.secretKeyRef.key) ?? '?'}`,
        source: { from: `Secret ${str(vf.secretKeyRef.name) ?? '?'}`, secret: true },
      });
    else vars.set(name, { kind: 'unknown', from: 'an unrecognised valueFrom' });
  }
  return { vars, envFrom };
}

/**
 * What a variable holds, as far as modelgate knows: its explicit entry wins over envFrom (as in
 * Kubernetes); without one, an envFrom whose prefix fits may set it (unknown); otherwise it is unset.
 */
export function envValue(env: ContainerEnv, name: string): (EnvValue & { via?: string }) | undefined {
  const v = env.vars.get(name);
  if (v) return v;
  const from = env.envFrom.filter((f) => name.startsWith(f.prefix));
  if (from.length > 0)
    return { kind: 'unknown', from: from.map((f) => f.source.from).join(', '), via: 'envFrom' };
  return undefined;
}
