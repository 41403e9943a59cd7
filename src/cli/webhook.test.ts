// `modelgate webhook` end to end in-process: flags, file-backed policies reloaded on change, SIGTERM.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from './args.ts';
import { run } from './webhook.ts';
import { freePort } from '../../scripts/cluster/ports.ts';
import { admissionReview, NAMESPACES_YAML } from '../webhook/server.test-support.ts';
import { createTestCa } from '../webhook/tls.test-support.ts';

const policy = (requirePinned: boolean) => `apiVersion: modelgate.io/v1alpha1
kind: ClusterModelPolicy
metadata: {name: prod-models}
spec:
  match: {namespaceSelector: {matchLabels: {env: prod}}}
  requirePinned: ${requirePinned}
`;
const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'prod' },
  spec: {
    containers: [
      {
        name: 'c',
        image: `vllm/vllm-openai@sha256:${'a'.repeat(64)}`,
        args: ['--model', '/m'],
        volumeMounts: [{ name: 'm', mountPath: '/m', readOnly: true }],
      },
    ],
    volumes: [{ name: 'm', image: { reference: 'registry.example.com/m:v1' } }],
  },
};

const get = (port: number, path: string) =>
  new Promise<number>((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.end();
  });

const validate = (port: number, ca: string) =>
  new Promise<boolean>((resolve, reject) => {
    const body = JSON.stringify(admissionReview(pod));
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/validate',
        method: 'POST',
        ca,
        servername: 'localhost',
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () =>
          resolve((JSON.parse(text) as { response: { allowed: boolean } }).response.allowed),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });

async function until(pred: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}

describe('modelgate webhook (CLI)', () => {
  it('rejects bad flags with a usage error', async () => {
    await expect(run([])).rejects.toBeInstanceOf(UsageError);
    await expect(run(['--tls-cert-file', 'a', '--tls-private-key-file', 'b', '--port', 'x'])).rejects.toThrow(
      /--port must be an integer/,
    );
    await expect(
      run(['--tls-cert-file', 'a', '--tls-private-key-file', 'b', '--log-level', 'loud']),
    ).rejects.toThrow(/--log-level/);
    await expect(
      run(['--tls-cert-file', 'a', '--tls-private-key-file', 'b', '--cluster-file', 'c']),
    ).rejects.toThrow(/needs --policy-dir/);
  });

  it('serves file-backed policies, reloads them on change, and stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-cli-'));
    const ca = await createTestCa();
    const leaf = await ca.issue('localhost');
    writeFileSync(join(dir, 'tls.crt'), leaf.certPem);
    writeFileSync(join(dir, 'tls.key'), leaf.keyPem);
    const policies = join(dir, 'policies');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(policies);
    writeFileSync(join(policies, 'p.yaml'), policy(true));
    writeFileSync(join(dir, 'cluster.yaml'), NAMESPACES_YAML);
    const [port, metricsPort] = [await freePort(), await freePort()];
    const exit = run([
      '--tls-cert-file',
      join(dir, 'tls.crt'),
      '--tls-private-key-file',
      join(dir, 'tls.key'),
      '--port',
      String(port),
      '--metrics-port',
      String(metricsPort),
      '--bind-address',
      '127.0.0.1',
      '--policy-dir',
      policies,
      '--cluster-file',
      join(dir, 'cluster.yaml'),
      '--log-level',
      'silent',
      '--shutdown-delay',
      '0',
    ]);
    await until(async () => (await get(metricsPort, '/readyz')) === 200);
    expect(await validate(port, ca.certPem)).toBe(false);
    writeFileSync(join(policies, 'p.yaml'), policy(false));
    await until(async () => (await validate(port, ca.certPem)) === true);
    process.emit('SIGTERM');
    expect(await exit).toBe(0);
    expect(await get(metricsPort, '/healthz')).toBe(0);
  });
});
