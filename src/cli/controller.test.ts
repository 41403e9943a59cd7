import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from './args.ts';
import { parseControllerFlags, parseDuration, run } from './controller.ts';

function kubeconfig(server: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mg-ctl-'));
  const file = join(dir, 'kubeconfig');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 'not-a-secret' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }),
  );
  return file;
}

const listen = (server: net.Server | http.Server) =>
  new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
const close = (server: net.Server | http.Server) => new Promise<void>((r) => server.close(() => r()));

/** Runs `modelgate controller` and returns its exit code and what it wrote to stderr. */
async function runController(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await run([...args, '--log-level', 'silent', '--bind-address', '127.0.0.1']);
    return { code, stderr };
  } finally {
    spy.mockRestore();
  }
}

describe('modelgate controller start-up errors: one line, exit 1', () => {
  const servers: (net.Server | http.Server)[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await close(s);
  });

  it('says the metrics port is taken', async () => {
    const taken = net.createServer();
    servers.push(taken);
    const port = await listen(taken);
    const r = await runController([
      '--kubeconfig',
      kubeconfig('http://127.0.0.1:1'),
      '--metrics-port',
      String(port),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `modelgate controller: port ${port} on 127.0.0.1 (health and metrics) is already in use by another process: stop it, or choose another port with --metrics-port\n`,
    );
  });

  it('says the API server cannot be reached', async () => {
    const probe = net.createServer();
    const port = await listen(probe);
    await close(probe);
    const r = await runController([
      '--kubeconfig',
      kubeconfig(`http://127.0.0.1:${port}`),
      '--metrics-port',
      '0',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^modelgate controller: cannot reach the Kubernetes API server at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\): check --kubeconfig`,
      ),
    );
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('says the namespace does not exist', async () => {
    const api = http.createServer((req, res) => {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'Status',
          code: 404,
          reason: 'NotFound',
          message: `namespaces "nope" not found`,
        }),
      );
    });
    servers.push(api);
    const port = await listen(api);
    const r = await runController([
      '--kubeconfig',
      kubeconfig(`http://127.0.0.1:${port}`),
      '--metrics-port',
      '0',
      '--namespace',
      'nope',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^modelgate controller: namespace "nope" does not exist: .*kubectl create namespace nope\) or pass --namespace\n$/,
    );
  });

  it('says the kubeconfig cannot be read', async () => {
    const r = await runController(['--kubeconfig', '/nonexistent/kubeconfig', '--metrics-port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^modelgate controller: cannot load the kubeconfig: cannot read \/nonexistent\/kubeconfig: ENOENT.*pass --kubeconfig/,
    );
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('modelgate controller flags', () => {
  it('has the documented defaults', () => {
    expect(parseControllerFlags([])).toMatchObject({
      namespace: process.env.POD_NAMESPACE ?? 'modelgate-system',
      metricsPort: 8081,
      leaderElect: true,
      leaseName: 'modelgate-controller',
      webhookService: 'modelgate-webhook',
      webhookSecret: 'modelgate-webhook-tls',
      validatingWebhook: 'modelgate',
      mutatingWebhook: 'modelgate',
      certManager: false,
      auditIntervalMs: 600_000,
    });
  });

  it("accepts the chart's forms of boolean flags and durations", () => {
    expect(
      parseControllerFlags(['--leader-elect=false', '--cert-manager', '--audit-interval', '1h30m']),
    ).toMatchObject({ leaderElect: false, certManager: true, auditIntervalMs: 5_400_000 });
    expect(parseControllerFlags(['--leader-elect', '--cert-manager=false'])).toMatchObject({
      leaderElect: true,
      certManager: false,
    });
    expect(parseDuration('500ms', 'x')).toBe(500);
  });

  it('rejects bad values with a usage error', () => {
    expect(() => parseControllerFlags(['--leader-elect=maybe'])).toThrow(UsageError);
    expect(() => parseControllerFlags(['--audit-interval', '10'])).toThrow(UsageError);
    expect(() => parseControllerFlags(['--metrics-port', '99999'])).toThrow(UsageError);
    expect(() => parseControllerFlags(['--nope'])).toThrow(UsageError);
  });
});

describe('controller OCI evidence flags', () => {
  it('on by default with pull secrets; off with --oci-evidence=false; bad sizes refused', () => {
    const on = parseControllerFlags(['--insecure-registry', '10.0.0.1:5000', '--insecure-registry', 'r:1']);
    expect(on !== 'help' && on.oci).toMatchObject({
      insecureRegistries: ['10.0.0.1:5000', 'r:1'],
      pullSecrets: true,
    });
    const off = parseControllerFlags(['--oci-evidence=false']);
    expect(off !== 'help' && off.oci).toBeUndefined();
    expect(() => parseControllerFlags(['--oci-scan-max-layer-bytes', '1e9'])).toThrow(/whole number/);
  });
});
