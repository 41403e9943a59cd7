// A resilient list+watch cache. What it guards against (client-go's reflector does the same):
// - 410 Gone / "too old resource version": re-list, then watch from the new list's resourceVersion;
// - a watch that dies without closing (the client library's watches are known to go silent): a watch
//   with no event or bookmark for `silenceTimeoutMs` is restarted;
// - errors: exponential back-off with jitter; 404 on list (a CRD not installed): retried slowly and
//   treated as an empty, synced resource so readiness does not hang on optional kinds.
// Re-lists diff against the cache, so a delete missed during a broken watch is still delivered.
import type pino from 'pino';
import { Backoff } from './backoff.ts';
import type { Clock, TimerHandle } from './clock.ts';
import {
  KubeApiError,
  objectKey,
  type KubeClient,
  type KubeObject,
  type ResourceRef,
  type WatchHandle,
} from './types.ts';

export interface InformerHandlers<T> {
  onAdd?(obj: T, key: string): void;
  onUpdate?(obj: T, old: T, key: string): void;
  onDelete?(obj: T, key: string): void;
}

export interface InformerStats {
  relists: number;
  watchRestarts: number;
  errors: number;
}

export interface InformerOptions<T> {
  client: KubeClient;
  ref: ResourceRef;
  clock: Clock;
  logger: pino.Logger;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** What the cache keeps of each object (default: the whole object). Keep it small for workloads. */
  transform?: (o: KubeObject) => T;
  pageSize?: number;
  /** Asked of the API server; the server then closes the watch normally. */
  watchTimeoutSeconds?: number;
  /** Restart a watch that delivered nothing for this long. */
  silenceTimeoutMs?: number;
  notFoundRetryMs?: number;
  backoff?: { initialMs: number; maxMs: number };
  /** Called on every re-list and watch restart (metrics). */
  onEvent?: (what: 'relist' | 'watch-restart' | 'error', reason: string) => void;
}

interface Entry<T> {
  rv: string;
  value: T;
}

export class Informer<T = KubeObject> {
  private readonly cache = new Map<string, Entry<T>>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly syncWaiters: (() => void)[] = [];
  private readonly settleWaiters: (() => void)[] = [];
  private readonly backoff: Backoff;
  private rv = '';
  private synced = false;
  private running = false;
  private watchHandle: WatchHandle | undefined;
  private silenceTimer: TimerHandle | undefined;
  private retryTimer: TimerHandle | undefined;
  private generation = 0;
  readonly stats: InformerStats = { relists: 0, watchRestarts: 0, errors: 0 };

  constructor(private readonly o: InformerOptions<T>) {
    this.backoff = new Backoff({ initialMs: o.backoff?.initialMs ?? 500, maxMs: o.backoff?.maxMs ?? 30_000 });
  }

  get resource(): string {
    return this.o.ref.resource;
  }

  resourceKind(): string {
    return this.o.ref.kind;
  }

  addHandlers(h: InformerHandlers<T>): void {
    this.handlers.push(h);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves after the first complete list. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((r) => this.syncWaiters.push(r));
  }

  /** Resolves after the first complete list or the first failure, whichever comes first. */
  settled(): Promise<void> {
    if (this.synced || this.stats.errors > 0) return Promise.resolve();
    return new Promise((r) => this.settleWaiters.push(r));
  }

  get(key: string): T | undefined {
    return this.cache.get(key)?.value;
  }

  list(): T[] {
    return [...this.cache.values()].map((e) => e.value);
  }

  keys(): string[] {
    return [...this.cache.keys()];
  }

  get size(): number {
    return this.cache.size;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.relist('start');
  }

  stop(): void {
    this.running = false;
    this.generation++;
    this.clearTimers();
    this.watchHandle?.stop();
    this.watchHandle = undefined;
  }

  private clearTimers(): void {
    if (this.silenceTimer) this.o.clock.clearTimeout(this.silenceTimer);
    if (this.retryTimer) this.o.clock.clearTimeout(this.retryTimer);
    this.silenceTimer = this.retryTimer = undefined;
  }

  private schedule(ms: number, fn: () => void): void {
    if (this.retryTimer) this.o.clock.clearTimeout(this.retryTimer);
    const gen = this.generation;
    this.retryTimer = this.o.clock.setTimeout(() => {
      this.retryTimer = undefined;
      if (this.running && gen === this.generation) fn();
    }, ms);
  }

  private markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    for (const w of this.syncWaiters.splice(0)) w();
    for (const w of this.settleWaiters.splice(0)) w();
  }

  private keep(o: KubeObject): T {
    return this.o.transform ? this.o.transform(o) : (o as unknown as T);
  }

  private async relist(reason: string): Promise<void> {
    const gen = ++this.generation;
    this.stats.relists++;
    this.o.onEvent?.('relist', reason);
    const fresh = new Map<string, { rv: string; obj: KubeObject }>();
    let listRv = '';
    try {
      let token: string | undefined;
      do {
        const page = await this.o.client.list(this.o.ref, {
          ...(this.o.namespace ? { namespace: this.o.namespace } : {}),
          ...(this.o.labelSelector ? { labelSelector: this.o.labelSelector } : {}),
          ...(this.o.fieldSelector ? { fieldSelector: this.o.fieldSelector } : {}),
          limit: this.o.pageSize ?? 500,
          ...(token ? { continue: token } : {}),
        });
        if (gen !== this.generation || !this.running) return;
        if (!listRv) listRv = page.resourceVersion;
        for (const obj of page.items)
          fresh.set(objectKey(obj), { rv: obj.metadata.resourceVersion ?? '', obj });
        token = page.continue;
      } while (token);
    } catch (err) {
      if (gen !== this.generation || !this.running) return;
      this.stats.errors++;
      for (const w of this.settleWaiters.splice(0)) w();
      this.o.onEvent?.('error', 'list');
      if (err instanceof KubeApiError && err.status === 404) {
        // The resource is not served (e.g. KServe is not installed): nothing to cache, look again later.
        this.applyList(new Map());
        this.markSynced();
        this.o.logger.debug({ resource: this.o.ref.resource }, 'resource not served; will look again');
        this.schedule(this.o.notFoundRetryMs ?? 60_000, () => void this.relist('not-found-retry'));
        return;
      }
      const delay = this.backoff.next();
      this.o.logger.warn(
        { resource: this.o.ref.resource, err: (err as Error).message, retryInMs: delay },
        'list failed',
      );
      this.schedule(delay, () => void this.relist('list-retry'));
      return;
    }
    this.applyList(fresh);
    this.rv = listRv;
    this.markSynced();
    this.startWatch();
  }

  private applyList(fresh: Map<string, { rv: string; obj: KubeObject }>): void {
    for (const [key, old] of [...this.cache]) {
      if (!fresh.has(key)) {
        this.cache.delete(key);
        for (const h of this.handlers) h.onDelete?.(old.value, key);
      }
    }
    for (const [key, f] of fresh) {
      const old = this.cache.get(key);
      if (old && old.rv === f.rv) continue;
      const value = this.keep(f.obj);
      this.cache.set(key, { rv: f.rv, value });
      for (const h of this.handlers) {
        if (old) h.onUpdate?.(value, old.value, key);
        else h.onAdd?.(value, key);
      }
    }
  }

  private armSilenceTimer(gen: number): void {
    if (this.silenceTimer) this.o.clock.clearTimeout(this.silenceTimer);
    const timeoutS = this.o.watchTimeoutSeconds ?? 300;
    this.silenceTimer = this.o.clock.setTimeout(
      () => {
        this.silenceTimer = undefined;
        if (gen !== this.generation || !this.running) return;
        this.o.logger.warn({ resource: this.o.ref.resource }, 'watch silent; restarting it');
        this.restartWatch('silent');
      },
      this.o.silenceTimeoutMs ?? timeoutS * 1000 + 30_000,
    );
  }

  private restartWatch(reason: string): void {
    this.stats.watchRestarts++;
    this.o.onEvent?.('watch-restart', reason);
    this.generation++;
    this.watchHandle?.stop();
    this.startWatch();
  }

  private startWatch(): void {
    const gen = this.generation;
    this.armSilenceTimer(gen);
    this.watchHandle = this.o.client.watch(
      this.o.ref,
      {
        resourceVersion: this.rv,
        ...(this.o.namespace ? { namespace: this.o.namespace } : {}),
        ...(this.o.labelSelector ? { labelSelector: this.o.labelSelector } : {}),
        ...(this.o.fieldSelector ? { fieldSelector: this.o.fieldSelector } : {}),
        timeoutSeconds: this.o.watchTimeoutSeconds ?? 300,
      },
      (e) => {
        if (gen !== this.generation || !this.running) return;
        this.armSilenceTimer(gen);
        this.backoff.reset();
        const rv = e.object.metadata.resourceVersion ?? '';
        if (rv) this.rv = rv;
        if (e.type === 'BOOKMARK') return;
        const key = objectKey(e.object);
        const old = this.cache.get(key);
        if (e.type === 'DELETED') {
          this.cache.delete(key);
          const value = old?.value ?? this.keep(e.object);
          for (const h of this.handlers) h.onDelete?.(value, key);
          return;
        }
        if (old && old.rv === rv) return;
        const value = this.keep(e.object);
        this.cache.set(key, { rv, value });
        for (const h of this.handlers) {
          if (old) h.onUpdate?.(value, old.value, key);
          else h.onAdd?.(value, key);
        }
      },
      (err) => {
        if (gen !== this.generation || !this.running) return;
        this.generation++;
        if (this.silenceTimer) this.o.clock.clearTimeout(this.silenceTimer);
        if (
          err instanceof KubeApiError &&
          (err.status === 410 || err.reason === 'Expired' || err.reason === 'Gone')
        ) {
          this.o.logger.info({ resource: this.o.ref.resource }, 'watch expired (410); re-listing');
          this.schedule(0, () => void this.relist('gone'));
          return;
        }
        if (!err) {
          // A normal end (server-side timeout): resume from the last resourceVersion at once.
          this.stats.watchRestarts++;
          this.o.onEvent?.('watch-restart', 'closed');
          this.schedule(0, () => this.startWatch());
          return;
        }
        this.stats.errors++;
        this.o.onEvent?.('error', 'watch');
        const delay = this.backoff.next();
        this.o.logger.warn(
          { resource: this.o.ref.resource, err: err.message, retryInMs: delay },
          'watch failed',
        );
        this.schedule(delay, () => {
          this.stats.watchRestarts++;
          this.o.onEvent?.('watch-restart', 'error');
          this.startWatch();
        });
      },
    );
  }
}
