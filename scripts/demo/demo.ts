// `npm run demo`: the whole story on a real control plane built from source. Brings up etcd +
// kube-apiserver + controller-manager + scheduler on 127.0.0.1, puts modelgate in front of it, applies the
// production policy and the example workloads, and says in plain words what happened to each.
//   --keep   leave the cluster and modelgate running afterwards (stop with `npm run cluster:down`)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { repoRoot } from '../cluster/control-plane.ts';
import { startCluster, type Cluster } from '../../test/e2e/cluster.ts';
import { removeNamespace, startLocalModelgate } from './local-modelgate.ts';

const keep = process.argv.includes('--keep');
/** The story's order: the happy path, then one threat at a time. */
const ORDER = [
  'signed-model.yaml',
  'tampered-model.yaml',
  'unpinned-model.yaml',
  'sensitive-ordinary.yaml',
  'sensitive-confidential.yaml',
];
const DENIED_BY = 'admission webhook "validate.modelgate.io" denied the request: ';
const EX = join(repoRoot, 'examples');
const NS = 'ml-prod';
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const green = (s: string) => (process.stdout.isTTY ? `\x1b[32m${s}\x1b[0m` : s);
const red = (s: string) => (process.stdout.isTTY ? `\x1b[31m${s}\x1b[0m` : s);
const say = (s = ''): void => {
  process.stdout.write(s + '\n');
};
const step = (s: string) => say(`\n${bold('▶ ' + s)}`);

async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 500));
  }
  return undefined;
}

function wrap(text: string, indent: string): string {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if ((line + ' ' + word).length > 100) {
      out.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(indent + line);
  return out.join('\n');
}

async function describeWorkload(cluster: Cluster, app: string): Promise<void> {
  const pod = await eventually(async () => {
    const r = await cluster.kubectl(['get', 'pods', '-n', NS, '-l', `app=${app}`, '-o', 'json']);
    const items =
      r.code === 0
        ? (JSON.parse(r.stdout) as { items: { metadata: { name: string }; spec: Record<string, unknown> }[] })
            .items
        : [];
    return items.find((p) => typeof p.spec.nodeName === 'string') ?? undefined;
  });
  if (!pod) return say('    (no pod scheduled yet)');
  const inits = ((pod.spec.initContainers ?? []) as { name: string }[]).map((c) => c.name);
  say(
    `    pod ${pod.metadata.name} was created by the real controller manager and scheduled onto node ${pod.spec.nodeName as string}`,
  );
  if (inits[0] === 'modelgate-verifier')
    say(
      '    the runtime verifier runs first in it: it re-hashes every model file against the signed manifest at pod start',
    );
  if (pod.spec.runtimeClassName)
    say(`    runtime class ${pod.spec.runtimeClassName as string}: a confidential-computing (TEE) sandbox`);
}

async function main(): Promise<void> {
  say(bold('modelgate demo: keeping unverified models out of a Kubernetes cluster'));
  step(
    'Starting a local Kubernetes control plane (etcd, kube-apiserver, controller-manager, scheduler built from source)',
  );
  const cluster = await startCluster({ log: (l) => say(`    ${l}`) });
  say(`    API server ${cluster.server}; kubeconfig ${cluster.kubeconfigPath}`);

  await removeNamespace(cluster, NS);
  step('Starting modelgate: the admission webhook and the controller, registered with the API server');
  const mg = await startLocalModelgate(cluster, { controller: true, log: (l) => say(`    ${l}`) });
  let ok = true;
  try {
    step('Applying the cluster objects and the production policy');
    for (const f of ['cluster.yaml', 'policies/production-models.yaml']) {
      const r = await cluster.kubectl(['apply', '-f', join(EX, f)]);
      if (r.code !== 0) throw new Error(`kubectl apply ${f} failed: ${r.stderr}`);
      say(
        r.stdout
          .trim()
          .split('\n')
          .map((l) => `    ${l}`)
          .join('\n'),
      );
    }
    say(
      '    policy production-models: models in env=prod namespaces must come from registry.example.com or the',
    );
    say(
      '    example-org Hugging Face org, be pinned and signed by the ml-release key; high-sensitivity models must',
    );
    say('    run on AMD SEV-SNP confidential nodes.');
    const ready = await eventually(async () => {
      const r = await cluster.kubectl([
        'get',
        'clustermodelpolicy',
        'production-models',
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
      ]);
      return r.stdout === 'True' ? true : undefined;
    }, 60_000);
    say(
      ready
        ? '    the controller reports the policy Ready (compiled, keys resolved)'
        : red('    the policy did not become Ready in time'),
    );
    await eventually(async () => {
      const r = await cluster.kubectl([
        'apply',
        '--dry-run=server',
        '-f',
        join(EX, 'workloads', 'unpinned-model.yaml'),
      ]);
      return r.code !== 0 ? true : undefined;
    });

    for (const file of ORDER) {
      const text = readFileSync(join(EX, 'workloads', file), 'utf8');
      const intent = text
        .split('\n')
        .filter((l) => l.startsWith('#'))
        .map((l) => l.slice(2))
        .join(' ');
      const obj = yaml.load(text) as { metadata: { name: string } };
      step(`kubectl apply -f examples/workloads/${file}`);
      say(wrap(intent, '    '));
      const expectAdmit = /^Admitted/.test(intent);
      const r = await cluster.kubectl(['apply', '-f', '-'], { input: text });
      const byModelgate = r.stderr.includes(DENIED_BY);
      if (r.code === 0) {
        say(green(`    ADMITTED: ${obj.metadata.name}`));
        await describeWorkload(cluster, obj.metadata.name);
      } else if (byModelgate) {
        say(red(`    REJECTED by the API server, with modelgate's reasons:`));
        const msg = r.stderr.slice(r.stderr.indexOf(DENIED_BY) + DENIED_BY.length).trim();
        for (const part of msg.split(/ (?=\(\d+\) )/)) say(wrap(part, '      '));
      } else {
        say(red(`    FAILED for another reason: ${r.stderr.trim()}`));
      }
      if ((r.code === 0) !== expectAdmit || (r.code !== 0 && !byModelgate)) {
        ok = false;
        say(red(`    UNEXPECTED: this workload should have been ${expectAdmit ? 'admitted' : 'rejected'}`));
      }
    }

    step('What the cluster admin sees');
    say(
      (await cluster.kubectl(['get', 'clustermodelpolicies'])).stdout
        .trim()
        .split('\n')
        .map((l) => `    ${l}`)
        .join('\n'),
    );
    say(
      `\n${ok ? green('Demo finished: every workload got the verdict it should.') : red('Demo finished with unexpected verdicts (see above).')}`,
    );
  } finally {
    if (keep) {
      say(
        `\nLeft running (--keep). kubectl --kubeconfig ${cluster.kubeconfigPath} ...; stop with: npm run cluster:down`,
      );
    } else {
      await removeNamespace(cluster, NS);
      await cluster.kubectl(['delete', 'clustermodelpolicy', 'production-models', '--ignore-not-found']);
      await mg.stop();
      await cluster.stop();
    }
  }
  process.exitCode = ok ? 0 : 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
