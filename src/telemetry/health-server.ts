// The plain-HTTP side port of the webhook and the controller: /healthz and /livez (the process answers),
// /readyz (503 with the reason until ready: policies loaded, not shutting down; Gatekeeper-style
// readiness gating), /metrics (Prometheus text). Kept off any TLS port so probes and scrapes need no
// certificate and cannot queue behind admission traffic.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthServerOptions {
  registry: Registry;
  /** undefined when ready, else why not. */
  notReadyReason: () => string | undefined;
}

export interface HealthServer {
  port: number;
  /** Closes the port, ending open connections. */
  close(): Promise<void>;
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

/** A failed listen, in one line that says what to do (`flag` names the option that sets the port). */
export function listenError(err: NodeJS.ErrnoException, port: number, host: string, flag: string): Error {
  if (err.code === 'EADDRINUSE')
    return new Error(
      `port ${port} on ${host} (health and metrics) is already in use by another process: stop it, or choose another port with ${flag}`,
    );
  if (err.code === 'EACCES')
    return new Error(
      `not allowed to listen on port ${port} on ${host} (health and metrics): ports below 1024 need privileges; choose another with ${flag}`,
    );
  if (err.code === 'EADDRNOTAVAIL')
    return new Error(
      `cannot listen on ${host}:${port} (health and metrics): ${host} is not an address of this machine; fix --bind-address`,
    );
  return new Error(`cannot listen on ${host}:${port} (health and metrics): ${err.message}`);
}

/** Creates the server and listens; rejects with a one-line `listenError`. */
export function startHealthServer(
  opts: HealthServerOptions & { port: number; host?: string; portFlag?: string },
): Promise<HealthServer> {
  const server = createHealthServer(opts);
  const host = opts.host ?? '0.0.0.0';
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(listenError(err, opts.port, host, opts.portFlag ?? '--metrics-port')),
    );
    server.listen(opts.port, host, () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
