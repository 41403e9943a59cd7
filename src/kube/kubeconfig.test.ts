import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import type https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Kubeconfig, KubeconfigError } from './kubeconfig.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'mg-kubeconfig-'));
const b64 = (s: string) => Buffer.from(s).toString('base64');

function write(d: string, name: string, doc: unknown): string {
  const file = join(d, name);
  writeFileSync(file, typeof doc === 'string' ? doc : yaml.dump(doc));
  return file;
}

function config(
  cluster: Record<string, unknown>,
  user: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:6443', ...cluster } }],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'x',
    ...extra,
  };
}

async function applied(kc: Kubeconfig): Promise<https.RequestOptions & { headers: Record<string, string> }> {
  const opts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  return opts as https.RequestOptions & { headers: Record<string, string> };
}

afterEach(() => vi.unstubAllEnvs());

describe('Kubeconfig', () => {
  it('reads inline certificates and a token', async () => {
    const d = dir();
    const kc = Kubeconfig.fromFiles([
      write(
        d,
        'config',
        config(
          { 'certificate-authority-data': b64('CA PEM'), 'tls-server-name': 'kubernetes' },
          { 'client-certificate-data': b64('CERT PEM'), 'client-key-data': b64('KEY PEM'), token: 't0k3n' },
        ),
      ),
    ]);
    expect(kc.getCurrentCluster().server).toBe('https://127.0.0.1:6443');
    const o = await applied(kc);
    expect(String(o.ca)).toBe('CA PEM');
    expect(String(o.cert)).toBe('CERT PEM');
    expect(String(o.key)).toBe('KEY PEM');
    expect(o.servername).toBe('kubernetes');
    expect(o.headers.Authorization).toBe('Bearer t0k3n');
    expect(o.rejectUnauthorized).toBeUndefined();
  });

  it('resolves file paths relative to the kubeconfig, and honours insecure-skip-tls-verify', async () => {
    const d = dir();
    mkdirSync(join(d, 'pki'));
    writeFileSync(join(d, 'pki', 'ca.crt'), 'CA FROM FILE');
    writeFileSync(join(d, 'pki', 'token'), 'file-token\n');
    const kc = Kubeconfig.fromFiles([
      write(
        d,
        'config',
        config(
          { 'certificate-authority': 'pki/ca.crt', 'insecure-skip-tls-verify': true },
          { tokenFile: 'pki/token' },
        ),
      ),
    ]);
    const o = await applied(kc);
    expect(String(o.ca)).toBe('CA FROM FILE');
    expect(o.rejectUnauthorized).toBe(false);
    expect(o.headers.Authorization).toBe('Bearer file-token');
  });

  it('merges a $KUBECONFIG list as kubectl does: the first file to set a name wins', async () => {
    const d = dir();
    const first = write(d, 'a', {
      clusters: [{ name: 'c', cluster: { server: 'https://first:6443' } }],
      'current-context': 'x',
    });
    const second = write(
      d,
      'b',
      config({ server: 'https://second:6443' }, { username: 'admin', password: 'pw' }),
    );
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '');
    vi.stubEnv('KUBECONFIG', [first, join(d, 'missing'), second].join(':'));
    const kc = Kubeconfig.load();
    expect(kc.getCurrentCluster().server).toBe('https://first:6443');
    expect((await applied(kc)).headers.Authorization).toBe(`Basic ${b64('admin:pw')}`);
  });

  it('runs an exec credential plugin and keeps its token until it expires', async () => {
    const d = dir();
    const counter = join(d, 'calls');
    const plugin = write(
      d,
      'plugin.mjs',
      `import { appendFileSync } from 'node:fs';
appendFileSync(${JSON.stringify(counter)}, 'x');
const info = JSON.parse(process.env.KUBERNETES_EXEC_INFO);
process.stdout.write(JSON.stringify({ apiVersion: info.apiVersion, kind: 'ExecCredential',
  status: { token: 'exec-' + process.env.EXTRA + '-' + info.spec.cluster.server, expirationTimestamp: new Date(Date.now() + 3600e3).toISOString() } }));`,
    );
    const kc = Kubeconfig.fromFiles([
      write(
        d,
        'config',
        config(
          {},
          {
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1',
              command: process.execPath,
              args: [plugin],
              env: [{ name: 'EXTRA', value: 'e' }],
              provideClusterInfo: true,
            },
          },
        ),
      ),
    ]);
    expect((await applied(kc)).headers.Authorization).toBe('Bearer exec-e-https://127.0.0.1:6443');
    await applied(kc);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(counter, 'utf8')).toBe('x'); // cached
  });

  it('uses the in-cluster service account', async () => {
    const sa = dir();
    writeFileSync(join(sa, 'ca.crt'), 'CLUSTER CA');
    writeFileSync(join(sa, 'token'), 'sa-token');
    vi.stubEnv('KUBERNETES_SERVICE_HOST', 'fd00::1');
    vi.stubEnv('KUBERNETES_SERVICE_PORT', '443');
    const kc = Kubeconfig.inCluster(sa);
    expect(kc.getCurrentCluster().server).toBe('https://[fd00::1]:443');
    const o = await applied(kc);
    expect(String(o.ca)).toBe('CLUSTER CA');
    expect(o.headers.Authorization).toBe('Bearer sa-token');
  });

  it('refuses what it cannot use, saying what to do', () => {
    const d = dir();
    const bad = (doc: unknown) => () => Kubeconfig.fromFiles([write(d, 'bad', doc)]);
    expect(bad({ ...config({}, {}), 'current-context': undefined })).toThrow(
      /has no current-context: set one with kubectl config use-context/,
    );
    expect(bad({ ...config({}, {}), 'current-context': 'nope' })).toThrow(
      /current-context "nope" is not among its contexts/,
    );
    expect(bad(config({}, { 'auth-provider': { name: 'gcp' } }))).toThrow(
      /legacy auth-provider "gcp" is not supported: use an exec credential plugin/,
    );
    expect(bad(config({ 'proxy-url': 'http://proxy:3128' }, {}))).toThrow(/proxy-url is not supported/);
    expect(bad('{')).toThrow(KubeconfigError);
    expect(() => Kubeconfig.fromFiles([join(d, 'nowhere')])).toThrow(/cannot read .*nowhere: ENOENT/);
    expect(bad(config({ 'certificate-authority': 'missing.crt' }, {}))).toThrow(
      /cannot read the certificate authority .*missing\.crt/,
    );
  });
});
