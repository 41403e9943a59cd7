// Admission-time evidence for digest-pinned OCI models (issue 17). When a container runtime enforces a
// manifest digest — an image volume, a KServe modelcar or a model image pulled by digest, a KServe
// `oci://`/`oci+native://` storage URI (delivered as one of those) — a model-signing signature whose
// resources equal that manifest's layers and config proves the bytes the pod will see, at admission,
// whatever the model's size. The record of what is known about a digest (src/oci/evidence.ts) comes from
// the cluster view; each policy verifies its bundles with its own authorities through the same verifier
// seam as inline bundles. Pure.
import { expandDeniedFormats } from '../api/formats.ts';
import { deniedDeclarations } from '../oci/declared-format.ts';
import { resourcesDigest, type OciEvidenceRecord } from '../oci/evidence.ts';
import { PREDICATE_V1 } from '../signing/statement.ts';
import { arr, obj, str } from '../json/shape.ts';
import { extractModelReferences, type ModelReference, type WorkloadModels } from '../workloads/extract.ts';
import type { ClusterView } from './cluster-view.ts';
import type { CompiledPolicy } from './compile.ts';
import type { BundleVerifier } from './signature-seam.ts';

/** How the runtime delivers a digest-pinned OCI reference, when it enforces the digest; else undefined. */
export function runtimeEnforcedDelivery(
  m: ModelReference,
  w: WorkloadModels,
): 'image volume' | 'modelcar' | 'image' | 'KServe OCI storage URI' | undefined {
  if (m.scheme !== 'oci' || m.digest === undefined) return undefined;
  if (m.delivery === 'volume' && m.volume !== undefined && m.location.endsWith('.image.reference')) {
    // The reference was read from the pod's own image volume (not from an annotation's claim).
    const vol = w.podSpecs.map((p) => p.volumes.get(m.volume!)).find((v) => v !== undefined);
    const ref = vol?.type === 'image' ? str(obj(vol.spec.image).reference) : undefined;
    return ref !== undefined && ref.endsWith(`@${m.digest}`) ? 'image volume' : undefined;
  }
  if (m.delivery === 'image') return m.volume !== undefined ? 'modelcar' : 'image';
  if (
    m.delivery === 'storage-initializer' &&
    (w.kind === 'InferenceService' || w.kind === 'LLMInferenceService') &&
    m.location.startsWith('spec.') &&
    (m.transport === 'oci' || m.transport === 'oci+native')
  )
    return 'KServe OCI storage URI';
  return undefined;
}

export interface OciSignatureResult {
  passed: number;
  signers: string[];
  reasons: string[];
}

export type OciModelEvidence =
  | { state: 'none' }
  | { state: 'pending'; digest: string; delivery: string; reason: string }
  | { state: 'failed'; digest: string; delivery: string; reason: string }
  | { state: 'resolved'; digest: string; delivery: string; record: OciEvidenceRecord };

const cache = new WeakMap<ModelReference, OciModelEvidence>();

/** What the cluster view holds about a model's digest (the same answer for every policy). */
export function ociEvidenceOf(m: ModelReference, w: WorkloadModels, cluster: ClusterView): OciModelEvidence {
  const hit = cache.get(m);
  if (hit) return hit;
  const delivery = runtimeEnforcedDelivery(m, w);
  let out: OciModelEvidence;
  if (delivery === undefined || m.digest === undefined) out = { state: 'none' };
  else {
    const record = cluster.ociEvidence?.(m.digest);
    if (!record)
      out = {
        state: 'pending',
        digest: m.digest,
        delivery,
        reason: `modelgate has not yet looked for a signature of manifest ${m.digest} in the registry`,
      };
    else if (!record.manifest)
      out = {
        state: 'failed',
        digest: m.digest,
        delivery,
        reason: record.error ?? 'its manifest could not be read',
      };
    else out = { state: 'resolved', digest: m.digest, delivery, record };
  }
  cache.set(m, out);
  return out;
}

/** How many of the policy's authorities signed this manifest in model-signing's OCI mode (bundles from the record). */
export function ociSignatures(
  record: OciEvidenceRecord,
  policy: CompiledPolicy,
  verify: BundleVerifier | undefined,
): OciSignatureResult {
  const out: OciSignatureResult = { passed: 0, signers: [], reasons: [] };
  const sets = record.manifest?.resourceSets ?? [];
  const bundles = record.signatures?.bundles ?? [];
  if (record.manifest?.unsignable) {
    out.reasons.push(`no signature can cover this manifest: ${record.manifest.unsignable}`);
    return out;
  }
  if (bundles.length === 0) {
    const where = record.signatures?.api === 'tag' ? 'the sha256-<hex> referrers tag' : 'its OCI referrers';
    out.reasons.push(
      `no model-signing signature over manifest ${record.digest} was found among ${where} in ${record.repository}${record.signatures?.skipped.length ? ` (passed over: ${record.signatures.skipped.slice(0, 3).join('; ')})` : ''}`,
    );
    return out;
  }
  if (!verify) {
    out.reasons.push('signature verification is not available in this process');
    return out;
  }
  for (const a of policy.authorities) {
    let why: string | undefined;
    let signer: string | undefined;
    for (const b of bundles) {
      let v;
      try {
        v = verify(b, a.trust);
      } catch (err) {
        why ??= `verification failed unexpectedly: ${(err as Error).message}`;
        continue;
      }
      if (!v.valid) {
        why ??= v.reason;
        continue;
      }
      const s = v.statement;
      const sub = s.subjectDigest.hex;
      const set = sets.find((x) => x.rootDigest === sub);
      if (s.predicateType !== undefined && s.predicateType !== PREDICATE_V1) {
        why ??= `the bundle signed by ${v.signer} is a ${s.predicateType} statement`;
        continue;
      }
      if (!set || !s.resources || resourcesDigest(s.resources) !== set.resourcesDigest) {
        why ??= `the bundle signed by ${v.signer} covers other content (statement digest ${sub}), not the layers and config of manifest ${record.digest}`;
        continue;
      }
      signer = v.signer;
      break;
    }
    if (signer !== undefined) {
      out.passed++;
      out.signers.push(`${a.name}: ${signer}`);
    } else out.reasons.push(`${a.name}: ${why ?? 'no bundle verified'}`);
  }
  return out;
}

export interface OciFormatProblem {
  check: 'model-reference' | 'format';
  message: string;
  remediation: string;
}

/**
 * What the record says this policy must refuse whatever the signatures: an artifact a runtime would
 * mount empty, a declared or scanned format the policy denies, code found by the controller's scan.
 */
export function ociFormatProblems(
  label: string,
  evidence: Extract<OciModelEvidence, { state: 'resolved' }>,
  policy: CompiledPolicy,
): OciFormatProblem[] {
  const out: OciFormatProblem[] = [];
  const { record, delivery } = evidence;
  const facts = record.manifest!;
  if (facts.shape !== 'runnable-image' && delivery !== 'KServe OCI storage URI')
    out.push({
      check: 'model-reference',
      message: `model ${label} is delivered as ${delivery === 'image volume' ? 'an image volume' : `a container image (${delivery})`}, but manifest ${record.digest} is not a runnable image: ${facts.shapeReason}. containerd mounts such an artifact as an EMPTY directory (no error), so the server would start without the model`,
      remediation:
        'package the model as a runnable image (an image config with tar layers, e.g. `kit pack`/`modctl` image mode or `crane append`), or deliver the artifact through a KServe storageUri with oci+fetch:// (downloaded and checked by the runtime verifier), or run on CRI-O with oci_artifact_mount_support',
    });
  const denied = expandDeniedFormats(policy.formatsDeny);
  if (denied.size > 0)
    for (const d of deniedDeclarations(facts.declared, denied))
      out.push({
        check: 'format',
        message: `model ${label} declares ${d.declaration.source} = ${JSON.stringify(d.declaration.value)}, a ${d.format} model, and policy ${policy.name} denies the ${d.format} format`,
        remediation:
          'publish the model in a format the policy allows (e.g. safetensors), or ask the platform team about spec.formats.deny',
      });
  const scan = record.scan;
  if (scan) {
    for (const [format, file] of Object.entries(scan.formats))
      if (denied.has(format))
        out.push({
          check: 'format',
          message: `model ${label} holds ${file}, a ${format} file (found by modelgate's scan of manifest ${record.digest}), and policy ${policy.name} denies the ${format} format`,
          remediation: 'publish the model in a format the policy allows (e.g. safetensors) and sign it again',
        });
    // The scan treated as data the globals some policy allows; this policy accepts that only for those
    // it allows itself (so a workload gets what the intersection of its policies' lists gives, as the
    // runtime verifier does).
    const allowed = new Set(policy.allowPickleGlobals);
    const beyond = (scan.usedGlobals ?? []).filter((g) => !allowed.has(g));
    if (beyond.length > 0)
      out.push({
        check: 'format',
        message: `model ${label} has pickle files that reference ${beyond.slice(0, 5).join(', ')}${beyond.length > 5 ? ` and ${beyond.length - 5} more` : ''}; modelgate's scan of manifest ${record.digest} treated ${beyond.length === 1 ? 'it' : 'them'} as data because another policy allows ${beyond.length === 1 ? 'it' : 'them'} (formats.allowPickleGlobals), but policy ${policy.name} does not, so to it ${beyond.length === 1 ? 'it is' : 'they are'} code the scanner cannot vouch for`,
        remediation: `after reviewing the class, list it in spec.formats.allowPickleGlobals of policy ${policy.name} (a ClusterModelPolicy; a ModelPolicy cannot allow globals), or publish the model in a format that carries no code (e.g. safetensors)`,
      });
    if (scan.problems.length > 0) {
      const p = scan.problems[0]!;
      const more = scan.problems.length - 1 + (scan.moreProblems ?? 0);
      const scanned = new Set(scan.allowGlobals ?? []);
      const newer = policy.allowPickleGlobals.filter((g) => !scanned.has(g));
      out.push({
        check: 'format',
        message: `model ${label} was refused by modelgate's scan of manifest ${record.digest}: ${p.file}: ${p.verdict} (${p.rule}: ${p.detail})${more > 0 ? ` and ${more} more` : ''}${newer.length > 0 ? ` (scanned before ${newer.slice(0, 3).join(', ')} ${newer.length === 1 ? 'was' : 'were'} allowed: modelgate's controller scans it again)` : ''}`,
        remediation:
          newer.length > 0
            ? 'apply again in a minute, once the controller has scanned the model with the globals the policies now allow'
            : 'publish the model in a format that carries no code (e.g. safetensors), without links or paths leaving the model, and sign it again',
      });
    }
  }
  return out;
}

/** A digest-pinned OCI model of a workload whose digest the runtime enforces, and how to pull it. */
export interface OciWorkloadReference {
  digest: string;
  /** Canonical `oci://registry/repository@sha256:…`. */
  uri: string;
  /** imagePullSecrets of the workload's pod specs. */
  pullSecrets: string[];
  /** The pod specs' service account (its imagePullSecrets count too). */
  serviceAccount: string;
}

/** The references the controller should resolve for a workload (bounded by the extractor's limits). Pure. */
export function ociReferencesOf(object: unknown): OciWorkloadReference[] {
  const w = extractModelReferences(object);
  if (!w) return [];
  const secrets = new Set<string>();
  let serviceAccount = 'default';
  for (const p of w.podSpecs) {
    for (const s of arr(p.spec.imagePullSecrets)) {
      const name = str(obj(s).name);
      if (name) secrets.add(name);
    }
    serviceAccount = str(p.spec.serviceAccountName) ?? str(p.spec.serviceAccount) ?? serviceAccount;
  }
  const out = new Map<string, OciWorkloadReference>();
  for (const m of w.models)
    if (m.digest !== undefined && m.uri !== undefined && runtimeEnforcedDelivery(m, w) !== undefined)
      out.set(m.digest, {
        digest: m.digest,
        uri: m.uri,
        pullSecrets: [...secrets].slice(0, 16),
        serviceAccount,
      });
  return [...out.values()];
}
