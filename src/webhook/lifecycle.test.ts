// Certificate rotation under traffic, readiness before policies load, graceful close.
import { writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { PolicySet } from '../policy/policy-set.ts';
import { MemoryClusterView } from '../policy/cluster-view.ts';
import type { PolicySnapshot, PolicyStore } from '../policy/store.ts';
import { admissionReview, startTestWebhook } from './server.test-support.ts';

const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'prod' },
  spec: { containers: [{ name: 'c', image: 'busybox' }] },
};

function servedSerial(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      const serial = s.getPeerCertificate().serialNumber;
      s.end();
      resolve(serial);
    });
    s.on('error', reject);
  });
}

describe('serving certificate rotation', () => {
  it('reloads a rotated certificate with no failed request, on keep-alive and new connections', async () => {
    const wh = await startTestWebhook();
    try {
      const fresh = new Agent({ keepAlive: false, ca: wh.caPem });
      let stop = false;
      const failures: string[] = [];
      let ok = 0;
      const loop = async (agent?: Agent) => {
        while (!stop) {
          try {
            const res = await wh.post('/validate', admissionReview(pod), agent ? { agent } : {});
            if (res.status === 200) ok++;
            else failures.push(`status ${res.status}`);
          } catch (err) {
            failures.push((err as Error).message);
          }
        }
      };
      const loops = [loop(), loop(), loop(fresh), loop(fresh)];
      const before = await servedSerial(wh.server.port, wh.caPem);
      let last = before;
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 150));
        const next = await wh.ca.issue('localhost');
        // Half-way states on purpose: the key first (mismatching the old cert), then the cert, each an
        // atomic rename like the kubelet's symlink swap.
        writeFileSync(join(wh.dir, 'tls.key.tmp'), next.keyPem);
        renameSync(join(wh.dir, 'tls.key.tmp'), wh.keyFile);
        await new Promise((r) => setTimeout(r, 50));
        writeFileSync(join(wh.dir, 'tls.crt.tmp'), next.certPem);
        renameSync(join(wh.dir, 'tls.crt.tmp'), wh.certFile);
        // The watcher picks it up; wait until new handshakes see the new certificate.
        const deadline = Date.now() + 3000;
        while (Date.now() < deadline && (await servedSerial(wh.server.port, wh.caPem)) === last)
          await new Promise((r) => setTimeout(r, 25));
        const now = await servedSerial(wh.server.port, wh.caPem);
        expect(now).not.toBe(last);
        last = now;
      }
      stop = true;
      await Promise.all(loops);
      fresh.destroy();
      expect(failures).toEqual([]);
      expect(ok).toBeGreaterThan(20);
    } finally {
      await wh.close();
    }
  });

  it('keeps the current certificate when the new files are unusable', async () => {
    const wh = await startTestWebhook();
    try {
      const before = await servedSerial(wh.server.port, wh.caPem);
      writeFileSync(wh.certFile, 'not a certificate');
      expect(await wh.server.reloadCertificate()).toBe(false);
      expect(await servedSerial(wh.server.port, wh.caPem)).toBe(before);
      expect((await wh.post('/validate', admissionReview(pod))).status).toBe(200);
    } finally {
      await wh.close();
    }
  });
});

class PendingStore implements PolicyStore {
  loaded = false;
  private readonly snap: PolicySnapshot = {
    policies: new PolicySet([]),
    cluster: new MemoryClusterView(),
    errors: [],
  };
  snapshot() {
    if (!this.loaded) throw new Error('read before load');
    return this.snap;
  }
  ready() {
    return this.loaded;
  }
  onChange() {}
  async start() {}
  async stop() {}
}

describe('readiness and shutdown', () => {
  it('is not ready and fails closed until policies are loaded', async () => {
    const store = new PendingStore();
    const wh = await startTestWebhook({ store });
    try {
      expect((await wh.get('/healthz')).status).toBe(200);
      const ready = await wh.get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.text).toContain('policies not loaded');
      const res = (await wh.post('/validate', admissionReview(pod))).json() as {
        response: { allowed: boolean; status: { message: string } };
      };
      expect(res.response.allowed).toBe(false);
      expect(res.response.status.message).toContain('not loaded yet');
      const del = (
        await wh.post('/validate', admissionReview(undefined, { operation: 'DELETE', namespace: 'prod' }))
      ).json() as { response: { allowed: boolean } };
      expect(del.response.allowed).toBe(true);
      store.loaded = true;
      expect((await wh.get('/readyz')).status).toBe(200);
      expect(
        ((await wh.post('/validate', admissionReview(pod))).json() as { response: { allowed: boolean } })
          .response.allowed,
      ).toBe(true);
    } finally {
      await wh.close();
    }
  });

  it('turns unready on shutdown, then closes with keep-alive connections open', async () => {
    const wh = await startTestWebhook();
    expect((await wh.post('/validate', admissionReview(pod))).status).toBe(200); // leaves an idle keep-alive socket
    wh.server.beginShutdown();
    expect((await wh.get('/readyz')).status).toBe(503);
    expect((await wh.post('/validate', admissionReview(pod))).status).toBe(200); // still serving while unready
    // close() must not wait for idle keep-alive sockets: with a 60 s grace, waiting for them would hang
    // this test past its timeout. (The helper's own close() destroys the client agent first.)
    await wh.server.close(60_000);
    await wh.close();
  });
});
