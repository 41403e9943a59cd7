// Leader election on a coordination.k8s.io/v1 Lease (client-go's leaderelection, reduced): the holder
// renews every `retryPeriodMs`; a candidate takes the lease once it has seen no renewal for
// `leaseDurationMs` of its own clock (so clock skew between replicas does not matter); a leader that
// cannot renew within `renewDeadlineMs` stops leading. Writes carry the resourceVersion read, so two
// candidates never both win. On a clean stop the lease is released for an immediate hand-over.
//
// Losing the lease stops every writer before anyone else can lead (drain, not exit): each term of
// leadership is a `LeadershipTerm`, the fence of the reconcilers' client (src/kube/fenced-client.ts).
// Its writes are refused from `renewTime + renewDeadline` on, measured from the renewTime this replica
// wrote, while a candidate waits `leaseDuration` from when it saw that renewTime; at the deadline the
// term ends, calls in flight reject, and `onStoppedLeading` waits for the running reconciles to return.
import type pino from 'pino';
import type { Clock, TimerHandle } from '../kube/clock.ts';
import type { WriteFence } from '../kube/fenced-client.ts';
import { LEASES } from '../kube/resources.ts';
import { isObj, isStatus, type KubeClient, type KubeObject } from '../kube/types.ts';
import type { ControllerMetrics } from '../telemetry/metrics.ts';

export interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions: number;
}

export function leaseRecord(lease: KubeObject | undefined): LeaseRecord | undefined {
  if (!lease) return undefined;
  const s = isObj(lease.spec) ? lease.spec : {};
  return {
    holderIdentity: typeof s.holderIdentity === 'string' ? s.holderIdentity : '',
    leaseDurationSeconds: typeof s.leaseDurationSeconds === 'number' ? s.leaseDurationSeconds : 15,
    ...(typeof s.acquireTime === 'string' ? { acquireTime: s.acquireTime } : {}),
    ...(typeof s.renewTime === 'string' ? { renewTime: s.renewTime } : {}),
    leaseTransitions: typeof s.leaseTransitions === 'number' ? s.leaseTransitions : 0,
  };
}

/** MicroTime, as the API server writes it. */
export const microTime = (ms: number) => new Date(ms).toISOString().replace(/Z$/, '000Z');

export type LeaseAction = 'create' | 'renew' | 'acquire' | 'wait';

/**
 * What a candidate should do. `observedAt` is when this replica last saw the record change (its own
 * clock), which is what expiry is measured from. Pure.
 */
export function leaseAction(
  rec: LeaseRecord | undefined,
  identity: string,
  now: number,
  observedAt: number,
): LeaseAction {
  if (!rec) return 'create';
  if (rec.holderIdentity === identity) return 'renew';
  if (rec.holderIdentity === '') return 'acquire';
  return now - observedAt >= rec.leaseDurationSeconds * 1000 ? 'acquire' : 'wait';
}

export interface LeaderElectorDeps {
  client: KubeClient;
  clock: Clock;
  logger: pino.Logger;
  metrics?: ControllerMetrics;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading: () => void;
  /** May return a promise: a clean stop releases the lease only after it settles (the drain). */
  onStoppedLeading: () => void | Promise<void>;
}

/**
 * One term of leadership, as a write fence: writes are allowed while the lease is certainly held
 * (before `validUntil()`), refused after, and `end()` aborts the calls in flight.
 */
export class LeadershipTerm implements WriteFence {
  private readonly abort = new AbortController();
  constructor(
    private readonly clock: Clock,
    /** Until when the lease is certainly ours (ms since the epoch); undefined: no election, always. */
    private readonly validUntil: () => number | undefined,
  ) {}

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  refusal(): string | undefined {
    if (this.abort.signal.aborted) return 'this replica is no longer the leader';
    const until = this.validUntil();
    if (until !== undefined && this.clock.now() >= until)
      return 'the leader lease was not renewed within the renew deadline';
    return undefined;
  }

  end(): void {
    this.abort.abort();
  }
}

export class LeaderElector {
  private leading = false;
  private stopped = true;
  private timer: TimerHandle | undefined;
  private observed: { key: string; at: number } | undefined;
  /** The renewTime this replica last wrote successfully (its own clock, taken before the request). */
  private lastRenew = 0;
  private deadlineTimer: TimerHandle | undefined;
  private draining: Promise<void> = Promise.resolve();
  /** When the current holder's lease runs out, as this candidate sees it. */
  private expiresAt: number | undefined;

  constructor(private readonly d: LeaderElectorDeps) {}

  isLeader(): boolean {
    return this.leading;
  }

  /** Until when this replica certainly holds the lease (0 when it does not lead). */
  leaseValidUntil(): number {
    return this.leading ? this.lastRenew + this.renewDeadlineMs : 0;
  }

  private get renewDeadlineMs(): number {
    return this.d.renewDeadlineMs ?? 10_000;
  }

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  /** Stops campaigning; a leader releases the lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.d.clock.clearTimeout(this.timer);
    if (!this.leading) return this.draining;
    // Every writer has stopped before the lease is released: no one else leads while we still write.
    await this.setLeading(false);
    try {
      const lease = await this.d.client.get(LEASES, this.d.name, this.d.namespace);
      const rec = leaseRecord(lease);
      if (lease && rec?.holderIdentity === this.d.identity) {
        await this.d.client.replace(LEASES, {
          ...lease,
          spec: {
            ...(lease.spec as object),
            holderIdentity: '',
            leaseDurationSeconds: 1,
            renewTime: microTime(this.d.clock.now()),
          },
        });
      }
    } catch (err) {
      this.d.logger.warn({ err: (err as Error).message }, 'could not release the leader lease');
    }
  }

  private get durationMs(): number {
    return this.d.leaseDurationMs ?? 15_000;
  }

  /** Resolves when the change has taken effect (for `false`: when the drain has finished). */
  private setLeading(v: boolean): Promise<void> {
    if (v === this.leading) return this.draining;
    this.leading = v;
    this.d.metrics?.leader.set(v ? 1 : 0);
    if (v) {
      this.d.metrics?.leaderTransitions.inc();
      this.d.logger.info(
        { lease: `${this.d.namespace}/${this.d.name}`, identity: this.d.identity },
        'became leader',
      );
      this.armDeadline();
      this.d.onStartedLeading();
      return Promise.resolve();
    }
    if (this.deadlineTimer) this.d.clock.clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.d.logger.warn(
      { lease: `${this.d.namespace}/${this.d.name}`, identity: this.d.identity },
      'stopped leading',
    );
    this.draining = Promise.resolve()
      .then(() => this.d.onStoppedLeading())
      .catch((err: unknown) =>
        this.d.logger.error({ err: (err as Error).message }, 'stopping the reconcilers failed'),
      );
    return this.draining;
  }

  /**
   * Stops leading at the renew deadline unless a renewal came first, even while a lease request hangs
   * (the tick that would notice may be waiting for it).
   */
  private armDeadline(): void {
    if (this.deadlineTimer) this.d.clock.clearTimeout(this.deadlineTimer);
    const at = this.lastRenew + this.renewDeadlineMs;
    this.deadlineTimer = this.d.clock.setTimeout(
      () => {
        this.deadlineTimer = undefined;
        if (!this.leading) return;
        if (this.d.clock.now() < this.lastRenew + this.renewDeadlineMs) return this.armDeadline();
        this.d.logger.warn(
          { renewDeadlineMs: this.renewDeadlineMs },
          'leader lease not renewed within the renew deadline',
        );
        void this.setLeading(false);
      },
      Math.max(0, at - this.d.clock.now()),
    );
  }

  private schedule(): void {
    if (this.stopped) return;
    const retry = this.d.retryPeriodMs ?? 2_000;
    // A candidate looks again exactly when the holder's lease runs out, not up to a retry period later.
    const untilExpiry = this.expiresAt !== undefined ? this.expiresAt - this.d.clock.now() : retry;
    this.timer = this.d.clock.setTimeout(() => void this.tick(), Math.max(10, Math.min(retry, untilExpiry)));
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    // The renewTime written is taken before the request: the fence counts from it, not from the reply.
    const attemptAt = this.d.clock.now();
    try {
      const ok = await this.tryAcquireOrRenew(attemptAt);
      if (ok && !this.stopped && attemptAt + this.renewDeadlineMs > this.d.clock.now()) {
        this.lastRenew = attemptAt;
        if (this.leading) this.armDeadline();
        else void this.setLeading(true);
      } else if (this.leading && this.d.clock.now() - this.lastRenew >= this.renewDeadlineMs)
        void this.setLeading(false);
    } catch (err) {
      this.d.logger.warn({ err: (err as Error).message }, 'leader election: lease request failed');
      if (this.leading && this.d.clock.now() - this.lastRenew >= this.renewDeadlineMs)
        void this.setLeading(false);
    }
    this.schedule();
  }

  /** True when this replica holds the lease after the call. */
  private async tryAcquireOrRenew(now: number): Promise<boolean> {
    const lease = await this.d.client.get(LEASES, this.d.name, this.d.namespace);
    const rec = leaseRecord(lease);
    const key = rec
      ? `${rec.holderIdentity}|${rec.renewTime ?? ''}|${lease?.metadata.resourceVersion ?? ''}`
      : '';
    if (!this.observed || this.observed.key !== key) {
      // Expiry counts from when this replica saw the renewal, or from the renewTime written if the two
      // clocks agree within a retry period (then a standby need not wait for its own next poll).
      const written = rec?.renewTime ? Date.parse(rec.renewTime) : NaN;
      const plausible =
        Number.isFinite(written) && written <= now && now - written <= (this.d.retryPeriodMs ?? 2_000);
      this.observed = { key, at: plausible ? written : now };
    }
    const action = leaseAction(rec, this.d.identity, now, this.observed.at);
    this.expiresAt =
      action === 'wait' && rec ? this.observed.at + rec.leaseDurationSeconds * 1000 : undefined;
    const spec = (transitions: number, acquire: boolean) => ({
      holderIdentity: this.d.identity,
      leaseDurationSeconds: Math.ceil(this.durationMs / 1000),
      acquireTime: acquire || !rec?.acquireTime ? microTime(now) : rec.acquireTime,
      renewTime: microTime(now),
      leaseTransitions: transitions,
    });
    try {
      if (action === 'wait') return false;
      if (action === 'create') {
        await this.d.client.create(LEASES, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.d.name, namespace: this.d.namespace },
          spec: spec(0, true),
        });
        return true;
      }
      if (!lease || !rec) return false;
      const acquire = action === 'acquire';
      const updated = await this.d.client.replace(LEASES, {
        ...lease,
        spec: spec(rec.leaseTransitions + (acquire ? 1 : 0), acquire),
      });
      const u = leaseRecord(updated);
      this.observed = {
        key: `${u?.holderIdentity}|${u?.renewTime ?? ''}|${updated.metadata.resourceVersion ?? ''}`,
        at: now,
      };
      return true;
    } catch (err) {
      // Someone else wrote first (409) or created it first: not ours this round.
      if (isStatus(err, 409)) return false;
      throw err;
    }
  }
}
