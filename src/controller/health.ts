// /healthz, /readyz and /metrics on their own plain-HTTP port (kept off any serving port).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A failed listen, in one line that says what to do. */
export function listenError(err: NodeJS.ErrnoException, port: number, host = '0.0.0.0'): Error {
  if (err.code === 'EADDRINUSE')
    return new Error(
      `port ${port} on ${host} (health and metrics) is already in use by another process: stop it, or choose another port with --metrics-port`,
    );
  if (err.code === 'EACCES')
    return new Error(
      `not allowed to listen on port ${port} on ${host} (health and metrics): ports below 1024 need privileges; choose another with --metrics-port`,
    );
  if (err.code === 'EADDRNOTAVAIL')
    return new Error(
      `cannot listen on ${host}:${port} (health and metrics): ${host} is not an address of this machine; fix --bind-address`,
    );
  return new Error(`cannot listen on ${host}:${port} (health and metrics): ${err.message}`);
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export function startHealthServer(opts: {
  port: number;
  host?: string;
  registry: Registry;
  ready: () => boolean;
  healthy?: () => boolean;
}): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'Content-Type': type });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    if (path === '/healthz' || path === '/livez')
      return (opts.healthy?.() ?? true) ? send(200, 'ok\n') : send(500, 'unhealthy\n');
    if (path === '/readyz')
      return opts.ready() ? send(200, 'ok\n') : send(503, 'initial sync not finished\n');
    if (path === '/metrics') {
      opts.registry.metrics().then(
        (text) => send(200, text, opts.registry.contentType),
        (err: unknown) => send(500, `${(err as Error).message}\n`),
      );
      return;
    }
    send(404, 'not found\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, opts.port, opts.host)));
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
      server.closeAllConnections?.();
    });
  });
}
