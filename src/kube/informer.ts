// A resilient list+watch cache. What it guards against (client-go's reflector does the same):
// - 410 Gone / "too old resource version": re-list, then watch from the new list's resourceVersion;
// - a watch that dies without closing (the client library's watches are known to go silent): a watch
//   with no event or bookmark for `silenceTimeoutMs` is restarted;
// - errors: exponential back-off with jitter; 404 on list (a CRD not installed): retried slowly and
//   treated as an empty, synced resource so readiness does not hang on optional kinds.
// Re-lists diff against the cache, so a delete missed during a broken watch is still delivered.
//
// Memory stays proportional to what the cache keeps, not to the objects: each page of the initial list
// is transformed as it arrives (the full objects of a 100,000-item list are never held at once), and a
// cache of whole objects drops `managedFields` and the last-applied annotation (often most of an
// object's bytes; nothing modelgate reads). Named indexes (client-go's Indexer) answer "which keys in
// namespace X" without scanning the cache.
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

const EMPTY: ReadonlySet<string> = new Set();

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
  /**
   * What the cache keeps of each object (default: the object without managedFields and the
   * last-applied annotation). Keep it small for workloads.
   */
  transform?: (o: KubeObject) => T;
  /** Named indexes: each maps a cached value to its index key (e.g. its namespace), or undefined. */
  indexes?: Record<string, (value: T) => string | undefined>;
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

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** The object without what the API server keeps for field ownership and `kubectl apply`. */
export function withoutBookkeeping(o: KubeObject): KubeObject {
  const meta = o.metadata as KubeObject['metadata'] & { managedFields?: unknown };
  if (meta.managedFields === undefined && meta.annotations?.[LAST_APPLIED] === undefined) return o;
  const { managedFields: _dropped, ...metadata } = meta;
  if (metadata.annotations?.[LAST_APPLIED] !== undefined) {
    const { [LAST_APPLIED]: _applied, ...annotations } = metadata.annotations;
    metadata.annotations = annotations;
  }
  return { ...o, metadata };
}

export class Informer<T = KubeObject> {
  private readonly cache = new Map<string, Entry<T>>();
  /** index name → index key → cache keys. */
  private readonly indexed = new Map<string, Map<string, Set<string>>>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly syncWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
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

  /** Resolves after the first complete list; rejects if the informer is stopped before that. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => this.syncWaiters.push({ resolve, reject }));
  }

  /** Resolves after the first complete list or the first failure, whichever comes first. */
  settled(): Promise<void> {
    if (this.synced || this.stats.errors > 0) return Promise.resolve();
    return new Promise((r) => this.settleWaiters.push(r));
  }

  get(key: string): T | undefined {
    return this.cache.get(key)?.value;
  }

  /** The cache keys whose value `index` maps to `indexKey`. */
  byIndex(index: string, indexKey: string): ReadonlySet<string> {
    return this.indexed.get(index)?.get(indexKey) ?? EMPTY;
  }

  /** The index keys `index` currently has (e.g. the namespaces with at least one such object). */
  indexKeys(index: string): string[] {
    return [...(this.indexed.get(index)?.keys() ?? [])];
  }

  private index(key: string, value: T | undefined, old: T | undefined): void {
    for (const [name, fn] of Object.entries(this.o.indexes ?? {})) {
      const from = old === undefined ? undefined : fn(old);
      const to = value === undefined ? undefined : fn(value);
      if (from === to) continue;
      let idx = this.indexed.get(name);
      if (!idx) this.indexed.set(name, (idx = new Map()));
      if (from !== undefined) {
        const set = idx.get(from);
        set?.delete(key);
        if (set?.size === 0) idx.delete(from);
      }
      if (to !== undefined) {
        const set = idx.get(to) ?? new Set<string>();
        set.add(key);
        idx.set(to, set);
      }
    }
  }

  /** Puts a value in the cache (and its indexes); undefined removes it. */
  private put(key: string, entry: Entry<T> | undefined): void {
    const old = this.cache.get(key)?.value;
    if (entry) this.cache.set(key, entry);
    else this.cache.delete(key);
    if (this.o.indexes) this.index(key, entry?.value, old);
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
    for (const w of this.syncWaiters.splice(0))
      w.reject(new Error(`the ${this.o.ref.resource} informer stopped before its first list completed`));
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
    for (const w of this.syncWaiters.splice(0)) w.resolve();
    for (const w of this.settleWaiters.splice(0)) w();
  }

  private keep(o: KubeObject): T {
    return this.o.transform ? this.o.transform(o) : (withoutBookkeeping(o) as unknown as T);
  }

  private async relist(reason: string): Promise<void> {
    const gen = ++this.generation;
    this.stats.relists++;
    this.o.onEvent?.('relist', reason);
    // Transformed page by page: only what the cache keeps is held until the list completes.
    const fresh = new Map<string, Entry<T>>();
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
        for (const obj of page.items) {
          const key = objectKey(obj);
          const rv = obj.metadata.resourceVersion ?? '';
          const old = this.cache.get(key);
          // Unchanged since the cache had it: keep that value (no transform, no event).
          fresh.set(key, old && old.rv === rv ? old : { rv, value: this.keep(obj) });
        }
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

  private applyList(fresh: Map<string, Entry<T>>): void {
    for (const [key, old] of [...this.cache]) {
      if (!fresh.has(key)) {
        this.put(key, undefined);
        for (const h of this.handlers) h.onDelete?.(old.value, key);
      }
    }
    for (const [key, f] of fresh) {
      const old = this.cache.get(key);
      if (old === f) continue;
      this.put(key, f);
      for (const h of this.handlers) {
        if (old) h.onUpdate?.(f.value, old.value, key);
        else h.onAdd?.(f.value, key);
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
          this.put(key, undefined);
          const value = old?.value ?? this.keep(e.object);
          for (const h of this.handlers) h.onDelete?.(value, key);
          return;
        }
        if (old && old.rv === rv) return;
        const value = this.keep(e.object);
        this.put(key, { rv, value });
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
