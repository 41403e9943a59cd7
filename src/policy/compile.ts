// Compiles a validated policy into the form decisions read: selectors, globs and trust material resolved
// once (sigstore/policy-controller does the same), never per request. Keys come from Secrets through the
// ClusterView; a ModelPolicy may only read objects in its own namespace.
import { createHash } from 'node:crypto';
import type {
  Enforcement,
  GroupKind,
  ModelPolicyResource,
  ResourceRequirements,
  Sensitivity,
  ServerId,
} from '../api/types.ts';
import { compileGlob, GlobError, type Glob } from '../api/glob.ts';
import { clusterOnlyFieldsSet } from '../api/tenancy.ts';
import { parsePolicy, formatFieldErrors } from '../api/validate.ts';
import { arr, isObj, obj, str } from '../json/shape.ts';
import type { ClusterView } from './cluster-view.ts';
import { compileSelector, type LabelPredicate } from './selector.ts';
import type { TrustMaterial, TrustValidator } from './signature-seam.ts';

export interface CompiledAuthority {
  name: string;
  trust: TrustMaterial;
  /** Digest of the trust material: identifies an authority's trust (the injected verifier's configuration is compared by it). */
  fingerprint: string;
  /** The Secret the key came from, if any: its content must not be copied into another namespace's pod. */
  secret?: { namespace: string; name: string };
}

export interface CompiledConfidentialComputing {
  always: boolean;
  sensitivities: Set<Sensitivity>;
  runtimeClassNames: Set<string>;
  handlers: Set<string>;
  requiredNodeLabels: { key: string; values: Set<string> }[];
}

/** A platform-approved image (ClusterModelPolicy spec.nonModelImages and spec.serverImages). */
export interface CompiledApproval {
  repository?: Glob;
  digest?: string;
  reason: string;
}

/** A platform-approved server image (ClusterModelPolicy spec.serverImages): the servers it ships. */
export interface CompiledServerApproval extends CompiledApproval {
  servers: ReadonlySet<ServerId>;
}

/** Why a policy cannot be enforced as written. */
export type BrokenReason = 'InvalidSpec' | 'KeysUnresolved' | 'TrustMaterialInvalid';

export interface CompiledPolicy {
  /** "ClusterModelPolicy/name" or "ModelPolicy/namespace/name": how decisions name the policy. */
  id: string;
  kind: 'ClusterModelPolicy' | 'ModelPolicy';
  name: string;
  namespace?: string;
  generation?: number;
  enforcement: Enforcement;
  matchesNamespace: LabelPredicate;
  matchesObject: LabelPredicate;
  kinds: GroupKind[];
  sources: Glob[];
  requirePinned: boolean;
  allowedDigests: Set<string>;
  authorities: CompiledAuthority[];
  threshold: number;
  verifier: { inject: boolean; image?: string; resources?: ResourceRequirements };
  formatsDeny: string[];
  /** Pickle globals the verifier's scan treats as data (ClusterModelPolicy only; ignored on a ModelPolicy). */
  allowPickleGlobals: string[];
  confidentialComputing?: CompiledConfidentialComputing;
  enforceUnchangedUpdates: boolean;
  nonModelImages: CompiledApproval[];
  serverImages: CompiledServerApproval[];
  /** Fields a ModelPolicy may not set (src/api/tenancy.ts) that it set anyway: ignored, and reported. */
  ignoredFields: string[];
  /**
   * Set when the policy cannot be enforced as written (invalid spec, trust material that does not parse
   * or resolve). It then still applies to what its match selects: in Enforce every such workload is
   * refused with this reason, in Warn/Audit it is warned/reported. A broken policy never silently admits.
   */
  broken?: { reason: BrokenReason; message: string };
}

export type CompileResult =
  | { ok: true; policy: CompiledPolicy }
  /** `policy` is the fail-closed stand-in that decisions apply (see CompiledPolicy.broken). */
  | { ok: false; reason: BrokenReason; message: string; policy: CompiledPolicy };

export interface CompileOptions {
  /** Namespace where cluster-wide key Secrets and trusted-root ConfigMaps live by default. */
  controllerNamespace: string;
  /** Parses trust material when the policy compiles; a policy whose material is unusable is broken. */
  validateTrust: TrustValidator;
}

export function policyId(kind: string, name: string, namespace?: string): string {
  return kind === 'ModelPolicy' ? `ModelPolicy/${namespace ?? ''}/${name}` : `ClusterModelPolicy/${name}`;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

export function compilePolicy(object: unknown, cluster: ClusterView, opts: CompileOptions): CompileResult {
  const parsed = parsePolicy(object);
  if (!parsed.ok) return broken(object, 'InvalidSpec', formatFieldErrors(parsed.errors));
  return compileParsed(parsed.policy, cluster, opts);
}

/**
 * The stand-in for a policy that does not compile: it keeps what can be read of its scope (kind, name,
 * namespace, enforcement, match) and is otherwise only its reason. What cannot be read fails closed: an
 * unreadable enforcement is Enforce, an unreadable selector selects everything.
 */
export function broken(object: unknown, reason: BrokenReason, message: string): CompileResult {
  const o = obj(object);
  const meta = obj(o.metadata);
  const spec = obj(o.spec);
  const match = obj(spec.match);
  const kind = o.kind === 'ModelPolicy' ? 'ModelPolicy' : 'ClusterModelPolicy';
  const name = str(meta.name) ?? '(unnamed)';
  const ns = kind === 'ModelPolicy' ? (str(meta.namespace) ?? '') : undefined;
  const enforcement: Enforcement =
    spec.enforcement === 'Warn' || spec.enforcement === 'Audit' ? spec.enforcement : 'Enforce';
  const selector = (v: unknown): LabelPredicate => {
    try {
      return isObj(v) ? compileSelector(v as never) : () => true;
    } catch {
      return () => true;
    }
  };
  const kinds = arr(match.kinds).every(
    (k) => isObj(k) && typeof k.group === 'string' && typeof k.kind === 'string',
  )
    ? (arr(match.kinds) as GroupKind[])
    : [];
  const policy: CompiledPolicy = {
    id: policyId(kind, name, ns),
    kind,
    name,
    ...(ns !== undefined ? { namespace: ns } : {}),
    ...(typeof meta.generation === 'number' ? { generation: meta.generation } : {}),
    enforcement,
    matchesNamespace: kind === 'ModelPolicy' ? () => true : selector(match.namespaceSelector),
    matchesObject: selector(match.objectSelector),
    kinds,
    sources: [],
    requirePinned: false,
    allowedDigests: new Set(),
    authorities: [],
    threshold: 1,
    verifier: { inject: false },
    formatsDeny: [],
    allowPickleGlobals: [],
    enforceUnchangedUpdates: true,
    nonModelImages: [],
    serverImages: [],
    ignoredFields: [],
    broken: { reason, message },
  };
  return { ok: false, reason, message, policy };
}

export function compileParsed(
  p: ModelPolicyResource,
  cluster: ClusterView,
  opts: CompileOptions,
): CompileResult {
  // A ModelPolicy may only add restrictions: cluster-only fields it sets are ignored (and reported).
  const ignoredFields = p.kind === 'ModelPolicy' ? clusterOnlyFieldsSet(p.spec).map((f) => f.path) : [];
  const spec = structuredClone(p.spec);
  if (p.kind === 'ModelPolicy') for (const f of clusterOnlyFieldsSet(spec)) f.clear(spec);
  const name = p.metadata.name ?? '';
  const ownNs = p.kind === 'ModelPolicy' ? p.metadata.namespace : undefined;
  const refNs = (ns: string | undefined) => ownNs ?? ns ?? opts.controllerNamespace;

  const authorities: CompiledAuthority[] = [];
  const unresolved: string[] = [];
  const invalid: string[] = [];
  for (const [i, a] of (spec.authorities ?? []).entries()) {
    const at = `spec.authorities[${i}] (${a.name})`;
    let trust: TrustMaterial | undefined;
    let secret: CompiledAuthority['secret'];
    if (a.key?.pem) trust = { method: 'key', publicKeyPem: a.key.pem };
    else if (a.key?.secretRef) {
      const ref = a.key.secretRef;
      const ns = refNs(ref.namespace);
      const pem = cluster.secretData(ns, ref.name)?.[ref.key];
      if (pem === undefined)
        unresolved.push(`${at}: Secret ${ns}/${ref.name} with key "${ref.key}" not found`);
      else {
        trust = { method: 'key', publicKeyPem: pem };
        secret = { namespace: ns, name: ref.name };
      }
    } else if (a.certificate) {
      trust = {
        method: 'certificate',
        caCertificatesPem: a.certificate.caBundle,
        ...(a.certificate.identities?.length ? { identities: a.certificate.identities } : {}),
      };
    } else if (a.keyless) {
      const ref = a.keyless.trustedRootRef;
      const ns = refNs(ref.namespace);
      const json = cluster.configMapData(ns, ref.name)?.[ref.key];
      if (json === undefined)
        unresolved.push(
          `${at}: ConfigMap ${ns}/${ref.name} with key "${ref.key}" (the Sigstore trusted root) not found`,
        );
      else
        trust = {
          method: 'keyless',
          issuer: a.keyless.issuer,
          ...(a.keyless.subject !== undefined ? { subject: a.keyless.subject } : {}),
          ...(a.keyless.subjectRegExp !== undefined ? { subjectRegExp: a.keyless.subjectRegExp } : {}),
          trustedRootJson: json,
        };
    }
    if (trust) {
      const problem = opts.validateTrust(trust);
      if (problem !== undefined) invalid.push(`${at}: ${problem}`);
      authorities.push({
        name: a.name,
        trust,
        fingerprint: sha(JSON.stringify(trust)),
        ...(secret ? { secret } : {}),
      });
    }
  }
  if (unresolved.length > 0) return broken(p, 'KeysUnresolved', unresolved.join('; '));
  if (invalid.length > 0) return broken(p, 'TrustMaterialInvalid', invalid.join('; '));
  let sources: Glob[];
  let nonModelImages: CompiledApproval[];
  let serverImages: CompiledServerApproval[];
  const approval = (a: { repository?: string; digest?: string; reason: string }): CompiledApproval => ({
    ...(a.repository !== undefined ? { repository: compileGlob(a.repository) } : {}),
    ...(a.digest !== undefined ? { digest: a.digest } : {}),
    reason: a.reason,
  });
  try {
    sources = (spec.sources ?? []).map(compileGlob);
    nonModelImages = (spec.nonModelImages ?? []).map(approval);
    serverImages = (spec.serverImages ?? []).map((a) => ({ ...approval(a), servers: new Set(a.servers) }));
  } catch (err) {
    if (err instanceof GlobError) return broken(p, 'InvalidSpec', err.message);
    throw err;
  }

  const cc = spec.confidentialComputing;
  const policy: CompiledPolicy = {
    id: policyId(p.kind, name, ownNs),
    kind: p.kind,
    name,
    ...(ownNs ? { namespace: ownNs } : {}),
    ...(p.metadata.generation !== undefined ? { generation: p.metadata.generation } : {}),
    enforcement: spec.enforcement ?? 'Enforce',
    matchesNamespace: p.kind === 'ModelPolicy' ? () => true : compileSelector(spec.match?.namespaceSelector),
    matchesObject: compileSelector(spec.match?.objectSelector),
    kinds: spec.match?.kinds ?? [],
    sources,
    requirePinned: spec.requirePinned ?? false,
    allowedDigests: new Set(spec.allowedDigests ?? []),
    authorities,
    threshold: spec.threshold ?? 1,
    verifier: {
      inject: spec.verifier?.inject ?? false,
      ...(spec.verifier?.image ? { image: spec.verifier.image } : {}),
      ...(spec.verifier?.resources ? { resources: spec.verifier.resources } : {}),
    },
    formatsDeny: spec.formats?.deny ?? [],
    allowPickleGlobals: spec.formats?.allowPickleGlobals ?? [],
    ...(cc
      ? {
          confidentialComputing: {
            always: cc.always === true,
            sensitivities: new Set(cc.when?.sensitivity ?? []),
            runtimeClassNames: new Set(cc.runtimeClassNames),
            handlers: new Set(cc.handlers?.length ? cc.handlers : cc.runtimeClassNames),
            requiredNodeLabels: (cc.requiredNodeLabels ?? []).map((r) => ({
              key: r.key,
              values: new Set(r.values),
            })),
          },
        }
      : {}),
    enforceUnchangedUpdates: spec.enforceUnchangedUpdates ?? false,
    nonModelImages,
    serverImages,
    ignoredFields,
  };
  return { ok: true, policy };
}
