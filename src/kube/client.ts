// KubeClient over node:https with the credentials of a kubeconfig (src/kube/kubeconfig.ts, or a
// @kubernetes/client-node KubeConfig: both are a `KubeAccess`). Plain REST
// rather than the generated clients: one code path for core kinds, CRDs and PolicyReports, and a watch
// whose stream we own (the library's watch is known to die silently; informer.ts restarts ours).
import http from 'node:http';
import https from 'node:https';
import { createInterface } from 'node:readline';
import type { KubeAccess } from './kubeconfig.ts';
import {
  apiVersionOf,
  asKubeObject,
  isObj,
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

const CONTENT_TYPE: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

export function resourcePath(
  ref: ResourceRef,
  namespace?: string,
  name?: string,
  subresource?: string,
): string {
  const base = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  const ns = ref.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const n = name !== undefined ? `/${encodeURIComponent(name)}` : '';
  return `${base}${ns}/${ref.resource}${n}${subresource ? `/${subresource}` : ''}`;
}

function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

function apiError(status: number, body: string): KubeApiError {
  let reason = http.STATUS_CODES[status] ?? 'Unknown';
  let message = body.slice(0, 500);
  try {
    const parsed: unknown = JSON.parse(body);
    if (isObj(parsed)) {
      if (typeof parsed.reason === 'string') reason = parsed.reason;
      if (typeof parsed.message === 'string') message = parsed.message;
    }
  } catch {
    // not a Status object; keep the raw text
  }
  return new KubeApiError(status, reason, `${status} ${reason}: ${message}`);
}

export interface HttpKubeClientOptions {
  /** Per-request timeout for non-watch calls. */
  requestTimeoutMs?: number;
}

export class HttpKubeClient implements KubeClient {
  private readonly server: URL;
  private agent: http.Agent | undefined;
  private readonly timeoutMs: number;

  constructor(
    private readonly kc: KubeAccess,
    options: HttpKubeClientOptions = {},
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.server = new URL(cluster.server);
    this.timeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  /** Request options with fresh credentials (tokens rotate) and one keep-alive agent. */
  private async options(
    method: string,
    path: string,
    headers: Record<string, string>,
  ): Promise<https.RequestOptions> {
    const opts: https.RequestOptions = { method, headers: { Accept: 'application/json', ...headers } };
    await this.kc.applyToHTTPSOptions(opts);
    if (!this.agent) {
      const tls = {
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
      };
      this.agent =
        this.server.protocol === 'https:'
          ? new https.Agent({
              keepAlive: true,
              maxSockets: 32,
              ...tls,
              ...(opts.servername ? { servername: opts.servername } : {}),
            })
          : new http.Agent({ keepAlive: true, maxSockets: 32 });
    }
    const prefix = this.server.pathname.replace(/\/$/, '');
    return {
      ...opts,
      agent: this.agent,
      protocol: this.server.protocol,
      hostname: this.server.hostname,
      port: this.server.port,
      path: prefix + path,
    };
  }

  private async request(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<unknown> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const opts = await this.options(
      method,
      path,
      payload ? { 'Content-Type': contentType, 'Content-Length': String(payload.length) } : {},
    );
    const mod = this.server.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) return reject(apiError(status, text));
          try {
            resolve(text ? JSON.parse(text) : undefined);
          } catch (err) {
            reject(new Error(`invalid JSON from ${method} ${path}: ${(err as Error).message}`));
          }
        });
      });
      req.setTimeout(this.timeoutMs, () =>
        req.destroy(new Error(`${method} ${path} timed out after ${this.timeoutMs} ms`)),
      );
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });
  }

  private object(v: unknown, what: string): KubeObject {
    const o = asKubeObject(v);
    if (!o) throw new Error(`${what}: the API server returned something that is not an object`);
    return o;
  }

  async list(ref: ResourceRef, o: ListOptions = {}): Promise<ListPage> {
    const path =
      resourcePath(ref, o.namespace) +
      query({
        labelSelector: o.labelSelector,
        fieldSelector: o.fieldSelector,
        limit: o.limit,
        continue: o.continue,
      });
    const res = await this.request('GET', path);
    if (!isObj(res) || !Array.isArray(res.items)) throw new Error(`list ${ref.resource}: not a list`);
    const meta = isObj(res.metadata) ? res.metadata : {};
    const items: KubeObject[] = [];
    // Items of a list carry no kind/apiVersion; fill them in so every consumer sees whole objects.
    for (const it of res.items) {
      const obj = asKubeObject(it);
      if (obj)
        items.push({ ...obj, apiVersion: obj.apiVersion ?? apiVersionOf(ref), kind: obj.kind ?? ref.kind });
    }
    return {
      items,
      resourceVersion: typeof meta.resourceVersion === 'string' ? meta.resourceVersion : '',
      ...(typeof meta.continue === 'string' && meta.continue ? { continue: meta.continue } : {}),
    };
  }

  watch(
    ref: ResourceRef,
    o: WatchOptions,
    onEvent: (e: WatchEvent) => void,
    onClose: (err?: Error) => void,
  ): WatchHandle {
    let closed = false;
    let req: http.ClientRequest | undefined;
    const close = (err?: Error) => {
      if (closed) return;
      closed = true;
      req?.destroy();
      onClose(err);
    };
    const path =
      resourcePath(ref, o.namespace) +
      query({
        watch: 'true',
        allowWatchBookmarks: 'true',
        resourceVersion: o.resourceVersion,
        labelSelector: o.labelSelector,
        fieldSelector: o.fieldSelector,
        timeoutSeconds: o.timeoutSeconds,
      });
    this.options('GET', path, {}).then(
      (opts) => {
        if (closed) return;
        const mod = this.server.protocol === 'https:' ? https : http;
        req = mod.request(opts, (res) => {
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => close(apiError(status, Buffer.concat(chunks).toString('utf8'))));
            res.on('error', (e) => close(e));
            return;
          }
          const lines = createInterface({ input: res });
          lines.on('error', (e) => close(e));
          lines.on('line', (line) => {
            if (closed || !line.trim()) return;
            let parsed: unknown;
            try {
              parsed = JSON.parse(line);
            } catch {
              return close(new Error(`watch ${ref.resource}: undecodable event`));
            }
            if (!isObj(parsed) || typeof parsed.type !== 'string') return;
            if (parsed.type === 'ERROR') {
              // A Status object in the stream, typically 410 Gone ("too old resource version").
              const s = isObj(parsed.object) ? parsed.object : {};
              const code = typeof s.code === 'number' ? s.code : 500;
              return close(
                new KubeApiError(
                  code,
                  typeof s.reason === 'string' ? s.reason : 'Unknown',
                  typeof s.message === 'string' ? s.message : 'watch error',
                ),
              );
            }
            const obj = asKubeObject(parsed.object);
            if (obj) onEvent({ type: parsed.type as WatchEvent['type'], object: obj });
          });
          res.on('error', (e) => close(e));
          res.on('end', () => close());
          res.on('close', () => close());
        });
        req.on('error', (e) => close(e));
        req.end();
      },
      (err: unknown) => close(err instanceof Error ? err : new Error(String(err))),
    );
    return { stop: () => close() };
  }

  async get(ref: ResourceRef, name: string, namespace?: string): Promise<KubeObject | undefined> {
    try {
      return this.object(
        await this.request('GET', resourcePath(ref, namespace, name)),
        `get ${ref.resource}/${name}`,
      );
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  async create(ref: ResourceRef, obj: KubeObject): Promise<KubeObject> {
    return this.object(
      await this.request('POST', resourcePath(ref, obj.metadata.namespace), obj),
      `create ${ref.resource}`,
    );
  }

  async replace(ref: ResourceRef, obj: KubeObject, subresource?: 'status'): Promise<KubeObject> {
    const path = resourcePath(ref, obj.metadata.namespace, obj.metadata.name, subresource);
    return this.object(await this.request('PUT', path, obj), `replace ${ref.resource}/${obj.metadata.name}`);
  }

  async patch(
    ref: ResourceRef,
    name: string,
    namespace: string | undefined,
    body: unknown,
    type: PatchType,
    subresource?: 'status',
  ): Promise<KubeObject> {
    const path = resourcePath(ref, namespace, name, subresource);
    return this.object(
      await this.request('PATCH', path, body, CONTENT_TYPE[type]),
      `patch ${ref.resource}/${name}`,
    );
  }

  async delete(ref: ResourceRef, name: string, namespace?: string): Promise<void> {
    try {
      await this.request('DELETE', resourcePath(ref, namespace, name));
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) throw err;
    }
  }
}
