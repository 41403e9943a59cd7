// Records Kubernetes Events on workloads, de-duplicated: the same (object, reason, key) is recorded once
// per `repeatAfterMs` (the API server drops Events after an hour by default, so a standing violation is
// re-recorded about that often rather than on every scan). The de-duplication memory is bounded (LRU).
//
// Writes go through a work queue: rate-limited (a token bucket, so a first audit of a large cluster does
// not flood the API server with Events), bounded (an Event that finds the queue full is dropped, counted,
// and recorded by a later scan), and retried with back-off when a write fails (then dropped and left for
// a later scan). Callers never wait for the write.
//
// The memory outlives a leader: every Event carries its key's digest in a label, and a recorder reads
// back the Events recorded before it (by the previous leader, or by itself before it lost the lease)
// before it writes its first, so a fail-over does not record every standing violation again.
import { createHash } from 'node:crypto';
import type pino from 'pino';
import type { Clock } from '../kube/clock.ts';
import { EVENTS } from '../kube/resources.ts';
import { isStatus, KubeApiError, type KubeClient, type KubeObject } from '../kube/types.ts';
import { WorkQueue } from '../kube/workqueue.ts';
import type { ControllerMetrics } from '../telemetry/metrics.ts';

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
  /** Event writes per second on average, in bursts of up to `burst` (default 10/s, burst 100). */
  rateLimit?: { perSecond: number; burst: number };
  /** Events waiting to be written, at most (default 5,000); more are dropped until a later scan. */
  maxPending?: number;
  /** Attempts per Event before it is left for a later scan (default 5). */
  maxRetries?: number;
}

interface PendingEvent {
  target: EventTarget;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
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
  /** Key digest → the Event waiting in the queue. */
  private readonly pending = new Map<string, PendingEvent>();
  private readonly queue: WorkQueue;
  private restoring: Promise<void> | undefined;

  constructor(private readonly o: EventRecorderOptions) {
    this.queue = new WorkQueue(
      {
        name: 'events',
        clock: o.clock,
        logger: o.logger,
        concurrency: 4,
        baseDelayMs: 1000,
        maxDelayMs: 30_000,
        maxRetries: o.maxRetries ?? 5,
        maxDepth: o.maxPending ?? 5000,
        rateLimit: o.rateLimit ?? { perSecond: 10, burst: 100 },
        onDrop: (digest) => {
          const e = this.pending.get(digest);
          this.pending.delete(digest);
          if (e) this.o.metrics?.eventsDropped.inc({ cause: 'write-failed' });
        },
        ...(o.metrics ? { onMetrics: o.metrics.queueHook } : {}),
      },
      (digest) => this.write(digest),
    );
  }

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

  /**
   * Queues an Event unless the same key was recorded within the repeat interval (or is queued). Returns
   * true when queued. Never waits for the write: it is rate-limited, retried, and, when the queue is
   * full, dropped and counted (`modelgate_events_dropped_total`), so a later scan records it.
   */
  record(
    target: EventTarget,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    dedupeKey: string,
  ): boolean {
    void this.restore();
    const digest = eventKeyDigest(reason, dedupeKey);
    if (this.pending.has(digest) || this.recent(digest)) return false;
    this.pending.set(digest, { target, type, reason, message });
    if (this.queue.add(digest)) return true;
    this.pending.delete(digest);
    if (!this.queue.isStopped) this.o.metrics?.eventsDropped.inc({ cause: 'queue-full' });
    return false;
  }

  /** Resolves when no Event waits to be written (for tests and benchmarks). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Stops writing; resolves when the writes in flight have returned. Queued Events are dropped. */
  async stop(): Promise<void> {
    await this.queue.stop();
    this.pending.clear();
  }

  private recent(digest: string): boolean {
    const last = this.seen.get(digest);
    return last !== undefined && this.o.clock.now() - last < this.repeatAfterMs;
  }

  private async write(digest: string): Promise<void> {
    const e = this.pending.get(digest);
    if (!e) return;
    // The first writes wait for the read-back, then look again: the previous leader may have recorded it.
    await this.restore();
    if (this.recent(digest)) {
      this.pending.delete(digest);
      return;
    }
    const { target, type, reason, message } = e;
    const now = this.o.clock.now();
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
    } catch (err) {
      // The namespace is gone or being deleted: the Event has nowhere to go, and retrying cannot help.
      if (
        isStatus(err, 404) ||
        (err instanceof KubeApiError && err.status === 403 && /terminat/i.test(err.message))
      ) {
        this.pending.delete(digest);
        this.o.logger.debug(
          { reason, object: `${target.kind}/${target.namespace}/${target.name}` },
          'event not recorded: its namespace is being deleted',
        );
        return;
      }
      throw new Error(
        `recording ${reason} on ${target.kind}/${target.namespace}/${target.name}: ${(err as Error).message}`,
      );
    }
    this.pending.delete(digest);
    this.remember(digest, now);
    this.o.metrics?.events.inc({ reason });
  }
}
