// OCI registries of the run (test/cluster/node/registry: go-containerregistry's registry, blobs on disk,
// plain HTTP) on the node's address inside the cluster's network namespace. The cluster starts one with
// the spec's referrers API at start; a test can start more, with another referrers behaviour
// (`config-media-type`: go-containerregistry's own answer; `none`: no referrers API, so clients fall back to
// the sha256-<hex> tag), and the node pulls from each (containerd reads certs.d at every pull).
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { nodeLayout, nodeNetwork, registryHostsToml } from './config.ts';
import { pidAlive } from './proc.ts';

export type ReferrersMode = 'spec' | 'config-media-type' | 'none';

export interface Registry {
  /** host:port */
  address: string;
  pid: number;
  referrers: ReferrersMode;
  stop(): Promise<void>;
}

/** The argv of a registry of the run on `port` (its blobs in <run dir>/registry-<port>, which names it). */
export function registryArgv(
  containerdPart: string,
  runDir: string,
  port: number,
  referrers: ReferrersMode,
): string[] {
  return [
    join(containerdPart, 'bin', 'registry'),
    `--address=${nodeNetwork.nodeIp}:${port}`,
    `--disk=${join(runDir, `registry-${port}`)}`,
    `--referrers=${referrers}`,
  ];
}

/** Lets the node's containerd pull from `address` over plain HTTP. */
export function trustRegistry(runDir: string, address: string): void {
  const dir = join(nodeLayout(runDir).certsDir, address);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'hosts.toml'), registryHostsToml(address));
}

export async function waitForRegistry(
  address: string,
  alive: () => boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`the registry at ${address} exited`);
    try {
      if ((await fetch(`http://${address}/v2/`, { signal: AbortSignal.timeout(2_000) })).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`the registry at ${address} did not answer within ${timeoutMs / 1000}s`);
}

/**
 * Starts another registry of the run (for tests: a different referrers behaviour). It runs detached
 * with the run directory on its command line, so `cluster:down` stops it if the test does not.
 */
export async function startExtraRegistry(
  runDir: string,
  containerdPart: string,
  port: number,
  referrers: ReferrersMode,
): Promise<Registry> {
  const address = `${nodeNetwork.nodeIp}:${port}`;
  mkdirSync(join(runDir, 'logs'), { recursive: true });
  const fd = openSync(join(runDir, 'logs', `registry-${port}.log`), 'a');
  const child = spawn(
    registryArgv(containerdPart, runDir, port, referrers)[0]!,
    registryArgv(containerdPart, runDir, port, referrers).slice(1),
    {
      detached: true,
      stdio: ['ignore', fd, fd],
    },
  );
  closeSync(fd);
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start a registry on ${address}`);
  await waitForRegistry(address, () => pidAlive(pid));
  trustRegistry(runDir, address);
  return {
    address,
    pid,
    referrers,
    stop: async () => {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return;
      }
      for (let i = 0; i < 100 && pidAlive(pid); i++) await sleep(100);
    },
  };
}
