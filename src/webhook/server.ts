// The admission webhook's HTTPS server: fastify, POST /validate and POST /mutate, hardened against bad
// input (body limit, content type, timeouts, unknown paths) and answering from memory only. What an
// answer says is decided by the Admission passed in (admission.ts); this file is transport.
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { logAudit } from '../telemetry/audit.ts';
import type { AdmissionMetrics, Endpoint } from '../telemetry/metrics.ts';
import { isSupportedKind } from '../workloads/kinds.ts';
import type { Admission, AdmissionOutcome } from './admission.ts';
import { CertificateReloader } from './certificate-reloader.ts';
import { startHealthServer } from '../telemetry/health-server.ts';
import { parseAdmissionReview, reviewResponse, type AdmissionRequest } from './review.ts';

/** An UPDATE review carries object and oldObject, each up to the API server's 3 MiB request limit as JSON. */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

export interface WebhookServerOptions {
  admission: Admission;
  tls: { certFile: string; keyFile: string; pollIntervalMs?: number };
  logger: Logger;
  metrics: AdmissionMetrics;
  /** undefined when ready (policies loaded), else why not. */
  notReadyReason: () => string | undefined;
  host?: string;
  /** 0 picks a free port (tests). */
  port: number;
  metricsHost?: string;
  metricsPort: number;
  maxBodyBytes?: number;
  /** Whole-request deadline, including slow clients sending headers or body. */
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
}

export interface WebhookServer {
  readonly port: number;
  readonly metricsPort: number;
  /** Re-reads the certificate files now (also happens on change and on a poll). */
  reloadCertificate(): Promise<boolean>;
  /** /readyz starts failing (SIGTERM): load balancers stop sending new work while requests still succeed. */
  beginShutdown(): void;
  /** Graceful: stop accepting, finish in-flight requests, close; force-close what is left after `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

const kindLabel = (req: AdmissionRequest) =>
  isSupportedKind(req.kind.group, req.kind.kind) ? req.kind.kind : 'other';

export async function startWebhookServer(opts: WebhookServerOptions): Promise<WebhookServer> {
  const { logger, metrics } = opts;
  const requestTimeout = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  let https: HttpsServer | undefined;
  const reloader = new CertificateReloader({
    certFile: opts.tls.certFile,
    keyFile: opts.tls.keyFile,
    logger,
    ...(opts.tls.pollIntervalMs ? { pollIntervalMs: opts.tls.pollIntervalMs } : {}),
    // New handshakes use the new pair; established connections keep theirs, so none is dropped.
    onReload: (pair) => https?.setSecureContext({ ...pair, minVersion: 'TLSv1.2' }),
  });

  let closing = false;
  const app: FastifyInstance = Fastify({
    serverFactory: (handler) => {
      https = createHttpsServer(
        {
          ...reloader.initial,
          minVersion: 'TLSv1.2',
          handshakeTimeout: requestTimeout,
          requestTimeout,
          headersTimeout: requestTimeout,
          keepAliveTimeout: opts.keepAliveTimeoutMs ?? 60_000,
          // How often node checks requestTimeout/headersTimeout (default 30 s, too coarse for slow clients).
          connectionsCheckingInterval: Math.min(1000, requestTimeout),
        },
        handler,
      );
      https.on('tlsClientError', (err) => logger.debug({ err: err.message }, 'TLS handshake failed'));
      https.on('clientError', (err, socket) => {
        logger.debug({ err: err.message }, 'client error');
        const timedOut = (err as { code?: string }).code === 'ERR_HTTP_REQUEST_TIMEOUT';
        if (socket.writable)
          socket.end(
            `HTTP/1.1 ${timedOut ? '408 Request Timeout' : '400 Bad Request'}\r\nConnection: close\r\n\r\n`,
          );
        else socket.destroy();
      });
      return https;
    },
    bodyLimit: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    logger: false,
    // A 503 would fail the admission (failurePolicy: Fail): requests that still arrive on a kept-alive
    // connection while closing are answered, with `Connection: close`.
    return503OnClosing: false,
    // Unknown content types are answered 415; only JSON is an AdmissionReview.
  });
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) logger.error({ err: err.message, code: err.code }, 'admission request failed');
    void reply.code(status).send({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      code: status,
      reason: err.code ?? 'InternalError',
      message: err.message,
    });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      code: 404,
      reason: 'NotFound',
      message: `no route ${req.method} ${req.url.slice(0, 200)}; use POST /validate or POST /mutate`,
    });
  });

  const handle = (endpoint: Endpoint, decideOn: (req: AdmissionRequest) => AdmissionOutcome) => {
    // Label sets bound once: no label hashing per request for the per-endpoint series.
    const inFlight = metrics.inFlight.labels({ endpoint });
    const latency = metrics.latency.labels({ endpoint });
    return (request: FastifyRequest, reply: FastifyReply) => {
      const started = performance.now();
      inFlight.inc();
      try {
        const parsed = parseAdmissionReview(request.body);
        if (!parsed.ok) {
          metrics.requests.inc({ endpoint, kind: 'unknown', decision: 'invalid' });
          logger.warn({ endpoint, uid: parsed.uid, reason: parsed.message }, 'malformed AdmissionReview');
          if (parsed.uid === undefined)
            return reply.code(400).send({
              kind: 'Status',
              apiVersion: 'v1',
              status: 'Failure',
              code: 400,
              reason: 'BadRequest',
              message: parsed.message,
            });
          // Well-formed enough to answer: refuse with the reason (fail closed), and audit the refusal.
          logAudit(logger, {
            uid: parsed.uid,
            endpoint,
            dryRun: false,
            policies: [],
            verdict: 'denied',
            reasons: [parsed.message],
            warnings: 0,
            latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
          });
          return reply.send(
            reviewResponse({
              uid: parsed.uid,
              allowed: false,
              status: { code: 400, reason: 'BadRequest', message: `modelgate: ${parsed.message}` },
            }),
          );
        }
        const req = parsed.request;
        const outcome = decideOn(req);
        const latencyMs = performance.now() - started;
        metrics.requests.inc({ endpoint, kind: kindLabel(req), decision: outcome.verdict });
        for (const r of outcome.policyResults)
          metrics.policyResults.inc({ policy: r.policy, result: r.violated ? 'violation' : 'pass' });
        logAudit(logger, {
          uid: req.uid,
          endpoint,
          ...(req.user ? { user: req.user } : {}),
          operation: req.operation,
          kind: `${req.kind.group ? `${req.kind.group}/` : ''}${req.kind.version}/${req.kind.kind}`,
          ...(req.namespace ? { namespace: req.namespace } : {}),
          ...(req.name ? { name: req.name } : {}),
          ...(req.subResource ? { subResource: req.subResource } : {}),
          dryRun: req.dryRun,
          policies: outcome.policies,
          verdict: outcome.verdict,
          reasons: outcome.reasons,
          ...(outcome.evidence ? { evidence: outcome.evidence } : {}),
          warnings: outcome.response.warnings?.length ?? 0,
          latencyMs: Math.round(latencyMs * 1000) / 1000,
        });
        return reply.send(reviewResponse(outcome.response));
      } finally {
        inFlight.dec();
        latency.observe((performance.now() - started) / 1000);
      }
    };
  };

  app.post(
    '/validate',
    handle('validate', (r) => opts.admission.validate(r)),
  );
  app.post(
    '/mutate',
    handle('mutate', (r) => opts.admission.mutate(r)),
  );

  await app.listen({ host: opts.host ?? '0.0.0.0', port: opts.port });
  const health = await startHealthServer({
    registry: metrics.registry,
    notReadyReason: () => (closing ? 'shutting down' : opts.notReadyReason()),
    port: opts.metricsPort,
    host: opts.metricsHost ?? opts.host ?? '0.0.0.0',
  }).catch(async (err: unknown) => {
    await app.close();
    throw err;
  });
  reloader.start();
  const port = (app.server.address() as AddressInfo).port;
  const metricsPort = health.port;
  logger.info({ port, metricsPort }, 'admission webhook listening');

  return {
    port,
    metricsPort,
    reloadCertificate: () => reloader.check(),
    beginShutdown: () => {
      closing = true;
    },
    async close(graceMs = 25_000) {
      closing = true;
      reloader.stop();
      const force = setTimeout(() => https?.closeAllConnections(), graceMs);
      force.unref();
      try {
        await app.close();
      } finally {
        clearTimeout(force);
        await health.close();
      }
      logger.info('admission webhook stopped');
    },
  };
}
