// The audit benchmark's in-memory API server: the in-memory API (src/kube/fake-client.test-support.ts)
// holding the benchmark's cluster, served over HTTP on 127.0.0.1 in a process of its own, so the
// controller under test talks to it exactly as to a real API server (HttpKubeClient: paged lists,
// JSON decoding, streamed watches) and its peak RSS is its own, not the API's.
//
// Usage: tsx bench/audit-api.ts <workloads>   prints {"port": N} once listening; serves until killed.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeKubeClient } from '../src/kube/fake-client.test-support.ts';
import {
  CLUSTER_MODEL_POLICIES,
  CONFIG_MAPS,
  EVENTS,
  LEASES,
  MODEL_POLICIES,
  MUTATING_WEBHOOKS,
  NAMESPACES,
  PODS,
  POLICY_REPORTS,
  RUNTIME_CLASSES,
  SECRETS,
  VALIDATING_WEBHOOKS,
  WORKLOAD_RESOURCES,
} from '../src/kube/resources.ts';
import { KubeApiError, type KubeObject, type PatchType, type ResourceRef } from '../src/kube/types.ts';
import { benchObjects } from './audit-fixtures.ts';

const RESOURCES: ResourceRef[] = [
  CLUSTER_MODEL_POLICIES,
  MODEL_POLICIES,
  NAMESPACES,
  RUNTIME_CLASSES,
  CONFIG_MAPS,
  SECRETS,
  PODS,
  EVENTS,
  LEASES,
  VALIDATING_WEBHOOKS,
  MUTATING_WEBHOOKS,
  POLICY_REPORTS,
  ...WORKLOAD_RESOURCES,
];
const byPath = new Map(RESOURCES.map((r) => [`${r.group}/${r.version}/${r.resource}`, r]));

interface Target {
  ref: ResourceRef;
  namespace?: string;
  name?: string;
  subresource?: 'status';
}

/** /api/v1/... and /apis/<group>/<version>/... to the resource, namespace, name and subresource. */
function parsePath(pathname: string): Target | undefined {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api') [group, version, rest] = ['', parts[1] ?? '', parts.slice(2)];
  else if (parts[0] === 'apis') [group, version, rest] = [parts[1] ?? '', parts[2] ?? '', parts.slice(3)];
  else return undefined;
  const find = (resource: string | undefined) => byPath.get(`${group}/${version}/${resource}`);
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const ref = find(rest[2]);
    return (
      ref && {
        ref,
        namespace: rest[1] as string,
        ...(rest[3] ? { name: rest[3] } : {}),
        ...(rest[4] === 'status' ? { subresource: 'status' as const } : {}),
      }
    );
  }
  const ref = find(rest[0]);
  return (
    ref && {
      ref,
      ...(rest[1] ? { name: rest[1] } : {}),
      ...(rest[2] === 'status' ? { subresource: 'status' as const } : {}),
    }
  );
}

const PATCH_TYPES: Record<string, PatchType> = {
  'application/merge-patch+json': 'merge',
  'application/json-patch+json': 'json',
  'application/strategic-merge-patch+json': 'strategic',
};

function main(): void {
  const size = Number(process.argv[2] ?? '1000');
  const api = new FakeKubeClient();
  for (const { ref, obj } of benchObjects(size)) api.seed(ref, obj);
  // Writes are not kept for assertions here: the Events of a 100,000-workload audit would pile up.
  api.writes.push = () => 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  const send = (res: http.ServerResponse, code: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  };
  const status = (res: http.ServerResponse, err: unknown) => {
    const e = err instanceof KubeApiError ? err : new KubeApiError(500, 'InternalError', String(err));
    send(res, e.status, {
      kind: 'Status',
      apiVersion: 'v1',
      code: e.status,
      reason: e.reason,
      message: e.message,
    });
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const t = parsePath(url.pathname);
    if (!t) return status(res, new KubeApiError(404, 'NotFound', `no such path ${url.pathname}`));
    const q = url.searchParams;
    const selectors = {
      ...(t.namespace ? { namespace: t.namespace } : {}),
      ...(q.get('labelSelector') ? { labelSelector: q.get('labelSelector') as string } : {}),
      ...(q.get('fieldSelector') ? { fieldSelector: q.get('fieldSelector') as string } : {}),
    };
    try {
      if (req.method === 'GET' && !t.name && q.get('watch') === 'true') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        const handle = api.watch(
          t.ref,
          { ...selectors, resourceVersion: q.get('resourceVersion') ?? '' },
          (e) => res.write(JSON.stringify(e) + '\n'),
          (err) => {
            if (err instanceof KubeApiError)
              res.write(
                JSON.stringify({
                  type: 'ERROR',
                  object: { kind: 'Status', code: err.status, reason: err.reason, message: err.message },
                }) + '\n',
              );
            res.end();
          },
        );
        const timeout = Number(q.get('timeoutSeconds') ?? '0');
        const timer = timeout > 0 ? setTimeout(() => handle.stop(), timeout * 1000) : undefined;
        req.on('close', () => {
          if (timer) clearTimeout(timer);
          handle.stop();
        });
        return;
      }
      if (req.method === 'GET' && !t.name) {
        const limit = q.get('limit');
        const token = q.get('continue');
        const page = await api.list(t.ref, {
          ...selectors,
          ...(limit ? { limit: Number(limit) } : {}),
          ...(token ? { continue: token } : {}),
        });
        return send(res, 200, {
          kind: `${t.ref.kind}List`,
          apiVersion: t.ref.group ? `${t.ref.group}/${t.ref.version}` : t.ref.version,
          metadata: {
            resourceVersion: page.resourceVersion,
            ...(page.continue ? { continue: page.continue } : {}),
          },
          items: page.items,
        });
      }
      if (req.method === 'GET' && t.name) {
        const o = await api.get(t.ref, t.name, t.namespace);
        if (!o) throw new KubeApiError(404, 'NotFound', `${t.ref.resource} "${t.name}" not found`);
        return send(res, 200, o);
      }
      if (req.method === 'POST')
        return send(res, 201, await api.create(t.ref, JSON.parse(body) as KubeObject));
      if (req.method === 'PUT')
        return send(res, 200, await api.replace(t.ref, JSON.parse(body) as KubeObject, t.subresource));
      if (req.method === 'PATCH' && t.name) {
        const type = PATCH_TYPES[String(req.headers['content-type'])] ?? 'merge';
        return send(
          res,
          200,
          await api.patch(t.ref, t.name, t.namespace, JSON.parse(body), type, t.subresource),
        );
      }
      if (req.method === 'DELETE' && t.name) {
        await api.delete(t.ref, t.name, t.namespace);
        return send(res, 200, { kind: 'Status', status: 'Success' });
      }
      throw new KubeApiError(405, 'MethodNotAllowed', `${req.method} ${url.pathname}`);
    } catch (err) {
      status(res, err);
    }
  }

  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + '\n');
  });
}

main();
