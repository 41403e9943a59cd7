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
} from '../api/types.ts';
import { parsePolicy, formatFieldErrors } from '../api/validate.ts';
import type { ClusterView } from './cluster-view.ts';
import { compileGlob, type Glob } from '../api/glob.ts';
import { compileSelector, type LabelPredicate } from './selector.ts';
import type { TrustMaterial } from './signature-seam.ts';

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
  confidentialComputing?: CompiledConfidentialComputing;
  enforceUnchangedUpdates: boolean;
}

export type CompileResult =
  | { ok: true; policy: CompiledPolicy }
  | { ok: false; reason: 'InvalidSpec' | 'KeysUnresolved'; message: string };

export interface CompileOptions {
  /** Namespace where cluster-wide key Secrets and trusted-root ConfigMaps live by default. */
  controllerNamespace: string;
}

export function policyId(kind: string, name: string, namespace?: string): string {
  return kind === 'ModelPolicy' ? `ModelPolicy/${namespace ?? ''}/${name}` : `ClusterModelPolicy/${name}`;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

export function compilePolicy(obj: unknown, cluster: ClusterView, opts: CompileOptions): CompileResult {
  const parsed = parsePolicy(obj);
  if (!parsed.ok) return { ok: false, reason: 'InvalidSpec', message: formatFieldErrors(parsed.errors) };
  return compileParsed(parsed.policy, cluster, opts);
}

export function compileParsed(
  p: ModelPolicyResource,
  cluster: ClusterView,
  opts: CompileOptions,
): CompileResult {
  const spec = p.spec;
  const name = p.metadata.name ?? '';
  const ownNs = p.kind === 'ModelPolicy' ? p.metadata.namespace : undefined;
  const refNs = (ns: string | undefined) => ownNs ?? ns ?? opts.controllerNamespace;

  const authorities: CompiledAuthority[] = [];
  const unresolved: string[] = [];
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
    if (trust)
      authorities.push({
        name: a.name,
        trust,
        fingerprint: sha(JSON.stringify(trust)),
        ...(secret ? { secret } : {}),
      });
  }
  if (unresolved.length > 0) return { ok: false, reason: 'KeysUnresolved', message: unresolved.join('; ') };

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
    sources: (spec.sources ?? []).map(compileGlob),
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
  };
  return { ok: true, policy };
}
