// Values the decision core produces. Every violation names the policy, the check, the model, what is
// wrong and how to fix it, so a deployer can act on a rejection at once.
import type { Enforcement, Sensitivity } from '../api/types.ts';
import type { WorkloadContainer, WorkloadModels } from '../workloads/extract.ts';
import type { ClusterView } from './cluster-view.ts';
import type { CompiledPolicy } from './compile.ts';
import type { BundleVerifier } from './signature-seam.ts';

export type CheckName =
  | 'model-reference'
  | 'annotation'
  | 'source'
  | 'pinned'
  | 'signature'
  | 'confidential-computing'
  | 'verifier'
  | 'sensitivity-label'
  | 'container'
  | 'integrity'
  | 'format'
  | 'policy'
  | 'request'
  | 'decision';

/** What a check found, before the policy and enforcement are attached. */
export interface Finding {
  check: CheckName;
  /** The model (its URI, or its declared name), when the finding is about one. */
  model?: string;
  message: string;
  remediation: string;
}

export interface Violation extends Finding {
  policy: string;
  enforcement: Enforcement;
}

/**
 * Which evidence a policy accepted for a model (audit records and reports say it): a signature over the
 * OCI manifest the runtime enforces, verified at admission (`admission-oci`); the runtime verifier's
 * hash of the mounted files at pod start (`runtime-hash`); or a digest the policy allows unsigned.
 */
export interface ModelEvidence {
  policy: string;
  model: string;
  kind: 'admission-oci' | 'runtime-hash' | 'allowed-digest';
  /** Who signed, which digest, what still happens at pod start. */
  detail: string;
}

/** A digest-pinned OCI model whose registry evidence modelgate does not have yet: the controller should look. */
export interface OciEvidenceMiss {
  digest: string;
  /** The canonical reference (`oci://registry/repo@sha256:…`). */
  uri: string;
}

export interface Decision {
  allowed: boolean;
  /** Shown to the deployer by kubectl (Warn-mode violations and notices). */
  warnings: string[];
  /** Every violation of every matching policy, whatever its enforcement (Audit ones are for reports). */
  violations: Violation[];
  /** Ids of the policies that matched the workload. */
  policies: string[];
  /** Why no policy was evaluated, when none was (e.g. "DELETE is never blocked"). */
  skipped?: string;
  /** Per policy and model, the evidence that satisfied its signature requirement. */
  evidence?: ModelEvidence[];
  /** OCI digests a policy needed registry evidence for and the cluster view had none (yet). */
  ociMisses?: OciEvidenceMiss[];
}

export interface CheckContext {
  policy: CompiledPolicy;
  workload: WorkloadModels;
  namespace: string;
  sensitivity: Sensitivity;
  cluster: ClusterView;
  verifyBundle?: BundleVerifier;
  /** Every policy matching the workload (the verifier a pod needs is derived from all of them). */
  policies: readonly CompiledPolicy[];
  /** Whether a container is exactly the verifier these policies require (DecideOptions.expectedVerifier). */
  expectedVerifier?: (ct: WorkloadContainer, ctx: CheckContext) => boolean;
  /** Collects what a check accepted as evidence, and registry evidence it missed (decide() passes one). */
  note?: {
    evidence(e: Omit<ModelEvidence, 'policy'>): void;
    ociMiss(m: OciEvidenceMiss): void;
  };
}

export type Check = (ctx: CheckContext) => Finding[];

export const modelLabel = (m: { uri?: string; name: string; declared?: { name: string } }) =>
  m.uri ?? m.declared?.name ?? m.name;
