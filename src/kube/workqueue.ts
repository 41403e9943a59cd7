// A per-key work queue (client-go's workqueue semantics): a key is queued at most once; a key being
// processed that is added again is processed once more afterwards, never concurrently; failures are
// retried with per-key exponential back-off up to `maxRetries`, then dropped (the next change or the
// periodic resync brings the key back).
import type pino from 'pino';
import type { Clock, TimerHandle } from './clock.ts';

export interface WorkQueueOptions {
  name: string;
  clock: Clock;
  logger: pino.Logger;
  concurrency?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  maxRetries?: number;
  onMetrics?: (m: {
    name: string;
    depth: number;
    event: 'add' | 'done' | 'retry' | 'drop';
    durationMs?: number;
  }) => void;
}

export type Reconcile = (key: string) => Promise<void>;

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirtyWhileProcessing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, TimerHandle>();
  private readonly idleWaiters: (() => void)[] = [];
  private active = 0;
  private stopped = false;

  constructor(
    private readonly o: WorkQueueOptions,
    private readonly reconcile: Reconcile,
  ) {}

  get depth(): number {
    return this.queue.length;
  }

  add(key: string): void {
    if (this.stopped) return;
    const timer = this.delayed.get(key);
    if (timer) {
      this.o.clock.clearTimeout(timer);
      this.delayed.delete(key);
    }
    if (this.processing.has(key)) {
      this.dirtyWhileProcessing.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.o.onMetrics?.({ name: this.o.name, depth: this.queue.length, event: 'add' });
    this.pump();
  }

  /** Adds the key after `ms` (an earlier add wins). */
  addAfter(key: string, ms: number): void {
    if (this.stopped || this.queued.has(key) || this.delayed.has(key)) return;
    if (ms <= 0) return this.add(key);
    this.delayed.set(
      key,
      this.o.clock.setTimeout(() => {
        this.delayed.delete(key);
        this.add(key);
      }, ms),
    );
  }

  /** Resolves when nothing is queued or running (delayed retries do not count); for tests and benchmarks. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.active === 0;
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.delayed.values()) this.o.clock.clearTimeout(t);
    this.delayed.clear();
    this.queue.length = 0;
    this.queued.clear();
  }

  private pump(): void {
    const limit = this.o.concurrency ?? 1;
    while (!this.stopped && this.active < limit && this.queue.length > 0) {
      const key = this.queue.shift() as string;
      this.queued.delete(key);
      this.processing.add(key);
      this.active++;
      void this.run(key);
    }
    if (this.isIdle()) for (const w of this.idleWaiters.splice(0)) w();
  }

  private async run(key: string): Promise<void> {
    const started = this.o.clock.now();
    try {
      await this.reconcile(key);
      this.failures.delete(key);
      this.o.onMetrics?.({
        name: this.o.name,
        depth: this.queue.length,
        event: 'done',
        durationMs: this.o.clock.now() - started,
      });
    } catch (err) {
      const n = (this.failures.get(key) ?? 0) + 1;
      const max = this.o.maxRetries ?? 15;
      if (n > max) {
        this.failures.delete(key);
        this.o.logger.error(
          { queue: this.o.name, key, err: (err as Error).message },
          'giving up on key after retries',
        );
        this.o.onMetrics?.({ name: this.o.name, depth: this.queue.length, event: 'drop' });
      } else {
        this.failures.set(key, n);
        const delay = Math.min(this.o.maxDelayMs ?? 300_000, (this.o.baseDelayMs ?? 200) * 2 ** (n - 1));
        this.o.logger.warn(
          { queue: this.o.name, key, err: (err as Error).message, retryInMs: delay, attempt: n },
          'reconcile failed; retrying',
        );
        this.o.onMetrics?.({ name: this.o.name, depth: this.queue.length, event: 'retry' });
        this.processing.delete(key);
        this.active--;
        if (!this.dirtyWhileProcessing.delete(key)) this.addAfter(key, delay);
        else this.add(key);
        this.pump();
        return;
      }
    }
    this.processing.delete(key);
    this.active--;
    if (this.dirtyWhileProcessing.delete(key)) this.add(key);
    this.pump();
  }
}
