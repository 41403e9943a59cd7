// Leader election on a coordination.k8s.io/v1 Lease (client-go's leaderelection, reduced): the holder
// renews every `retryPeriodMs`; a candidate takes the lease once it has seen no renewal for
// `leaseDurationMs` of its own clock (so clock skew between replicas does not matter); a leader that
// cannot renew within `renewDeadlineMs` stops leading. Writes carry the resourceVersion read, so two
// candidates never both win. On a clean stop the lease is released for an immediate hand-over.
import type pino from 'pino';
import type { Clock, TimerHandle } from '../kube/clock.ts';
import { LEASES } from '../kube/resources.ts';
import { isObj, isStatus, type KubeClient, type KubeObject } from '../kube/types.ts';
import type { ControllerMetrics } from './metrics.ts';

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
  onStoppedLeading: () => void;
}

export class LeaderElector {
  private leading = false;
  private stopped = true;
  private timer: TimerHandle | undefined;
  private observed: { key: string; at: number } | undefined;
  private lastRenew = 0;
  /** When the current holder's lease runs out, as this candidate sees it. */
  private expiresAt: number | undefined;

  constructor(private readonly d: LeaderElectorDeps) {}

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  /** Stops campaigning; a leader releases the lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.d.clock.clearTimeout(this.timer);
    if (!this.leading) return;
    this.setLeading(false);
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

  private setLeading(v: boolean): void {
    if (v === this.leading) return;
    this.leading = v;
    this.d.metrics?.leader.set(v ? 1 : 0);
    if (v) {
      this.d.metrics?.leaderTransitions.inc();
      this.d.logger.info(
        { lease: `${this.d.namespace}/${this.d.name}`, identity: this.d.identity },
        'became leader',
      );
      this.d.onStartedLeading();
    } else {
      this.d.logger.warn(
        { lease: `${this.d.namespace}/${this.d.name}`, identity: this.d.identity },
        'stopped leading',
      );
      this.d.onStoppedLeading();
    }
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
    try {
      const ok = await this.tryAcquireOrRenew();
      if (ok) this.lastRenew = this.d.clock.now();
      if (this.leading && !ok && this.d.clock.now() - this.lastRenew > (this.d.renewDeadlineMs ?? 10_000))
        this.setLeading(false);
      else if (ok && !this.stopped) this.setLeading(true);
    } catch (err) {
      this.d.logger.warn({ err: (err as Error).message }, 'leader election: lease request failed');
      if (this.leading && this.d.clock.now() - this.lastRenew > (this.d.renewDeadlineMs ?? 10_000))
        this.setLeading(false);
    }
    this.schedule();
  }

  /** True when this replica holds the lease after the call. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.d.clock.now();
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
