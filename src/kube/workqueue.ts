// A per-key work queue (client-go's workqueue semantics): a key is queued at most once; a key being
// processed that is added again is processed once more afterwards, never concurrently; failures are
// retried with per-key exponential back-off up to `maxRetries`, then dropped (the next change or the
// periodic resync brings the key back). Optional bounds: a token bucket on how fast reconciles start
// (Event writes), and a maximum number of queued keys (memory stays bounded whatever the cluster does).
//
// `stop()` drains: nothing new starts, and it resolves once the reconciles already running have
// returned, so a controller that loses its lease knows when its last write has finished.
import type pino from 'pino';
import type { Clock, TimerHandle } from './clock.ts';

export type QueueEvent = 'add' | 'done' | 'retry' | 'drop' | 'overflow';

export interface WorkQueueOptions {
  name: string;
  clock: Clock;
  logger: pino.Logger;
  concurrency?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  maxRetries?: number;
  /** At most this many keys waiting (queued or delayed); `add` refuses more and returns false. */
  maxDepth?: number;
  /** Token bucket on reconcile starts: `perSecond` on average, bursts of up to `burst`. */
  rateLimit?: { perSecond: number; burst: number };
  /** Called when a key is given up after `maxRetries` failures. */
  onDrop?: (key: string, err: Error) => void;
  onMetrics?: (m: { name: string; depth: number; event: QueueEvent; durationMs?: number }) => void;
}

export type Reconcile = (key: string) => Promise<void>;

/** Rejects the waiters of a queue that stopped before their key ran. */
export class QueueStoppedError extends Error {
  constructor(queue: string) {
    super(`work queue "${queue}" stopped`);
    this.name = 'QueueStoppedError';
  }
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirtyWhileProcessing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, TimerHandle>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly drainWaiters: (() => void)[] = [];
  /** Callers of addAndWait, settled by the next run of their key that starts after they asked. */
  private readonly waiting = new Map<string, Waiter[]>();
  private active = 0;
  private stopped = false;
  private tokens: number;
  private tokensAt: number;
  private tokenTimer: TimerHandle | undefined;

  constructor(
    private readonly o: WorkQueueOptions,
    private readonly reconcile: Reconcile,
  ) {
    this.tokens = o.rateLimit?.burst ?? 0;
    this.tokensAt = o.clock.now();
  }

  get depth(): number {
    return this.queue.length;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  private get waitingKeys(): number {
    return this.queue.length + this.delayed.size;
  }

  /** Queues `key`; false when the queue is stopped or full (the key is then not queued). */
  add(key: string): boolean {
    if (this.stopped) return false;
    const timer = this.delayed.get(key);
    if (timer) {
      this.o.clock.clearTimeout(timer);
      this.delayed.delete(key);
    }
    if (this.processing.has(key)) {
      this.dirtyWhileProcessing.add(key);
      return true;
    }
    if (this.queued.has(key)) return true;
    if (this.o.maxDepth !== undefined && this.waitingKeys >= this.o.maxDepth) {
      this.o.onMetrics?.({ name: this.o.name, depth: this.queue.length, event: 'overflow' });
      return false;
    }
    this.queued.add(key);
    this.queue.push(key);
    this.o.onMetrics?.({ name: this.o.name, depth: this.queue.length, event: 'add' });
    this.pump();
    return true;
  }

  /** Adds the key after `ms` (an earlier add wins); false when stopped or full. */
  addAfter(key: string, ms: number): boolean {
    return this.delay(key, ms, false);
  }

  /** A retry is not refused for depth: its key was already counted when it was first queued. */
  private delay(key: string, ms: number, retry: boolean): boolean {
    if (this.stopped) return false;
    if (this.queued.has(key) || this.delayed.has(key)) return true;
    if (ms <= 0) return this.add(key);
    if (!retry && this.o.maxDepth !== undefined && this.waitingKeys >= this.o.maxDepth) {
      this.o.onMetrics?.({ name: this.o.name, depth: this.queue.length, event: 'overflow' });
      return false;
    }
    this.delayed.set(
      key,
      this.o.clock.setTimeout(() => {
        this.delayed.delete(key);
        this.add(key);
      }, ms),
    );
    return true;
  }

  /**
   * Queues `key` and resolves when a reconcile of it that started after this call succeeds; rejects
   * with that reconcile's error (the queue still retries it), or when the queue stops first.
   */
  addAndWait(key: string): Promise<void> {
    if (this.stopped) return Promise.reject(new QueueStoppedError(this.o.name));
    return new Promise<void>((resolve, reject) => {
      const list = this.waiting.get(key) ?? [];
      list.push({ resolve, reject });
      this.waiting.set(key, list);
      if (!this.add(key)) {
        this.waiting.set(
          key,
          list.filter((w) => w.resolve !== resolve),
        );
        reject(new Error(`work queue "${this.o.name}" is full; ${key} not queued`));
      }
    });
  }

  /** Resolves when nothing is queued or running (delayed retries do not count); for tests and benchmarks. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.active === 0;
  }

  /** Stops taking and starting work; resolves when the reconciles that were running have returned. */
  stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.delayed.values()) this.o.clock.clearTimeout(t);
    this.delayed.clear();
    if (this.tokenTimer) this.o.clock.clearTimeout(this.tokenTimer);
    this.tokenTimer = undefined;
    this.queue.length = 0;
    this.queued.clear();
    this.dirtyWhileProcessing.clear();
    // Waiters of running keys took their list when the run started; the rest will never run.
    for (const list of this.waiting.values())
      for (const w of list) w.reject(new QueueStoppedError(this.o.name));
    this.waiting.clear();
    for (const w of this.idleWaiters.splice(0)) if (this.active === 0) w();
    if (this.active === 0) return Promise.resolve();
    return new Promise((r) => this.drainWaiters.push(r));
  }

  /** Takes a token from the bucket; when empty, arranges a pump for when the next one is due. */
  private takeToken(): boolean {
    const rl = this.o.rateLimit;
    if (!rl) return true;
    const now = this.o.clock.now();
    this.tokens = Math.min(rl.burst, this.tokens + ((now - this.tokensAt) / 1000) * rl.perSecond);
    this.tokensAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    if (!this.tokenTimer) {
      const waitMs = Math.ceil(((1 - this.tokens) / rl.perSecond) * 1000);
      this.tokenTimer = this.o.clock.setTimeout(() => {
        this.tokenTimer = undefined;
        this.pump();
      }, waitMs);
    }
    return false;
  }

  private pump(): void {
    const limit = this.o.concurrency ?? 1;
    while (!this.stopped && this.active < limit && this.queue.length > 0 && this.takeToken()) {
      const key = this.queue.shift() as string;
      this.queued.delete(key);
      this.processing.add(key);
      this.active++;
      const waiters = this.waiting.get(key) ?? [];
      this.waiting.delete(key);
      void this.run(key, waiters);
    }
    if (this.isIdle()) for (const w of this.idleWaiters.splice(0)) w();
  }

  private async run(key: string, waiters: Waiter[]): Promise<void> {
    const started = this.o.clock.now();
    let failure: Error | undefined;
    try {
      await this.reconcile(key);
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
    }
    this.processing.delete(key);
    this.active--;
    for (const w of waiters) {
      if (failure) w.reject(failure);
      else w.resolve();
    }
    if (this.stopped) {
      // Draining: no retry, no re-run; the last running reconcile releases stop().
      this.failures.delete(key);
      for (const list of this.waiting.values())
        for (const w of list) w.reject(new QueueStoppedError(this.o.name));
      this.waiting.clear();
      if (this.active === 0) {
        for (const w of this.drainWaiters.splice(0)) w();
        for (const w of this.idleWaiters.splice(0)) w();
      }
      return;
    }
    if (!failure) {
      this.failures.delete(key);
      this.o.onMetrics?.({
        name: this.o.name,
        depth: this.queue.length,
        event: 'done',
        durationMs: this.o.clock.now() - started,
      });
      if (this.dirtyWhileProcessing.delete(key)) this.add(key);
      this.pump();
      return;
    }
    const n = (this.failures.get(key) ?? 0) + 1;
    const max = this.o.maxRetries ?? 15;
    if (n > max) {
      this.failures.delete(key);
      this.o.logger.error(
        { queue: this.o.name, key, err: failure.message, attempts: n },
        'giving up on key after retries; the next change or resync brings it back',
      );
      this.o.onMetrics?.({ name: this.o.name, depth: this.queue.length, event: 'drop' });
      this.o.onDrop?.(key, failure);
      if (this.dirtyWhileProcessing.delete(key)) this.add(key);
    } else {
      this.failures.set(key, n);
      const delay = Math.min(this.o.maxDelayMs ?? 300_000, (this.o.baseDelayMs ?? 200) * 2 ** (n - 1));
      this.o.logger.warn(
        { queue: this.o.name, key, err: failure.message, retryInMs: delay, attempt: n },
        'reconcile failed; retrying',
      );
      this.o.onMetrics?.({ name: this.o.name, depth: this.queue.length, event: 'retry' });
      if (this.dirtyWhileProcessing.delete(key)) this.add(key);
      else this.delay(key, delay, true);
    }
    this.pump();
  }
}
