// An in-memory KubeClient for unit tests and the file-backed audit benchmark: lists with pagination,
// watches, merge/JSON patches, the status subresource, generation bumps on spec changes, and hooks to
// inject failures (410 Gone, errors, silent watches).
import {
  KubeApiError,
  type KubeClient,
  type KubeObject,
  type ListOptions,
  type ListPage,
  type PatchType,
  type ResourceRef,
  type WatchEvent,
  type WatchHandle,
  type WatchOptions,
} from './types.ts';
import { apiVersionOf, isObj } from './types.ts';

interface Watcher {
  resource: string;
  opts: WatchOptions;
  onEvent: (e: WatchEvent) => void;
  onClose: (err?: Error) => void;
  closed: boolean;
  silent: boolean;
}

export type FakeOp = 'list' | 'watch' | 'get' | 'create' | 'replace' | 'patch' | 'delete';

const clone = <T>(v: T): T => structuredClone(v);

function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  const out: Record<string, unknown> = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function jsonPatch(target: unknown, ops: unknown): unknown {
  const doc = clone(target) as Record<string, unknown>;
  if (!Array.isArray(ops)) throw new KubeApiError(400, 'BadRequest', 'json patch must be a list');
  for (const op of ops) {
    if (!isObj(op) || typeof op.path !== 'string') throw new KubeApiError(400, 'BadRequest', 'bad op');
    const parts = op.path
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop() as string;
    let cur: unknown = doc;
    for (const p of parts) cur = Array.isArray(cur) ? cur[Number(p)] : isObj(cur) ? cur[p] : undefined;
    if (op.op === 'test') {
      const v = Array.isArray(cur) ? cur[Number(last)] : isObj(cur) ? cur[last] : undefined;
      if (JSON.stringify(v) !== JSON.stringify(op.value))
        throw new KubeApiError(422, 'Invalid', `test failed at ${op.path}`);
      continue;
    }
    if (Array.isArray(cur)) {
      const i = last === '-' ? cur.length : Number(last);
      if (op.op === 'remove') cur.splice(i, 1);
      else if (op.op === 'add') cur.splice(i, 0, op.value);
      else cur[i] = op.value;
    } else if (isObj(cur)) {
      if (op.op === 'remove') delete cur[last];
      else cur[last] = op.value;
    } else throw new KubeApiError(422, 'Invalid', `path ${op.path} not found`);
  }
  return doc;
}

function matchesLabels(o: KubeObject, selector?: string): boolean {
  if (!selector) return true;
  const labels = o.metadata.labels ?? {};
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=') as [string, string | undefined];
    return v === undefined ? k in labels : labels[k] === v;
  });
}

function matchesFields(o: KubeObject, selector?: string): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    if (k === 'metadata.name') return o.metadata.name === v;
    if (k === 'metadata.namespace') return o.metadata.namespace === v;
    return true;
  });
}

export class FakeKubeClient implements KubeClient {
  private readonly store = new Map<string, Map<string, KubeObject>>();
  private readonly watchers = new Set<Watcher>();
  private rv = 1;
  private uid = 1;
  private readonly failures: { op: FakeOp; resource?: string; err: Error }[] = [];
  /** Every write, for assertions. */
  readonly writes: {
    op: FakeOp;
    resource: string;
    name: string;
    namespace?: string;
    subresource?: string;
    body?: unknown;
  }[] = [];
  /**
   * Resources the fake answers 404 for (a CRD that is not installed). openreports.io Reports start
   * uninstalled, as on most clusters (the report writer prefers them when they are): tests that want
   * them delete 'reports' from this set.
   */
  readonly notServed = new Set<string>(['reports']);
  /** Resources with a status subresource: plain writes keep status, status writes keep the rest. */
  readonly statusSubresource = new Set<string>([
    'clustermodelpolicies',
    'modelpolicies',
    'pods',
    'deployments',
  ]);

  /** Objects of a resource in list order, rebuilt after a write (pages are then slices, as in etcd). */
  private readonly sorted = new Map<string, KubeObject[]>();

  private ordered(resource: string): KubeObject[] {
    let list = this.sorted.get(resource);
    if (!list) {
      const key = (o: KubeObject) => this.key(o.metadata.namespace, o.metadata.name);
      list = [...this.bucket(resource).values()].sort((a, b) =>
        key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0,
      );
      this.sorted.set(resource, list);
    }
    return list;
  }

  private namespaceRun(resource: string, namespace: string): KubeObject[] {
    const list = this.ordered(resource);
    const keyOf = (x: KubeObject) => this.key(x.metadata.namespace, x.metadata.name);
    const lowerBound = (k: string) => {
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (keyOf(list[mid] as KubeObject) < k) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    // "<ns>/" up to "<ns>0" ('0' follows '/'): exactly the keys of that namespace.
    return list.slice(lowerBound(`${namespace}/`), lowerBound(`${namespace}0`));
  }

  /** The mutable bucket of a resource: callers write to it, so the list order is rebuilt. */
  private bucket(resource: string): Map<string, KubeObject> {
    this.sorted.delete(resource);
    return this.read(resource);
  }

  private read(resource: string): Map<string, KubeObject> {
    let b = this.store.get(resource);
    if (!b) this.store.set(resource, (b = new Map()));
    return b;
  }

  private key(ns: string | undefined, name: string): string {
    return `${ns ?? ''}/${name}`;
  }

  /** Makes the next `op` (optionally on one resource) fail with `err`. */
  failNext(op: FakeOp, err: Error, resource?: string): void {
    this.failures.push({ op, err, ...(resource ? { resource } : {}) });
  }

  private maybeFail(op: FakeOp, resource: string): void {
    const i = this.failures.findIndex((f) => f.op === op && (!f.resource || f.resource === resource));
    if (i >= 0) {
      const [f] = this.failures.splice(i, 1);
      throw f?.err;
    }
    if (this.notServed.has(resource))
      throw new KubeApiError(
        404,
        'NotFound',
        `the server could not find the requested resource (${resource})`,
      );
  }

  /** Like the API server: an object that leaves a watch's selection is delivered as DELETED. */
  private notify(resource: string, type: WatchEvent['type'], obj: KubeObject, old?: KubeObject): void {
    for (const w of this.watchers) {
      if (w.closed || w.silent || w.resource !== resource) continue;
      if (w.opts.namespace && obj.metadata.namespace !== w.opts.namespace) continue;
      const selected = (o: KubeObject) =>
        matchesLabels(o, w.opts.labelSelector) && matchesFields(o, w.opts.fieldSelector);
      if (selected(obj))
        w.onEvent({
          type: type === 'MODIFIED' && old && !selected(old) ? 'ADDED' : type,
          object: clone(obj),
        });
      else if (type === 'MODIFIED' && old && selected(old))
        w.onEvent({ type: 'DELETED', object: clone(obj) });
    }
  }

  /** Puts an object in place directly (test setup), notifying watchers. */
  seed(ref: ResourceRef, obj: KubeObject): KubeObject {
    const b = this.bucket(ref.resource);
    const k = this.key(obj.metadata.namespace, obj.metadata.name);
    const existing = b.get(k);
    const stored: KubeObject = clone({
      apiVersion: apiVersionOf(ref),
      kind: ref.kind,
      ...obj,
      metadata: {
        uid: existing?.metadata.uid ?? `uid-${this.uid++}`,
        generation: 1,
        ...obj.metadata,
        resourceVersion: String(++this.rv),
      },
    });
    b.set(k, stored);
    this.notify(ref.resource, existing ? 'MODIFIED' : 'ADDED', stored, existing);
    return clone(stored);
  }

  /** Every object of a resource (assertions). */
  all(ref: ResourceRef): KubeObject[] {
    return [...this.read(ref.resource).values()].map(clone);
  }

  peek(ref: ResourceRef, name: string, namespace?: string): KubeObject | undefined {
    const o = this.read(ref.resource).get(this.key(namespace, name));
    return o ? clone(o) : undefined;
  }

  /** Ends every open watch with 410 Gone. */
  expireWatches(): void {
    for (const w of [...this.watchers])
      this.closeWatcher(w, new KubeApiError(410, 'Expired', 'too old resource version'));
  }

  /** Ends every open watch normally. */
  closeWatches(): void {
    for (const w of [...this.watchers]) this.closeWatcher(w);
  }

  /** Open watches stop receiving events without closing (the failure mode the informer must detect). */
  silenceWatches(): void {
    for (const w of this.watchers) w.silent = true;
  }

  get openWatches(): number {
    return [...this.watchers].filter((w) => !w.closed).length;
  }

  private closeWatcher(w: Watcher, err?: Error): void {
    if (w.closed) return;
    w.closed = true;
    this.watchers.delete(w);
    w.onClose(err);
  }

  async list(ref: ResourceRef, o: ListOptions = {}): Promise<ListPage> {
    this.maybeFail('list', ref.resource);
    // A namespace's objects are one contiguous run of the key order ("<ns>/<name>"): find it by bisection.
    const ordered = o.namespace ? this.namespaceRun(ref.resource, o.namespace) : this.ordered(ref.resource);
    const all =
      o.labelSelector || o.fieldSelector
        ? ordered.filter((x) => matchesLabels(x, o.labelSelector) && matchesFields(x, o.fieldSelector))
        : ordered;
    const start = o.continue ? Number(o.continue) : 0;
    const end = o.limit ? start + o.limit : all.length;
    return {
      items: all.slice(start, end).map(clone),
      resourceVersion: String(this.rv),
      ...(end < all.length ? { continue: String(end) } : {}),
    };
  }

  watch(
    ref: ResourceRef,
    opts: WatchOptions,
    onEvent: (e: WatchEvent) => void,
    onClose: (err?: Error) => void,
  ): WatchHandle {
    const w: Watcher = { resource: ref.resource, opts, onEvent, onClose, closed: false, silent: false };
    try {
      this.maybeFail('watch', ref.resource);
    } catch (err) {
      queueMicrotask(() => onClose(err as Error));
      return { stop: () => undefined };
    }
    this.watchers.add(w);
    return { stop: () => this.closeWatcher(w) };
  }

  async get(ref: ResourceRef, name: string, namespace?: string): Promise<KubeObject | undefined> {
    this.maybeFail('get', ref.resource);
    return this.peek(ref, name, ref.namespaced ? namespace : undefined);
  }

  async create(ref: ResourceRef, obj: KubeObject): Promise<KubeObject> {
    this.maybeFail('create', ref.resource);
    const ns = ref.namespaced ? obj.metadata.namespace : undefined;
    if (this.read(ref.resource).has(this.key(ns, obj.metadata.name)))
      throw new KubeApiError(409, 'AlreadyExists', `${ref.resource} "${obj.metadata.name}" already exists`);
    this.writes.push({
      op: 'create',
      resource: ref.resource,
      name: obj.metadata.name,
      ...(ns ? { namespace: ns } : {}),
      body: clone(obj),
    });
    return this.seed(ref, obj);
  }

  private write(
    ref: ResourceRef,
    existing: KubeObject,
    next: KubeObject,
    subresource?: 'status',
  ): KubeObject {
    const hasStatus = this.statusSubresource.has(ref.resource);
    let merged: KubeObject = next;
    if (hasStatus && subresource === 'status') merged = { ...existing, status: next.status };
    else if (hasStatus)
      merged = { ...next, ...(existing.status !== undefined ? { status: existing.status } : {}) };
    if (!('status' in merged) || merged.status === undefined) delete merged.status;
    const specChanged = JSON.stringify(existing.spec) !== JSON.stringify(merged.spec);
    merged.metadata = {
      ...merged.metadata,
      name: existing.metadata.name,
      ...(existing.metadata.namespace ? { namespace: existing.metadata.namespace } : {}),
      ...(existing.metadata.uid ? { uid: existing.metadata.uid } : {}),
      generation: (existing.metadata.generation ?? 1) + (specChanged && subresource !== 'status' ? 1 : 0),
      resourceVersion: String(++this.rv),
    };
    this.bucket(ref.resource).set(
      this.key(existing.metadata.namespace, existing.metadata.name),
      clone(merged),
    );
    this.notify(ref.resource, 'MODIFIED', merged, existing);
    return clone(merged);
  }

  async replace(ref: ResourceRef, obj: KubeObject, subresource?: 'status'): Promise<KubeObject> {
    this.maybeFail('replace', ref.resource);
    const ns = ref.namespaced ? obj.metadata.namespace : undefined;
    const existing = this.read(ref.resource).get(this.key(ns, obj.metadata.name));
    if (!existing)
      throw new KubeApiError(404, 'NotFound', `${ref.resource} "${obj.metadata.name}" not found`);
    if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== existing.metadata.resourceVersion)
      throw new KubeApiError(
        409,
        'Conflict',
        'the object has been modified; please apply your changes to the latest version and try again',
      );
    this.writes.push({
      op: 'replace',
      resource: ref.resource,
      name: obj.metadata.name,
      ...(ns ? { namespace: ns } : {}),
      ...(subresource ? { subresource } : {}),
      body: clone(obj),
    });
    return this.write(ref, existing, clone(obj), subresource);
  }

  async patch(
    ref: ResourceRef,
    name: string,
    namespace: string | undefined,
    body: unknown,
    type: PatchType,
    subresource?: 'status',
  ): Promise<KubeObject> {
    this.maybeFail('patch', ref.resource);
    const ns = ref.namespaced ? namespace : undefined;
    const existing = this.read(ref.resource).get(this.key(ns, name));
    if (!existing) throw new KubeApiError(404, 'NotFound', `${ref.resource} "${name}" not found`);
    this.writes.push({
      op: 'patch',
      resource: ref.resource,
      name,
      ...(ns ? { namespace: ns } : {}),
      ...(subresource ? { subresource } : {}),
      body: clone(body),
    });
    const next = (type === 'json' ? jsonPatch(existing, body) : mergePatch(existing, body)) as KubeObject;
    return this.write(ref, existing, next, subresource);
  }

  async delete(ref: ResourceRef, name: string, namespace?: string): Promise<void> {
    this.maybeFail('delete', ref.resource);
    const b = this.bucket(ref.resource);
    const k = this.key(ref.namespaced ? namespace : undefined, name);
    const existing = b.get(k);
    if (!existing) return;
    b.delete(k);
    this.writes.push({ op: 'delete', resource: ref.resource, name, ...(namespace ? { namespace } : {}) });
    this.notify(ref.resource, 'DELETED', {
      ...existing,
      metadata: { ...existing.metadata, resourceVersion: String(++this.rv) },
    });
  }
}
