// Records Kubernetes Events on workloads, de-duplicated: the same (object, reason, key) is recorded once
// per `repeatAfterMs` (the API server drops Events after an hour by default, so a standing violation is
// re-recorded about that often rather than on every scan). The de-duplication memory is bounded (LRU).
import type pino from 'pino';
import type { Clock } from '../kube/clock.ts';
import { EVENTS } from '../kube/resources.ts';
import type { KubeClient } from '../kube/types.ts';
import type { ControllerMetrics } from './metrics.ts';

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
}

const toTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export class EventRecorder {
  private readonly seen = new Map<string, number>();

  constructor(private readonly o: EventRecorderOptions) {}

  /** Returns true when an Event was written (false when de-duplicated). Errors are logged, not thrown. */
  async record(target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string, dedupeKey: string): Promise<boolean> {
    const now = this.o.clock.now();
    const key = `${reason}\u0000${dedupeKey}`;
    const last = this.seen.get(key);
    if (last !== undefined && now - last < (this.o.repeatAfterMs ?? 3_600_000)) return false;
    this.seen.delete(key);
    this.seen.set(key, now);
    const max = this.o.maxRemembered ?? 50_000;
    while (this.seen.size > max) {
      const oldest = this.seen.keys().next().value as string;
      this.seen.delete(oldest);
    }
    try {
      await this.o.client.create(EVENTS, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${target.name}.${now.toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`, namespace: target.namespace },
        involvedObject: { apiVersion: target.apiVersion, kind: target.kind, name: target.name, namespace: target.namespace, ...(target.uid ? { uid: target.uid } : {}) },
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
      this.seen.delete(key);
      this.o.logger.warn({ reason, object: `${target.kind}/${target.namespace}/${target.name}`, err: (err as Error).message }, 'could not record event');
      return false;
    }
  }

  /** Forgets an object's Events (it was deleted). */
  forget(prefix: string): void {
    for (const k of this.seen.keys()) if (k.includes(`\u0000${prefix}`)) this.seen.delete(k);
  }
}
