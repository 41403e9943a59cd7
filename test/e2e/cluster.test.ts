// The local control plane itself: real API server, scheduler, controller manager,
// the fake nodes and RuntimeClasses, and the modelgate CRDs with their validation.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import {
  fakeNodes,
  REAL_NODE_NAME,
  REAL_NODE_TAINT,
  startCluster,
  teeRuntimeClasses,
  type Cluster,
} from './cluster.ts';

interface NodeList {
  items: {
    metadata: { name: string; labels?: Record<string, string> };
    spec: { taints?: unknown[] };
    status: { conditions?: { type: string; status: string }[] };
  }[];
}

interface Pod {
  spec: { nodeName?: string; nodeSelector?: Record<string, string>; overhead?: Record<string, string> };
}

const crdsInstalled = existsSync(
  join(import.meta.dirname, '..', '..', 'crds', 'modelgate.io_modelpolicies.yaml'),
);

let cluster: Cluster;
const namespace = `e2e-cluster-${randomBytes(3).toString('hex')}`;

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const result = await cluster.kubectl(args, input === undefined ? {} : { input });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function podManifest(name: string, extra: Record<string, unknown> = {}): string {
  return yaml.dump({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: { containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10' }], ...extra },
  });
}

beforeAll(async () => {
  cluster = await startCluster();
  await kubectlOk(['create', 'namespace', namespace]);
});

afterAll(async () => {
  await cluster?.kubectl(['delete', 'namespace', namespace, '--wait=false']);
});

describe('local control plane', () => {
  it('serves the real Kubernetes version and is ready', async () => {
    const version = JSON.parse(await kubectlOk(['version', '-o', 'json'])) as {
      serverVersion: { gitVersion: string; major: string; minor: string };
    };
    expect(version.serverVersion.gitVersion).toMatch(/^v1\.36\.\d+$/);
    expect(version.serverVersion.minor).toBe('36');
    expect((await kubectlOk(['get', '--raw', '/readyz'])).trim()).toBe('ok');
  });

  it('has the fake nodes, Ready and untainted, one of them confidential, and the tainted real node', async () => {
    const all = JSON.parse(await kubectlOk(['get', 'nodes', '-o', 'json'])) as NodeList;
    expect(all.items.map((n) => n.metadata.name).sort()).toEqual(
      [...fakeNodes.map((n) => n.name), REAL_NODE_NAME].sort(),
    );
    const nodes = { items: all.items.filter((n) => n.metadata.name !== REAL_NODE_NAME) };
    for (const node of all.items)
      expect(node.status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    for (const node of nodes.items) expect(node.spec.taints ?? []).toEqual([]);
    // Only pods that tolerate it run on the real node: every other test's pods stay on the fake ones.
    expect(all.items.find((n) => n.metadata.name === REAL_NODE_NAME)?.spec.taints).toEqual([REAL_NODE_TAINT]);
    const confidential = nodes.items.filter(
      (n) => n.metadata.labels?.['feature.node.kubernetes.io/cpu-security.sev.snp.enabled'] === 'true',
    );
    expect(confidential.map((n) => n.metadata.name)).toEqual(['mg-confidential-0']);
    expect(confidential[0]?.metadata.labels?.['katacontainers.io/kata-runtime']).toBe('true');
  });

  it('has the Kata TEE RuntimeClasses as kata-deploy makes them, and no decoy', async () => {
    const list = JSON.parse(await kubectlOk(['get', 'runtimeclasses', '-o', 'json'])) as {
      items: {
        metadata: { name: string };
        handler: string;
        overhead?: { podFixed?: Record<string, string> };
        scheduling?: { nodeSelector?: Record<string, string> };
      }[];
    };
    const byName = new Map(list.items.map((rc) => [rc.metadata.name, rc]));
    for (const expected of teeRuntimeClasses) {
      const rc = byName.get(expected.name);
      expect(rc?.handler).toBe(expected.name);
      expect(rc?.scheduling?.nodeSelector).toEqual({ 'katacontainers.io/kata-runtime': 'true' });
      expect(Object.keys(rc?.overhead?.podFixed ?? {}).sort()).toEqual(['cpu', 'memory']);
    }
    expect(list.items.filter((rc) => rc.metadata.name.startsWith('kata-') && rc.handler === 'runc')).toEqual(
      [],
    );
  });

  it('schedules a pod onto a node with the real scheduler', async () => {
    await kubectlOk(['apply', '-f', '-'], podManifest('plain'));
    const nodeName = await eventually(async () => {
      const pod = JSON.parse(await kubectlOk(['get', 'pod', 'plain', '-n', namespace, '-o', 'json'])) as Pod;
      return pod.spec.nodeName;
    });
    expect(fakeNodes.map((n) => n.name)).toContain(nodeName);
  });

  it('places a kata-qemu-snp pod on the confidential node (RuntimeClass scheduling + overhead)', async () => {
    await kubectlOk(['apply', '-f', '-'], podManifest('tee', { runtimeClassName: 'kata-qemu-snp' }));
    const pod = await eventually(async () => {
      const p = JSON.parse(await kubectlOk(['get', 'pod', 'tee', '-n', namespace, '-o', 'json'])) as Pod;
      return p.spec.nodeName ? p : undefined;
    });
    expect(pod.spec.nodeName).toBe('mg-confidential-0');
    expect(pod.spec.overhead).toEqual({ cpu: '1', memory: '2Gi' });
  });

  it('completes pod deletion without a kubelet (pod reaper)', async () => {
    await kubectlOk(['apply', '-f', '-'], podManifest('doomed'));
    await kubectlOk(['delete', 'pod', 'doomed', '-n', namespace, '--wait=false']);
    await eventually(async () => {
      const result = await cluster.kubectl(['get', 'pod', 'doomed', '-n', namespace, '-o', 'name']);
      return result.code !== 0 && result.stderr.includes('NotFound') ? true : undefined;
    }, 30_000);
  });

  it('runs the controller manager: a Deployment gets a ReplicaSet and scheduled pods', async () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10' }] },
        },
      },
    };
    await kubectlOk(['apply', '-f', '-'], yaml.dump(deployment));
    const scheduled = await eventually(async () => {
      const pods = JSON.parse(
        await kubectlOk(['get', 'pods', '-n', namespace, '-l', 'app=web', '-o', 'json']),
      ) as {
        items: Pod[];
      };
      const bound = pods.items.filter((p) => p.spec.nodeName);
      return bound.length === 2 ? bound : undefined;
    });
    expect(scheduled).toHaveLength(2);
  });
});

describe.skipIf(!crdsInstalled)('modelgate CRDs on the real API server', () => {
  const policy = (spec: Record<string, unknown>, name: string): string =>
    yaml.dump({
      apiVersion: 'modelgate.io/v1alpha1',
      kind: 'ModelPolicy',
      metadata: { name, namespace },
      spec,
    });

  it('accepts a valid ModelPolicy and applies schema defaults', async () => {
    await kubectlOk(['apply', '-f', '-'], policy({ requirePinned: true }, 'valid'));
    const stored = JSON.parse(
      await kubectlOk(['get', 'modelpolicy', 'valid', '-n', namespace, '-o', 'json']),
    ) as {
      spec: { enforcement?: string; requirePinned?: boolean };
    };
    expect(stored.spec.requirePinned).toBe(true);
    expect(stored.spec.enforcement).toBe('Enforce');
  });

  it('rejects an enforcement value outside the enum (OpenAPI schema)', async () => {
    const result = await cluster.kubectl(['apply', '-f', '-'], {
      input: policy({ enforcement: 'Sometimes' }, 'bad-enum'),
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('spec.enforcement');
    expect(result.stderr).toMatch(/Unsupported value: "Sometimes"/);
  });

  it('rejects a policy that breaks a CEL rule (x-kubernetes-validations)', async () => {
    const result = await cluster.kubectl(['apply', '-f', '-'], {
      input: policy(
        {
          confidentialComputing: {
            always: true,
            when: { sensitivity: ['high'] },
            runtimeClassNames: ['kata-qemu-snp'],
          },
        },
        'bad-cel',
      ),
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('confidentialComputing needs exactly one of when or always: true');
  });
});
