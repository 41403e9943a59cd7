// Policy status reconciler: each ClusterModelPolicy/ModelPolicy gets status.observedGeneration and
// conditions saying whether it is enforced, and if not, why (the message names the field). Written only
// when something changed, through the status subresource.
import type pino from 'pino';
import type { Condition } from '../api/types.ts';
import type { Clock, TimerHandle } from '../kube/clock.ts';
import type { PolicyCompileState } from '../policy-store/informer-store.ts';
import { CLUSTER_MODEL_POLICIES, MODEL_POLICIES } from '../kube/resources.ts';
import { isObj, isStatus, type KubeClient } from '../kube/types.ts';
import { WorkQueue } from '../kube/workqueue.ts';
import type { ControllerMetrics } from '../telemetry/metrics.ts';
import type { SchemaState } from './crd-schema.ts';

export interface PolicyConditions {
  observedGeneration: number;
  conditions: Condition[];
}

type ConditionCore = Omit<Condition, 'lastTransitionTime'>;

/**
 * The conditions a compile result calls for: `Ready`, `KeysResolved`, and for a ModelPolicy
 * `ClusterOnlyFieldsIgnored` (fields only cluster-scoped policy may set, ignored). Pure.
 */
export function desiredConditions(state: PolicyCompileState, schema?: SchemaState): ConditionCore[] {
  const gen = state.object.metadata.generation ?? 0;
  const crd: ConditionCore[] = schema
    ? [
        {
          type: 'CRDSchemaCurrent',
          status: schema.current ? 'True' : 'False',
          reason: schema.current ? 'SchemaCurrent' : 'SchemaOutdated',
          message: schema.message,
          observedGeneration: gen,
        },
      ]
    : [];
  const r = state.result;
  const enforcement = r.policy.enforcement;
  const ready: ConditionCore = r.ok
    ? {
        type: 'Ready',
        status: 'True',
        reason: 'Compiled',
        message: `compiled; webhooks apply it (enforcement: ${enforcement})`,
        observedGeneration: gen,
      }
    : {
        type: 'Ready',
        status: 'False',
        reason: r.reason,
        message: `${r.message}. The policy still applies, failing closed: ${
          enforcement === 'Enforce'
            ? 'every workload it selects is refused'
            : enforcement === 'Warn'
              ? 'every workload it selects is admitted with a warning'
              : 'every workload it selects is reported'
        } until it is fixed`,
        observedGeneration: gen,
      };
  const keys: ConditionCore = r.ok
    ? {
        type: 'KeysResolved',
        status: 'True',
        reason: 'KeysResolved',
        message: r.policy.authorities.length
          ? `${r.policy.authorities.length} authorit${r.policy.authorities.length === 1 ? 'y' : 'ies'} resolved`
          : 'no authorities to resolve',
        observedGeneration: gen,
      }
    : r.reason === 'KeysUnresolved' || r.reason === 'TrustMaterialInvalid'
      ? {
          type: 'KeysResolved',
          status: 'False',
          reason: r.reason,
          message: r.message,
          observedGeneration: gen,
        }
      : {
          type: 'KeysResolved',
          status: 'Unknown',
          reason: 'InvalidSpec',
          message: 'keys are resolved once the spec is valid',
          observedGeneration: gen,
        };
  if (state.object.kind !== 'ModelPolicy') return [ready, keys, ...crd];
  const ignored = r.policy.ignoredFields;
  const tenancy: ConditionCore =
    ignored.length > 0
      ? {
          type: 'ClusterOnlyFieldsIgnored',
          status: 'True',
          reason: 'ClusterOnlyFields',
          message: `${ignored.join(', ')} ${ignored.length === 1 ? 'is' : 'are'} ignored: only a ClusterModelPolicy (or the installation) may decide what runs in a pod on modelgate's behalf or what is exempt; remove ${ignored.length === 1 ? 'it' : 'them'} from this ModelPolicy`,
          observedGeneration: gen,
        }
      : {
          type: 'ClusterOnlyFieldsIgnored',
          status: 'False',
          reason: 'NoneSet',
          message: 'this ModelPolicy sets no field reserved for cluster-scoped policy',
          observedGeneration: gen,
        };
  return [ready, keys, tenancy, ...crd];
}

function currentStatus(obj: { [k: string]: unknown }): {
  observedGeneration?: number;
  conditions: Condition[];
} {
  const s = isObj(obj.status) ? obj.status : {};
  const conditions = Array.isArray(s.conditions)
    ? (s.conditions.filter(isObj) as unknown as Condition[])
    : [];
  return {
    ...(typeof s.observedGeneration === 'number' ? { observedGeneration: s.observedGeneration } : {}),
    conditions,
  };
}

const same = (a: ConditionCore, b: Condition) =>
  a.type === b.type &&
  a.status === b.status &&
  a.reason === b.reason &&
  a.message === b.message &&
  a.observedGeneration === b.observedGeneration;

/**
 * The status to write, or undefined when the current one already says it. lastTransitionTime moves
 * only when a condition's status changes (the Kubernetes API conventions). Pure.
 */
export function statusUpdate(
  state: PolicyCompileState,
  now: Date,
  schema?: SchemaState,
): PolicyConditions | undefined {
  const want = desiredConditions(state, schema);
  const cur = currentStatus(state.object);
  const gen = state.object.metadata.generation ?? 0;
  // Conditions of other types belong to other reconcilers (CertificatesExpiring): kept as they are.
  const others = cur.conditions.filter((c) => !want.some((w) => w.type === c.type));
  const unchanged =
    cur.observedGeneration === gen &&
    want.length + others.length === cur.conditions.length &&
    want.every((w) => cur.conditions.some((c) => same(w, c)));
  if (unchanged) return undefined;
  const own = want.map((w) => {
    const old = cur.conditions.find((c) => c.type === w.type);
    const lastTransitionTime =
      old && old.status === w.status && old.lastTransitionTime
        ? old.lastTransitionTime
        : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    return { ...w, lastTransitionTime } as Condition;
  });
  return { observedGeneration: gen, conditions: [...own, ...others] };
}

export interface PolicyStatusReconcilerDeps {
  client: KubeClient;
  clock: Clock;
  logger: pino.Logger;
  metrics?: ControllerMetrics;
  /** The store's current compile states (one per policy object). */
  states: () => readonly PolicyCompileState[];
  /** Look at every policy again this often, even without a change (default 10 minutes). */
  resyncMs?: number;
  /** Whether the installed CRDs carry this controller's schema (undefined until known). */
  schema?: () => SchemaState | undefined;
}

export class PolicyStatusReconciler {
  private readonly queue: WorkQueue;
  private resyncTimer: TimerHandle | undefined;

  constructor(private readonly d: PolicyStatusReconcilerDeps) {
    this.queue = new WorkQueue(
      {
        name: 'policy-status',
        clock: d.clock,
        logger: d.logger,
        concurrency: 2,
        ...(d.metrics ? { onMetrics: d.metrics.queueHook } : {}),
      },
      (key) => this.reconcile(key),
    );
  }

  /** Called on every snapshot change: queues the policies whose status is out of date. */
  resync(): void {
    const states = this.d.states();
    if (this.d.metrics) {
      this.d.metrics.policyReady.reset();
      for (const s of states) this.d.metrics.policyReady.set({ policy: s.id }, s.result.ok ? 1 : 0);
    }
    const schema = this.d.schema?.();
    for (const s of states) if (statusUpdate(s, new Date(this.d.clock.now()), schema)) this.queue.add(s.id);
  }

  /** Queues what is out of date now and, periodically, again (a write given up after retries comes back). */
  start(): void {
    this.resync();
    this.resyncTimer = this.d.clock.setTimeout(() => this.start(), this.d.resyncMs ?? 600_000);
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Resolves when a status write in progress has returned. */
  async stop(): Promise<void> {
    if (this.resyncTimer) this.d.clock.clearTimeout(this.resyncTimer);
    await this.queue.stop();
  }

  private async reconcile(id: string): Promise<void> {
    const state = this.d.states().find((s) => s.id === id);
    if (!state) return; // deleted meanwhile
    const update = statusUpdate(state, new Date(this.d.clock.now()), this.d.schema?.());
    if (!update) return;
    const ref = state.object.kind === 'ModelPolicy' ? MODEL_POLICIES : CLUSTER_MODEL_POLICIES;
    try {
      // A merge patch of observedGeneration and conditions only: the audit summary is another writer's.
      await this.d.client.patch(
        ref,
        state.object.metadata.name,
        state.object.metadata.namespace,
        { status: update },
        'merge',
        'status',
      );
      this.d.logger.info(
        { policy: id, ready: update.conditions[0]?.status, reason: update.conditions[0]?.reason },
        'policy status updated',
      );
    } catch (err) {
      if (isStatus(err, 404)) return;
      throw err;
    }
  }
}
