// HttpKubeClient against a small local HTTP server standing in for the API server's wire format.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpKubeClient, resourcePath } from './client.ts';
import { CONFIG_MAPS, NAMESPACES, POLICY_REPORTS } from './resources.ts';
import { KubeApiError, type WatchEvent } from './types.ts';

let server: http.Server;
let client: HttpKubeClient;
const seen: { method: string; url: string; contentType?: string; authorization?: string; body: string }[] =
  [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        body,
      });
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/api/v1/namespaces' && url.searchParams.get('watch') === 'true') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write(
          JSON.stringify({
            type: 'ADDED',
            object: { kind: 'Namespace', metadata: { name: 'a', resourceVersion: '11' } },
          }) + '\n',
        );
        res.write(
          JSON.stringify({
            type: 'BOOKMARK',
            object: { kind: 'Namespace', metadata: { name: '', resourceVersion: '12' } },
          }) + '\n',
        );
        // Split across writes, as TCP may deliver it.
        const line =
          JSON.stringify({
            type: 'ERROR',
            object: {
              kind: 'Status',
              code: 410,
              reason: 'Expired',
              message: 'too old resource version: 1 (12)',
            },
          }) + '\n';
        res.write(line.slice(0, 20));
        setTimeout(() => res.end(line.slice(20)), 20);
        return;
      }
      if (url.pathname === '/api/v1/namespaces') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        const page = url.searchParams.get('continue') ? 2 : 1;
        res.end(
          JSON.stringify({
            kind: 'NamespaceList',
            metadata: { resourceVersion: '10', ...(page === 1 ? { continue: 'tok' } : {}) },
            items: [{ metadata: { name: `ns${page}` } }],
          }),
        );
        return;
      }
      if (url.pathname.startsWith('/apis/wgpolicyk8s.io/')) {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('404 page not found');
        return;
      }
      if (url.pathname === '/api/v1/namespaces/x/configmaps/missing') {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({
            kind: 'Status',
            reason: 'NotFound',
            message: 'configmaps "missing" not found',
            code: 404,
          }),
        );
        return;
      }
      if (req.method === 'PATCH' || req.method === 'PUT' || req.method === 'POST') {
        res.writeHead(req.method === 'POST' ? 201 : 200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ metadata: { name: 'cm', namespace: 'x', resourceVersion: '2' } }));
        return;
      }
      res.writeHead(409, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'Status',
          reason: 'Conflict',
          message: 'the object has been modified',
          code: 409,
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'c',
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  client = new HttpKubeClient(kc);
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('HttpKubeClient', () => {
  it('builds API paths', () => {
    expect(resourcePath(NAMESPACES)).toBe('/api/v1/namespaces');
    expect(resourcePath(CONFIG_MAPS, 'x', 'cm', 'status')).toBe('/api/v1/namespaces/x/configmaps/cm/status');
    expect(resourcePath(POLICY_REPORTS, 'x')).toBe(
      '/apis/wgpolicyk8s.io/v1alpha2/namespaces/x/policyreports',
    );
  });

  it('lists with pagination and fills kind/apiVersion of items', async () => {
    const p1 = await client.list(NAMESPACES, { limit: 1 });
    expect(p1).toMatchObject({
      resourceVersion: '10',
      continue: 'tok',
      items: [{ kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'ns1' } }],
    });
    const p2 = await client.list(NAMESPACES, { limit: 1, continue: 'tok' });
    expect(p2.continue).toBeUndefined();
    expect(seen.at(-1)?.url).toBe('/api/v1/namespaces?limit=1&continue=tok');
  });

  it('streams watch events, and turns an in-stream 410 into a KubeApiError', async () => {
    const events: WatchEvent[] = [];
    const err = await new Promise<Error | undefined>((resolve) =>
      client.watch(NAMESPACES, { resourceVersion: '10', timeoutSeconds: 30 }, (e) => events.push(e), resolve),
    );
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'BOOKMARK']);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).status).toBe(410);
    expect(seen.at(-1)?.url).toContain(
      'watch=true&allowWatchBookmarks=true&resourceVersion=10&timeoutSeconds=30',
    );
  });

  it('maps statuses: get 404 is undefined, a list of an unserved resource throws 404, conflicts carry the reason', async () => {
    expect(await client.get(CONFIG_MAPS, 'missing', 'x')).toBeUndefined();
    await expect(client.list(POLICY_REPORTS, { namespace: 'x' })).rejects.toMatchObject({ status: 404 });
    await expect(client.delete(NAMESPACES, 'gone')).rejects.toMatchObject({
      status: 409,
      reason: 'Conflict',
    });
  });

  it('sends patches with their content type and the bearer token', async () => {
    await client.patch(CONFIG_MAPS, 'cm', 'x', { data: { a: 'b' } }, 'merge', 'status');
    const last = seen.at(-1);
    expect(last).toMatchObject({
      method: 'PATCH',
      url: '/api/v1/namespaces/x/configmaps/cm/status',
      contentType: 'application/merge-patch+json',
      authorization: 'Bearer secret-token',
    });
    expect(JSON.parse(last?.body ?? '')).toEqual({ data: { a: 'b' } });
  });
});
