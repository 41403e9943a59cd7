// Where the webhook and the controller get their policies and cluster view from. Two implementations:
// files (`--policy-dir`/`--cluster-file`, no cluster at all) and informers, both in src/policy-store/.
import type { BrokenReason } from './compile.ts';
import type { ClusterView } from './cluster-view.ts';
import type { PolicySet } from './policy-set.ts';

export interface PolicyError {
  /** Policy id ("ClusterModelPolicy/name") or the file it came from. */
  source: string;
  reason: BrokenReason | 'Unreadable';
  message: string;
}

export interface PolicySnapshot {
  policies: PolicySet;
  cluster: ClusterView;
  /** Policies that did not compile: they apply failing closed (CompiledPolicy.broken), and are reported. */
  errors: readonly PolicyError[];
}

export interface PolicyStore {
  /** The current snapshot; cheap, called on every admission request. */
  snapshot(): PolicySnapshot;
  /** True once policies have been loaded (before that, /readyz fails). */
  ready(): boolean;
  /** Called after every change of the snapshot. */
  onChange(listener: (s: PolicySnapshot) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}
