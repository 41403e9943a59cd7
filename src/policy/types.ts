// Values the decision core produces. Every violation names the policy, the check, the model, what is
// wrong and how to fix it, so a deployer can act on a rejection at once.
import type { Enforcement, Sensitivity } from '../api/types.ts';
import type { WorkloadModels } from '../workloads/extract.ts';
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
}

export interface CheckContext {
  policy: CompiledPolicy;
  workload: WorkloadModels;
  namespace: string;
  sensitivity: Sensitivity;
  cluster: ClusterView;
  verifyBundle?: BundleVerifier;
  /** Images the injected verifier may run: the installation's and those of matching ClusterModelPolicies. */
  verifierImages: ReadonlySet<string>;
  /** Every policy matching the workload (the verifier a pod needs is derived from all of them). */
  policies: readonly CompiledPolicy[];
}

export type Check = (ctx: CheckContext) => Finding[];

export const modelLabel = (m: { uri?: string; name: string; declared?: { name: string } }) =>
  m.uri ?? m.declared?.name ?? m.name;
