// Running kubectl and the other binaries, and waiting for conditions.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

// Children must reach 127.0.0.1 directly: the API server calls admission webhooks
// by URL and would otherwise send them through an HTTP proxy from the environment.
export function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(https?|all)_proxy$/i.test(k) || k === 'KUBECONFIG') delete env[k];
  }
  env.NO_PROXY = '127.0.0.1,localhost';
  env.no_proxy = '127.0.0.1,localhost';
  return env;
}

// Server-side apply with our own field manager: owns exactly the fields we set, takes
// them back from whoever changed them, and leaves fields others added alone.
export const serverSideApply = [
  '--server-side',
  '--force-conflicts',
  '--field-manager=modelgate-local-cluster',
];

/** A component died during startup: waiting longer cannot help. */
export class ComponentExited extends Error {}

export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  onTimeout: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      if (error instanceof ComponentExited) throw error;
      lastError = error instanceof Error ? error.message : String(error);
    }
    await sleep(250);
  }
  throw new Error(
    `timed out after ${timeoutMs / 1000}s waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}\n${onTimeout()}`,
  );
}

export async function run(
  bin: string,
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ExecResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(bin, args, { env: options.env ?? childEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

export function kubectlFor(state: KubectlTarget) {
  return (args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> =>
    run(join(state.binDir, 'kubectl'), ['--kubeconfig', state.kubeconfigPath, ...args], options);
}

export async function mustKubectl(
  kubectl: ReturnType<typeof kubectlFor>,
  args: string[],
  input?: string,
): Promise<string> {
  const result = await kubectl(args, input === undefined ? {} : { input });
  if (result.code !== 0)
    throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

/** What kubectl needs to reach a cluster. */
export interface KubectlTarget {
  binDir: string;
  kubeconfigPath: string;
}
