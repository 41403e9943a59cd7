// The small slice of the Kubernetes REST API modelgate uses, as an interface: the HTTP client in
// client.ts implements it against a real API server, fake-client.test-support.ts in memory for unit tests.
import { isObj } from '../json/shape.ts';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
}

export interface KubeMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: KubeMeta;
  [field: string]: unknown;
}

/** Where a resource lives in the API (`/apis/{group}/{version}/[namespaces/{ns}/]{resource}`). */
export interface ResourceRef {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface ListPage {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion: string;
  /** Server-side timeout: the API server ends the watch after this long (a normal close). */
  timeoutSeconds?: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  object: KubeObject;
}

export interface WatchHandle {
  /** Ends the watch; `onClose` is still called once. */
  stop(): void;
}

export type PatchType = 'merge' | 'json' | 'strategic';

export interface KubeClient {
  list(ref: ResourceRef, opts?: ListOptions): Promise<ListPage>;
  /** `onClose` is called exactly once: with an error (a KubeApiError for HTTP statuses), or without on a clean end. */
  watch(
    ref: ResourceRef,
    opts: WatchOptions,
    onEvent: (e: WatchEvent) => void,
    onClose: (err?: Error) => void,
  ): WatchHandle;
  /** undefined when the object does not exist. */
  get(ref: ResourceRef, name: string, namespace?: string): Promise<KubeObject | undefined>;
  create(ref: ResourceRef, obj: KubeObject): Promise<KubeObject>;
  /** PUT; the object's resourceVersion makes it an optimistic update (409 Conflict when stale). */
  replace(ref: ResourceRef, obj: KubeObject, subresource?: 'status'): Promise<KubeObject>;
  patch(
    ref: ResourceRef,
    name: string,
    namespace: string | undefined,
    body: unknown,
    type: PatchType,
    subresource?: 'status',
  ): Promise<KubeObject>;
  delete(ref: ResourceRef, name: string, namespace?: string): Promise<void>;
}

/** An HTTP error from the API server, with the Status object's reason ("NotFound", "Conflict", "Expired", ...). */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export const isStatus = (err: unknown, status: number): boolean =>
  err instanceof KubeApiError && err.status === status;

export function apiVersionOf(ref: ResourceRef): string {
  return ref.group ? `${ref.group}/${ref.version}` : ref.version;
}

export function objectKey(o: { metadata: { name: string; namespace?: string } }): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}

/** Reading untrusted JSON: one definition, in src/json/shape.ts. */
export { isObj };

/** Narrows untrusted JSON to a KubeObject (metadata.name present). */
export function asKubeObject(v: unknown): KubeObject | undefined {
  if (!isObj(v) || !isObj(v.metadata) || typeof v.metadata.name !== 'string') return undefined;
  return v as KubeObject;
}
