// Webhook configuration reconciler: keeps modelgate's ValidatingWebhookConfiguration and
// MutatingWebhookConfiguration in line with the policies: the validating rules cover exactly the kinds
// the compiled policies select (no policy, no call: admission of other kinds pays nothing), the mutating
// webhook sees Pods only while a policy injects the verifier, every webhook keeps the namespace
// exemptions (kube-system, kube-node-lease, kube-public, modelgate's own), and clientConfig.caBundle is
// the CA bundle of the certificate reconciler (not with cert-manager: its CA injector owns caBundle).
// The single writer of both objects; writes only when something differs. Every sync goes through a
// work queue: a failed write is retried with back-off, and a periodic resync repairs what a missed
// watch event would have.
import type pino from 'pino';
import type { Clock, TimerHandle } from '../kube/clock.ts';
import { Informer } from '../kube/informer.ts';
import { MUTATING_WEBHOOKS, VALIDATING_WEBHOOKS } from '../kube/resources.ts';
import { isObj, isStatus, type KubeClient, type KubeObject, type ResourceRef } from '../kube/types.ts';
import { WorkQueue } from '../kube/workqueue.ts';
import type { PolicySnapshot } from '../policy/store.ts';
import { RESOURCE_OF, SUPPORTED_KINDS, type GroupKindRef } from '../workloads/kinds.ts';
import type { ControllerMetrics } from '../telemetry/metrics.ts';

type Obj = Record<string, unknown>;

export interface WebhookRule {
  apiGroups: string[];
  apiVersions: string[];
  resources: string[];
  operations: string[];
  scope: string;
}

const CORE_GROUPS = new Set(['', 'apps', 'batch']);

/** The kinds the compiled policies select (a policy without `match.kinds` selects every supported kind). */
export function selectedKinds(snapshot: PolicySnapshot): GroupKindRef[] {
  const out = new Map<string, GroupKindRef>();
  for (const p of snapshot.policies.policies) {
    const kinds = p.kinds.length ? p.kinds : SUPPORTED_KINDS;
    for (const k of kinds)
      if (SUPPORTED_KINDS.some((s) => s.group === k.group && s.kind === k.kind))
        out.set(`${k.group}/${k.kind}`, { group: k.group, kind: k.kind });
  }
  return [...out.values()];
}

/**
 * The webhook of the validating configuration that checks the policies themselves (static rules on the
 * modelgate.io kinds, failurePolicy Ignore): its rules are the chart's, never narrowed to workload kinds.
 */
export const POLICY_WEBHOOK_NAME = 'policies.modelgate.io';

/**
 * Rules for `kinds`, one per API group, in a stable order. With `ephemeralContainers`, Pods also bring
 * their `ephemeralcontainers` subresource: a debug container added to a running pod is checked too. Pure.
 */
export function rulesFor(
  kinds: GroupKindRef[],
  operations: string[],
  ephemeralContainers = false,
): WebhookRule[] {
  const byGroup = new Map<string, Set<string>>();
  for (const k of kinds) {
    const r = RESOURCE_OF[k.kind];
    if (!r) continue;
    const set = byGroup.get(k.group) ?? new Set<string>();
    set.add(r);
    if (ephemeralContainers && k.group === '' && k.kind === 'Pod') set.add('pods/ephemeralcontainers');
    byGroup.set(k.group, set);
  }
  const order = (g: string) => SUPPORTED_KINDS.findIndex((s) => s.group === g);
  return [...byGroup]
    .sort((a, b) => order(a[0]) - order(b[0]))
    .map(([group, resources]) => ({
      apiGroups: [group],
      apiVersions: CORE_GROUPS.has(group) ? ['v1'] : ['*'],
      resources: [...resources].sort(),
      operations,
      scope: 'Namespaced',
    }));
}

export const NAME_LABEL = 'kubernetes.io/metadata.name';

/** A namespaceSelector that keeps `exempt` namespaces out, preserving whatever else it says. Pure. */
export function withExemptions(selector: unknown, exempt: readonly string[]): Obj {
  const sel: Obj = isObj(selector) ? { ...selector } : {};
  const exprs = Array.isArray(sel.matchExpressions)
    ? sel.matchExpressions.filter(isObj).map((e) => ({ ...e }))
    : [];
  const notIn = exprs.find((e) => e.key === NAME_LABEL && e.operator === 'NotIn');
  if (notIn) {
    const values = Array.isArray(notIn.values)
      ? notIn.values.filter((v): v is string => typeof v === 'string')
      : [];
    notIn.values = [...values, ...exempt.filter((n) => !values.includes(n))];
  } else exprs.unshift({ key: NAME_LABEL, operator: 'NotIn', values: [...exempt] });
  sel.matchExpressions = exprs;
  return sel;
}

export interface WebhookDesired {
  /** Rules, or undefined to leave them as they are. */
  rules?: WebhookRule[];
  caBundle?: string;
  exempt: readonly string[];
}

/** The webhooks list with rules, exemptions and caBundle applied. Pure. */
export function desiredWebhooks(webhooks: unknown, want: WebhookDesired): Obj[] {
  return (Array.isArray(webhooks) ? webhooks.filter(isObj) : []).map((w) => {
    const next: Obj = { ...w, namespaceSelector: withExemptions(w.namespaceSelector, want.exempt) };
    if (want.rules && w.name !== POLICY_WEBHOOK_NAME) {
      const existing = Array.isArray(w.rules) ? w.rules.filter(isObj) : [];
      const ops = existing.find((r) => Array.isArray(r.operations))?.operations as string[] | undefined;
      next.rules = want.rules.map((r) => ({ ...r, operations: ops ?? r.operations }));
    }
    if (want.caBundle !== undefined)
      next.clientConfig = {
        ...(isObj(w.clientConfig) ? w.clientConfig : {}),
        caBundle: Buffer.from(want.caBundle).toString('base64'),
      };
    return next;
  });
}

export interface WebhookConfigReconcilerDeps {
  client: KubeClient;
  clock: Clock;
  logger: pino.Logger;
  metrics?: ControllerMetrics;
  validatingName?: string;
  mutatingName?: string;
  exemptNamespaces: readonly string[];
  snapshot: () => PolicySnapshot;
  /** The CA bundle to publish; undefined with cert-manager (leave caBundle alone). */
  caBundle?: () => string | undefined;
  /** Narrow rules to the kinds policies select (default true). */
  manageRules?: boolean;
  /** Look again this often even without a change (default 10 minutes). */
  resyncMs?: number;
  /** Back-off of failed writes (default 1 s doubling to 60 s, retried until they succeed). */
  retry?: { baseDelayMs: number; maxDelayMs: number };
}

const KEY = 'webhook-configurations';

export class WebhookConfigReconciler {
  private readonly informers: Informer[] = [];
  private readonly queue: WorkQueue;
  private resyncTimer: TimerHandle | undefined;

  constructor(private readonly d: WebhookConfigReconcilerDeps) {
    this.queue = new WorkQueue(
      {
        name: 'webhook-config',
        clock: d.clock,
        logger: d.logger,
        baseDelayMs: d.retry?.baseDelayMs ?? 1000,
        maxDelayMs: d.retry?.maxDelayMs ?? 60_000,
        // The admission path depends on these objects: never give up on them.
        maxRetries: Number.MAX_SAFE_INTEGER,
        ...(d.metrics ? { onMetrics: d.metrics.queueHook } : {}),
      },
      () => this.reconcile(),
    );
    for (const [ref, name] of [
      [VALIDATING_WEBHOOKS, d.validatingName],
      [MUTATING_WEBHOOKS, d.mutatingName],
    ] as const) {
      if (!name) continue;
      const inf = new Informer({
        client: d.client,
        ref,
        clock: d.clock,
        logger: d.logger,
        fieldSelector: `metadata.name=${name}`,
      });
      // A `helm upgrade` or a user may reset the object: put it back.
      inf.addHandlers({ onAdd: () => this.requestSync(), onUpdate: () => this.requestSync() });
      this.informers.push(inf);
    }
  }

  start(): void {
    for (const i of this.informers) i.start();
    this.requestSync();
    this.scheduleResync();
  }

  /** Stops the watches and the queue; resolves when a write in progress has returned. */
  async stop(): Promise<void> {
    if (this.resyncTimer) this.d.clock.clearTimeout(this.resyncTimer);
    for (const i of this.informers) i.stop();
    await this.queue.stop();
  }

  /** Queues a sync (retried with back-off until it succeeds). */
  requestSync(): void {
    this.queue.add(KEY);
  }

  /**
   * Queues a sync and resolves once one that started after the call has written both configurations;
   * rejects with its error (the queue retries it meanwhile).
   */
  sync(): Promise<void> {
    return this.queue.addAndWait(KEY);
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  private scheduleResync(): void {
    this.resyncTimer = this.d.clock.setTimeout(() => {
      this.requestSync();
      this.scheduleResync();
    }, this.d.resyncMs ?? 600_000);
  }

  private async reconcile(): Promise<void> {
    const snapshot = this.d.snapshot();
    const kinds = selectedKinds(snapshot);
    const injects = snapshot.policies.policies.some((p) => p.verifier.inject);
    const caBundle = this.d.caBundle?.();
    const manage = this.d.manageRules !== false;
    await this.apply(VALIDATING_WEBHOOKS, this.d.validatingName, {
      ...(manage ? { rules: rulesFor(kinds, ['CREATE', 'UPDATE'], true) } : {}),
      ...(caBundle !== undefined ? { caBundle } : {}),
      exempt: this.d.exemptNamespaces,
    });
    await this.apply(MUTATING_WEBHOOKS, this.d.mutatingName, {
      ...(manage ? { rules: injects ? rulesFor([{ group: '', kind: 'Pod' }], ['CREATE']) : [] } : {}),
      ...(caBundle !== undefined ? { caBundle } : {}),
      exempt: this.d.exemptNamespaces,
    });
  }

  private async apply(
    ref: ResourceRef,
    name: string | undefined,
    want: WebhookDesired,
    attempt = 1,
  ): Promise<void> {
    if (!name) return;
    const cur: KubeObject | undefined = await this.d.client.get(ref, name);
    if (!cur) {
      // The chart owns the object's lifecycle; without it there is nothing to keep in line.
      this.d.logger.debug({ configuration: `${ref.kind}/${name}` }, 'webhook configuration not found');
      return;
    }
    const webhooks = desiredWebhooks(cur.webhooks, want);
    if (JSON.stringify(webhooks) === JSON.stringify(cur.webhooks)) return;
    try {
      await this.d.client.replace(ref, { ...cur, webhooks });
    } catch (err) {
      // Changed meanwhile: again from a fresh read (a few times; then the queue's back-off takes over).
      if (isStatus(err, 409) && attempt < 3) return this.apply(ref, name, want, attempt + 1);
      throw new Error(`updating ${ref.kind} ${name}: ${(err as Error).message}`);
    }
    this.d.metrics?.webhookConfigUpdates.inc({ configuration: ref.kind });
    this.d.logger.info(
      { configuration: `${ref.kind}/${name}`, rules: want.rules?.map((r) => r.resources.join(',')) },
      'webhook configuration updated',
    );
  }
}
