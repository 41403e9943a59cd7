// The informer-backed PolicyStore used by `modelgate webhook --kubeconfig` and the controller. It watches
// ClusterModelPolicies, ModelPolicies, Namespaces, RuntimeClasses, ConfigMaps labelled
// modelgate.io/bundle=true, and exactly the Secrets that policies reference (one name-scoped watch each,
// so no replica caches every Secret of the cluster). Any change recompiles every policy into a fresh
// PolicySnapshot (compile once, read fast: the request path only reads the snapshot).
import type pino from 'pino';
import { BUNDLE_CONFIGMAP_LABEL } from '../api/types.ts';
import { EVIDENCE_LABEL } from '../oci/evidence.ts';
import { MemoryClusterView } from '../policy/cluster-view.ts';
import { compilePolicy, policyId, type CompiledPolicy, type CompileResult } from '../policy/compile.ts';
import { PolicySet } from '../policy/policy-set.ts';
import { trustProblem } from '../signing/trust.ts';
import type { PolicyError, PolicySnapshot, PolicyStore } from '../policy/store.ts';
import { HttpKubeClient } from '../kube/client.ts';
import type { KubeAccess } from '../kube/kubeconfig.ts';
import { realClock, type Clock, type TimerHandle } from '../kube/clock.ts';
import { Informer } from '../kube/informer.ts';
import {
  CLUSTER_MODEL_POLICIES,
  CONFIG_MAPS,
  MODEL_POLICIES,
  NAMESPACES,
  RUNTIME_CLASSES,
  SECRETS,
} from '../kube/resources.ts';
import { isObj, type KubeClient, type KubeObject } from '../kube/types.ts';

/** A policy object and what compiling it gave: what the policy-status reconciler reports. */
export interface PolicyCompileState {
  id: string;
  object: KubeObject;
  result: CompileResult;
}

export interface ClusterPolicyStore extends PolicyStore {
  /** Every policy object with its compile result, as of the last snapshot. */
  compileStates(): readonly PolicyCompileState[];
  /** The informers (for metrics and the controller's readiness). */
  readonly informers: readonly Informer[];
}

export interface ClusterPolicyStoreOptions {
  kubeConfig: KubeAccess;
  controllerNamespace: string;
  logger: pino.Logger;
  /** Read OCI evidence records (default true; off when the controller does not write them). */
  ociEvidence?: boolean;
}

export interface ClusterPolicyStoreDeps {
  client: KubeClient;
  controllerNamespace: string;
  logger: pino.Logger;
  /** Read OCI evidence records from the controller's namespace (default true). */
  ociEvidence?: boolean;
  clock?: Clock;
  /** Coalesces bursts of changes (startup, mass updates) into one recompile. */
  debounceMs?: number;
  watchTimeoutSeconds?: number;
  silenceTimeoutMs?: number;
  onInformerEvent?: (resource: string, what: 'relist' | 'watch-restart' | 'error', reason: string) => void;
}

export function createClusterPolicyStore(opts: ClusterPolicyStoreOptions): ClusterPolicyStore {
  return new InformerPolicyStore({
    client: new HttpKubeClient(opts.kubeConfig),
    controllerNamespace: opts.controllerNamespace,
    logger: opts.logger,
    ...(opts.ociEvidence === false ? { ociEvidence: false } : {}),
  });
}

/** The Secrets (namespace/name) a policy object references for keys. */
export function referencedSecrets(obj: KubeObject, controllerNamespace: string): string[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const own = obj.kind === 'ModelPolicy' ? obj.metadata.namespace : undefined;
  const out: string[] = [];
  for (const a of Array.isArray(spec.authorities) ? spec.authorities : []) {
    const ref = isObj(a) && isObj(a.key) && isObj(a.key.secretRef) ? a.key.secretRef : undefined;
    if (!ref || typeof ref.name !== 'string') continue;
    const ns = own ?? (typeof ref.namespace === 'string' ? ref.namespace : controllerNamespace);
    out.push(`${ns}/${ref.name}`);
  }
  return out;
}

export class InformerPolicyStore implements ClusterPolicyStore {
  private readonly view: MemoryClusterView;
  private readonly clock: Clock;
  private readonly base: Informer[];
  private readonly policyInformers: Informer[];
  private readonly secretInformers = new Map<string, Informer>();
  private readonly listeners: ((s: PolicySnapshot) => void)[] = [];
  private readonly namespaceListeners: ((name: string) => void)[] = [];
  private current: PolicySnapshot;
  private states: PolicyCompileState[] = [];
  private compiledOnce = false;
  private timer: TimerHandle | undefined;
  private started = false;

  constructor(private readonly d: ClusterPolicyStoreDeps) {
    this.clock = d.clock ?? realClock;
    const oci = d.ociEvidence !== false;
    this.view = new MemoryClusterView(
      oci ? { evidenceNamespace: d.controllerNamespace, evidenceResolved: true } : {},
    );
    this.current = { policies: new PolicySet([]), cluster: this.view, errors: [] };
    const informer = (ref: typeof NAMESPACES, extra: { labelSelector?: string; namespace?: string } = {}) => {
      const inf = new Informer({
        client: d.client,
        ref,
        clock: this.clock,
        logger: d.logger,
        ...extra,
        ...(d.watchTimeoutSeconds ? { watchTimeoutSeconds: d.watchTimeoutSeconds } : {}),
        ...(d.silenceTimeoutMs ? { silenceTimeoutMs: d.silenceTimeoutMs } : {}),
        ...(d.onInformerEvent
          ? { onEvent: (what, reason) => d.onInformerEvent?.(ref.resource, what, reason) }
          : {}),
      });
      return inf;
    };
    this.policyInformers = [informer(CLUSTER_MODEL_POLICIES), informer(MODEL_POLICIES)];
    const namespaces = informer(NAMESPACES);
    const viewInformers = [
      namespaces,
      informer(RUNTIME_CLASSES),
      informer(CONFIG_MAPS, { labelSelector: `${BUNDLE_CONFIGMAP_LABEL}=true` }),
    ];
    for (const inf of this.policyInformers)
      inf.addHandlers({
        onAdd: () => this.changed(),
        onUpdate: () => this.changed(),
        onDelete: () => this.changed(),
      });
    for (const inf of viewInformers) this.feedView(inf);
    // OCI evidence records (issue 17) change no policy: they go into the view without a recompile.
    const evidence = oci
      ? [informer(CONFIG_MAPS, { labelSelector: `${EVIDENCE_LABEL}=true`, namespace: d.controllerNamespace })]
      : [];
    for (const inf of evidence)
      inf.addHandlers({
        onAdd: (o) => void this.view.upsert(o),
        onUpdate: (o) => void this.view.upsert(o),
        onDelete: (o) => this.view.remove('ConfigMap', o.metadata.namespace, o.metadata.name),
      });
    // Selectors match namespace labels: a relabelled namespace may gain or lose policies. Registered after
    // feedView, so listeners see the view with the new labels.
    namespaces.addHandlers({
      onUpdate: (o, old) => {
        if (JSON.stringify(o.metadata.labels ?? {}) === JSON.stringify(old.metadata.labels ?? {})) return;
        for (const l of this.namespaceListeners) l(o.metadata.name);
      },
    });
    this.base = [...this.policyInformers, ...viewInformers, ...evidence];
  }

  get informers(): readonly Informer[] {
    return [...this.base, ...this.secretInformers.values()];
  }

  private feedView(inf: Informer): void {
    inf.addHandlers({
      onAdd: (o) => {
        this.view.upsert(o);
        this.changed();
      },
      onUpdate: (o, old) => {
        // A ConfigMap that loses its bundle label must leave the view, not linger.
        if (!this.view.upsert(o)) this.view.remove(old.kind ?? '', old.metadata.namespace, old.metadata.name);
        this.changed();
      },
      onDelete: (o) => {
        this.view.remove(o.kind ?? inf.resourceKind(), o.metadata.namespace, o.metadata.name);
        this.changed();
      },
    });
  }

  private changed(): void {
    if (!this.started || this.timer) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.recompile();
    }, this.d.debounceMs ?? 50);
  }

  /** Base caches synced; each Secret watch synced or failed (a failure shows as KeysUnresolved, not a hang). */
  private syncedAll(): boolean {
    return (
      this.base.every((i) => i.hasSynced()) &&
      [...this.secretInformers.values()].every((i) => i.hasSynced() || i.stats.errors > 0)
    );
  }

  /** Compiles every policy against the current view; publishes the snapshot once the caches are synced. */
  recompile(): void {
    if (!this.base.every((i) => i.hasSynced())) return;
    const objects = this.policyInformers.flatMap((i) => i.list());
    this.syncSecretInformers(objects);
    if (!this.syncedAll()) return; // a new Secret watch is listing; it calls changed() when done
    const compiled: CompiledPolicy[] = [];
    const errors: PolicyError[] = [];
    const states: PolicyCompileState[] = [];
    for (const object of objects) {
      const id = policyId(object.kind ?? '', object.metadata.name, object.metadata.namespace);
      const result = compilePolicy(object, this.view, {
        controllerNamespace: this.d.controllerNamespace,
        validateTrust: trustProblem,
      });
      states.push({ id, object, result });
      // A policy that does not compile still applies, failing closed (CompiledPolicy.broken).
      compiled.push(result.policy);
      if (!result.ok) errors.push({ source: id, reason: result.reason, message: result.message });
    }
    states.sort((a, b) => a.id.localeCompare(b.id));
    this.states = states;
    this.current = { policies: new PolicySet(compiled), cluster: this.view, errors };
    if (!this.compiledOnce)
      this.d.logger.info({ policies: compiled.length, errors: errors.length }, 'policies loaded');
    this.compiledOnce = true;
    for (const l of this.listeners) {
      try {
        l(this.current);
      } catch (err) {
        this.d.logger.error({ err: (err as Error).message }, 'policy snapshot listener failed');
      }
    }
  }

  /** One name-scoped watch per referenced Secret; watches of Secrets no longer referenced are stopped. */
  private syncSecretInformers(objects: KubeObject[]): void {
    const wanted = new Set(objects.flatMap((o) => referencedSecrets(o, this.d.controllerNamespace)));
    for (const [key, inf] of this.secretInformers) {
      if (wanted.has(key)) continue;
      inf.stop();
      this.secretInformers.delete(key);
      const [ns, name] = key.split('/') as [string, string];
      this.view.remove('Secret', ns, name);
    }
    for (const key of wanted) {
      if (this.secretInformers.has(key)) continue;
      const [ns, name] = key.split('/') as [string, string];
      const inf = new Informer({
        client: this.d.client,
        ref: SECRETS,
        clock: this.clock,
        logger: this.d.logger,
        namespace: ns,
        fieldSelector: `metadata.name=${name}`,
        ...(this.d.watchTimeoutSeconds ? { watchTimeoutSeconds: this.d.watchTimeoutSeconds } : {}),
        ...(this.d.silenceTimeoutMs ? { silenceTimeoutMs: this.d.silenceTimeoutMs } : {}),
      });
      this.feedView(inf);
      // An empty first list produces no event; still recompile once the watch has synced.
      void inf.settled().then(() => this.changed());
      this.secretInformers.set(key, inf);
      if (this.started) inf.start();
    }
  }

  snapshot(): PolicySnapshot {
    return this.current;
  }

  compileStates(): readonly PolicyCompileState[] {
    return this.states;
  }

  ready(): boolean {
    return this.compiledOnce;
  }

  onChange(listener: (s: PolicySnapshot) => void): void {
    this.listeners.push(listener);
  }

  /** Called with a namespace's name when its labels change (after the view has the new labels). */
  onNamespaceLabelsChanged(listener: (name: string) => void): void {
    this.namespaceListeners.push(listener);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (const inf of this.base) inf.start();
    try {
      await Promise.all(this.base.map((i) => i.waitForSync()));
    } catch (err) {
      if (!this.started) return; // stopped during the initial sync
      throw err;
    }
    // Compile now (and again whenever referenced Secret watches finish their first list).
    while (!this.compiledOnce && this.started) {
      this.recompile();
      if (this.compiledOnce) break;
      await Promise.all([...this.secretInformers.values()].map((i) => i.settled()));
    }
  }

  async stop(): Promise<void> {
    this.started = false;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const inf of this.informers) inf.stop();
  }
}
