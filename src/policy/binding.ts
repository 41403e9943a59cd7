// Evidence binds a model to bytes only in two ways (DESIGN §6b): the runtime verifier hashing the exact
// mount the server reads, after every writer; or an OCI manifest digest that the container runtime
// enforces when it pulls. These predicates say, per policy, which references and containers are bound.
import type { ModelReference, WorkloadContainer, WorkloadModels } from '../workloads/extract.ts';
import { runtimeVerifiable } from '../workloads/extract.ts';
import type { CompiledPolicy } from './compile.ts';

/** The runtime verifier this policy injects checks the files of this reference before anything loads them. */
export const runtimeVerified = (m: ModelReference, policy: CompiledPolicy): boolean =>
  policy.verifier.inject && runtimeVerifiable(m) && m.volume !== undefined;

/** Pinned by an OCI digest the runtime enforces (an image volume or the container image itself). */
export const digestBound = (m: ModelReference): boolean =>
  m.scheme === 'oci' && m.digest !== undefined && (m.delivery === 'volume' || m.delivery === 'image');

export const bound = (m: ModelReference, policy: CompiledPolicy): boolean =>
  runtimeVerified(m, policy) || digestBound(m);

/** The references a container loads or downloads. */
export const modelsOf = (w: WorkloadModels, ct: WorkloadContainer): ModelReference[] =>
  w.models.filter((m) => m.containers?.includes(ct.location));

/**
 * What a container loads is bound by evidence: it loads something, and every model it loads is bound.
 * Inputs that could only redirect a download (an endpoint, a cache) cannot change bound bytes.
 */
export function containerBound(w: WorkloadModels, ct: WorkloadContainer, policy: CompiledPolicy): boolean {
  const models = modelsOf(w, ct);
  if (models.length === 0) return false;
  if (ct.recognition?.grammar.role === 'downloader')
    // A downloader's output is bound when the verifier checks what it wrote, after it.
    return models.every((m) => runtimeVerified(m, policy));
  return models.every((m) => bound(m, policy));
}

/**
 * Bound, and the digest it is bound to is vouched for: signed by the policy's authorities (checked by the
 * signature check) or listed in allowedDigests. Without that, "bound" only means "equal to the digest the
 * deployer declared", which says nothing about where the bytes came from.
 */
export function containerStronglyBound(
  w: WorkloadModels,
  ct: WorkloadContainer,
  policy: CompiledPolicy,
): boolean {
  if (!containerBound(w, ct, policy)) return false;
  if (policy.authorities.length > 0) return true;
  return modelsOf(w, ct).every(
    (m) =>
      (m.digest !== undefined && policy.allowedDigests.has(m.digest)) ||
      (m.modelDigest !== undefined && policy.allowedDigests.has(m.modelDigest)),
  );
}

/** Volumes of pod spec `pod` that the runtime verifier checks for this policy. */
export function verifiedVolumes(w: WorkloadModels, policy: CompiledPolicy, pod: number): Set<string> {
  const out = new Set<string>();
  for (const m of w.models) if (m.pod === pod && runtimeVerified(m, policy)) out.add(m.volume!);
  return out;
}
