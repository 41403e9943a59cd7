// Records Kubernetes Events on workloads, de-duplicated: the same (object, reason, key) is recorded once
// per `repeatAfterMs` (the API server drops Events after an hour by default, so a standing violation is
// re-recorded about that often rather than on every scan). The de-duplication memory is bounded (LRU).
//
// The memory outlives a leader: every Event carries its key's digest in a label, and a recorder reads
// back the Events recorded before it (by the previous leader, or by itself before it lost the lease)
// before it writes its first, so a fail-over does not record every standing violation again.
import { createHash } from 'node:crypto';
import type pino from 'pino';
import type { Clock } from '../kube/clock.ts';
import { EVENTS } from '../kube/resources.ts';
import type { KubeClient, KubeObject } from '../kube/types.ts';
import type { ControllerMetrics } from './metrics.ts';

/** The label that carries an Event's de-duplication key digest (its presence selects modelgate's Events). */
export const EVENT_KEY_LABEL = 'modelgate.io/event-key';

export interface EventTarget {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid?: string;
}

export interface EventRecorderOptions {
  client: KubeClient;
  clock: Clock;
  logger: pino.Logger;
  metrics?: ControllerMetrics;
  /** Reporting instance (the pod name). */
  instance: string;
  repeatAfterMs?: number;
  maxRemembered?: number;
  /** Page size when reading back earlier Events. */
  pageSize?: number;
}

const toTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A label-safe digest of a de-duplication key: 40 hex digits (160 bits) of SHA-256. */
export function eventKeyDigest(reason: string, dedupeKey: string): string {
  return createHash('sha256').update(`${reason}\u0000${dedupeKey}`).digest('hex').slice(0, 40);
}

/** When an Event was last recorded (ms), from the newest of its timestamps; undefined when it has none. */
function recordedAt(e: KubeObject): number | undefined {
  let newest: number | undefined;
  for (const field of ['lastTimestamp', 'eventTime', 'firstTimestamp'] as const) {
    const v = e[field];
    const ms = typeof v === 'string' ? Date.parse(v) : NaN;
    if (Number.isFinite(ms) && (newest === undefined || ms > newest)) newest = ms;
  }
  return newest;
}

export class EventRecorder {
  /** Key digest → when it was last recorded, oldest first. */
  private readonly seen = new Map<string, number>();
  private restoring: Promise<void> | undefined;

  constructor(private readonly o: EventRecorderOptions) {}

  private get repeatAfterMs(): number {
    return this.o.repeatAfterMs ?? 3_600_000;
  }

  /**
   * Reads back the Events modelgate recorded within the repeat interval, so they are not recorded again.
   * Runs once, before the first `record`; calling it earlier starts it sooner. A failure (no `list` on
   * events, API down) is logged and costs only duplicates: the recorder then starts with no memory.
   */
  restore(): Promise<void> {
    this.restoring ??= this.readBack();
    return this.restoring;
  }

  private async readBack(): Promise<void> {
    const now = this.o.clock.now();
    const found = new Map<string, number>();
    let events = 0;
    try {
      let token: string | undefined;
      do {
        const page = await this.o.client.list(EVENTS, {
          labelSelector: EVENT_KEY_LABEL,
          limit: this.o.pageSize ?? 500,
          ...(token ? { continue: token } : {}),
        });
        for (const e of page.items) {
          events++;
          const digest = e.metadata.labels?.[EVENT_KEY_LABEL];
          const at = recordedAt(e);
          if (!digest || at === undefined || now - at >= this.repeatAfterMs) continue;
          found.set(digest, Math.max(at, found.get(digest) ?? at));
        }
        token = page.continue;
      } while (token);
    } catch (err) {
      this.o.logger.warn(
        { err: (err as Error).message },
        'could not read back the Events recorded before this leader (does the controller role allow "list" on events?): standing violations will be recorded again once',
      );
      return;
    }
    // Oldest first, as `record` keeps them, so the LRU bound drops the oldest.
    for (const [digest, at] of [...found].sort((a, b) => a[1] - b[1]))
      if (!this.seen.has(digest)) this.remember(digest, at);
    this.o.logger.info({ events, remembered: found.size }, 'read back earlier Events for de-duplication');
  }

  private remember(digest: string, at: number): void {
    this.seen.delete(digest);
    this.seen.set(digest, at);
    const max = this.o.maxRemembered ?? 50_000;
    while (this.seen.size > max) {
      const oldest = this.seen.keys().next().value as string;
      this.seen.delete(oldest);
    }
  }

  /** Returns true when an Event was written (false when de-duplicated). Errors are logged, not thrown. */
  async record(
    target: EventTarget,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    dedupeKey: string,
  ): Promise<boolean> {
    await this.restore();
    const now = this.o.clock.now();
    const digest = eventKeyDigest(reason, dedupeKey);
    const last = this.seen.get(digest);
    if (last !== undefined && now - last < this.repeatAfterMs) return false;
    this.remember(digest, now);
    try {
      await this.o.client.create(EVENTS, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: {
          name: `${target.name}.${now.toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`,
          namespace: target.namespace,
          labels: { [EVENT_KEY_LABEL]: digest },
        },
        involvedObject: {
          apiVersion: target.apiVersion,
          kind: target.kind,
          name: target.name,
          namespace: target.namespace,
          ...(target.uid ? { uid: target.uid } : {}),
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: 'modelgate-controller' },
        reportingComponent: 'modelgate.io/controller',
        reportingInstance: this.o.instance,
        firstTimestamp: toTime(now),
        lastTimestamp: toTime(now),
        count: 1,
      });
      this.o.metrics?.events.inc({ reason });
      return true;
    } catch (err) {
      // Forget it so the next scan tries again.
      this.seen.delete(digest);
      this.o.logger.warn(
        { reason, object: `${target.kind}/${target.namespace}/${target.name}`, err: (err as Error).message },
        'could not record event',
      );
      return false;
    }
  }
}
