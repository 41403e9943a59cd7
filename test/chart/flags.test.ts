// The chart passes only flags the binary understands: each Deployment's args, as rendered, go through
// the real CLI's flag parser (`modelgate <verb>` exits 2 with a usage error on anything unknown or
// malformed). Without a cluster or certificate the verb then fails or keeps retrying, either of which
// proves the flags were accepted.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { render, type Deployment } from './render.ts';

const repo = join(import.meta.dirname, '..', '..');
const emptyHome = mkdtempSync(join(tmpdir(), 'modelgate-flags-home-'));

interface Outcome {
  code: number | null;
  stderr: string;
  stillRunning: boolean;
}

function runCli(args: string[], timeoutMs = 8_000): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repo, 'bin', 'modelgate.js'), ...args], {
      cwd: repo,
      // No in-cluster config, no kubeconfig: the process must not reach any real cluster.
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: emptyHome,
        KUBECONFIG: join(emptyHome, 'none'),
        POD_NAMESPACE: 'mg-system',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, stderr, stillRunning: signal === 'SIGKILL' });
    });
  });
}

const variants: [string, unknown][] = [
  ['default values', {}],
  [
    'cert-manager, no mutating webhook, no leader election',
    {
      certManager: { enabled: true },
      webhook: { mutating: { enabled: false } },
      controller: { leaderElection: { enabled: false } },
      logLevel: 'debug',
    },
  ],
];

describe.each(variants)('rendered container args with %s', (_name, values) => {
  const rendered = render(values);
  for (const component of ['webhook', 'controller'] as const) {
    const verbSource = join(repo, 'src', 'cli', `${component}.ts`);
    it.skipIf(!existsSync(verbSource))(`are accepted by \`modelgate ${component}\``, async () => {
      const d = rendered.get<Deployment>('Deployment', `mg-modelgate-${component}`);
      const args = d.spec.template.spec.containers[0]?.args ?? [];
      expect(args[0]).toBe(component);
      const outcome = await runCli(args);
      expect(outcome.code, outcome.stderr).not.toBe(2);
      expect(outcome.stderr).not.toMatch(/unknown option|unexpected argument|usage: modelgate/i);
      expect(outcome.stillRunning || outcome.code !== 0).toBe(true);
    });
  }
});
