import net, { type AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { startHealthServer } from './health-server.ts';

const get = async (port: number, path: string, method = 'GET') => {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: r.status, body: await r.text() };
};

describe('health server', () => {
  it('answers liveness, readiness with its reason, and metrics', async () => {
    let reason: string | undefined = 'initial sync not finished';
    const registry = new Registry();
    const h = await startHealthServer({ registry, notReadyReason: () => reason, port: 0, host: '127.0.0.1' });
    try {
      expect(await get(h.port, '/healthz')).toEqual({ status: 200, body: 'ok\n' });
      expect(await get(h.port, '/readyz')).toEqual({
        status: 503,
        body: 'not ready: initial sync not finished\n',
      });
      reason = undefined;
      expect((await get(h.port, '/readyz')).status).toBe(200);
      expect((await get(h.port, '/metrics')).status).toBe(200);
      expect((await get(h.port, '/nope')).body).toContain('try /healthz, /readyz or /metrics');
      expect((await get(h.port, '/healthz', 'POST')).status).toBe(405);
    } finally {
      await h.close();
    }
  });

  it('says in one line that the port is taken, naming the flag', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as AddressInfo).port;
    try {
      await expect(
        startHealthServer({
          registry: new Registry(),
          notReadyReason: () => undefined,
          port,
          host: '127.0.0.1',
          portFlag: '--metrics-port',
        }),
      ).rejects.toThrow(
        `port ${port} on 127.0.0.1 (health and metrics) is already in use by another process: stop it, or choose another port with --metrics-port`,
      );
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });
});
