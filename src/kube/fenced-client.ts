// A KubeClient whose writes are fenced by a leadership term: once the term ends (or its lease is past
// the renew deadline, even before the elector has noticed), every create/replace/patch/delete is
// refused before it leaves the process, and calls still in flight reject at once, so the reconcile that
// made them returns and the work queue's drain completes. A candidate can take the lease only after
// the lease duration, which is longer than the renew deadline: by then this replica writes nothing.
import type {
  KubeClient,
  KubeObject,
  ListOptions,
  ListPage,
  PatchType,
  ResourceRef,
  WatchEvent,
  WatchHandle,
  WatchOptions,
} from './types.ts';

export interface WriteFence {
  /** Why writes are refused now; undefined while they are allowed. */
  refusal(): string | undefined;
  /** Aborted when the term ends: calls in flight reject at once. */
  readonly signal: AbortSignal;
}

/** A write refused because this replica no longer (certainly) holds the lease. */
export class FencedWriteError extends Error {
  constructor(what: string, why: string) {
    super(`${what} refused: ${why}`);
    this.name = 'FencedWriteError';
  }
}

export class FencedClient implements KubeClient {
  /** Calls issued to the inner client and not answered yet (an aborted call may still be on the wire). */
  private inFlight = 0;
  private quietWaiters: (() => void)[] = [];
  /** Rejecters of the calls in flight: one abort listener for all of them. */
  private readonly aborters = new Set<() => void>();

  constructor(
    private readonly inner: KubeClient,
    private readonly fence: WriteFence,
  ) {
    fence.signal.addEventListener(
      'abort',
      () => {
        for (const abort of [...this.aborters]) abort();
        this.aborters.clear();
      },
      { once: true },
    );
  }

  /** Resolves when every call issued to the API server has been answered (or failed). */
  quiet(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((r) => this.quietWaiters.push(r));
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight++;
    const done = () => {
      if (--this.inFlight === 0) for (const w of this.quietWaiters.splice(0)) w();
    };
    p.then(done, done);
    return p;
  }

  /** Settles with `p`, or rejects as soon as the term ends. */
  private guard<T>(what: string, call: Promise<T>): Promise<T> {
    const p = this.track(call);
    if (this.fence.signal.aborted) {
      p.catch(() => undefined);
      return Promise.reject(new FencedWriteError(what, this.fence.refusal() ?? 'leadership ended'));
    }
    return new Promise<T>((resolve, reject) => {
      const abort = () =>
        reject(new FencedWriteError(what, this.fence.refusal() ?? 'leadership ended while it was in flight'));
      this.aborters.add(abort);
      p.then(
        (v) => {
          this.aborters.delete(abort);
          resolve(v);
        },
        (err: unknown) => {
          this.aborters.delete(abort);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  private write<T>(what: string, call: () => Promise<T>): Promise<T> {
    const why = this.fence.refusal();
    if (why !== undefined) return Promise.reject(new FencedWriteError(what, why));
    return this.guard(what, call());
  }

  list(ref: ResourceRef, opts?: ListOptions): Promise<ListPage> {
    return this.guard(`list ${ref.resource}`, this.inner.list(ref, opts));
  }

  watch(
    ref: ResourceRef,
    opts: WatchOptions,
    onEvent: (e: WatchEvent) => void,
    onClose: (err?: Error) => void,
  ): WatchHandle {
    return this.inner.watch(ref, opts, onEvent, onClose);
  }

  get(ref: ResourceRef, name: string, namespace?: string): Promise<KubeObject | undefined> {
    return this.guard(`get ${ref.resource}/${name}`, this.inner.get(ref, name, namespace));
  }

  create(ref: ResourceRef, obj: KubeObject): Promise<KubeObject> {
    return this.write(`create ${ref.resource}/${obj.metadata.name}`, () => this.inner.create(ref, obj));
  }

  replace(ref: ResourceRef, obj: KubeObject, subresource?: 'status'): Promise<KubeObject> {
    return this.write(`replace ${ref.resource}/${obj.metadata.name}`, () =>
      this.inner.replace(ref, obj, subresource),
    );
  }

  patch(
    ref: ResourceRef,
    name: string,
    namespace: string | undefined,
    body: unknown,
    type: PatchType,
    subresource?: 'status',
  ): Promise<KubeObject> {
    return this.write(`patch ${ref.resource}/${name}`, () =>
      this.inner.patch(ref, name, namespace, body, type, subresource),
    );
  }

  delete(ref: ResourceRef, name: string, namespace?: string): Promise<void> {
    return this.write(`delete ${ref.resource}/${name}`, () => this.inner.delete(ref, name, namespace));
  }
}
