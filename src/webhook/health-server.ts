// The plain-HTTP side port: /healthz (the process answers), /readyz (policies loaded and not shutting
// down; Gatekeeper-style readiness gating), /metrics (Prometheus text). Kept off the TLS port so probes
// and scrapes need no certificate and cannot queue behind admission traffic.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

export interface HealthServerOptions {
  registry: Registry;
  /** undefined when ready, else why not. */
  notReadyReason: () => string | undefined;
}

export function createHealthServer(opts: HealthServerOptions): Server {
  const send = (res: ServerResponse, code: number, body: string, type = 'text/plain; charset=utf-8') => {
    res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n');
    if (path === '/healthz' || path === '/livez') return send(res, 200, 'ok\n');
    if (path === '/readyz') {
      const reason = opts.notReadyReason();
      return reason === undefined ? send(res, 200, 'ok\n') : send(res, 503, `not ready: ${reason}\n`);
    }
    if (path === '/metrics') {
      opts.registry
        .metrics()
        .then((text) => send(res, 200, text, opts.registry.contentType))
        .catch((err: Error) => send(res, 500, `metrics unavailable: ${err.message}\n`));
      return;
    }
    send(res, 404, 'not found: try /healthz, /readyz or /metrics\n');
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  return server;
}
