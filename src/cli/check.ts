// modelgate check: evaluate policies against manifests offline, like `kyverno apply`.
// Exit 0: every object admitted; 1: any denied; 2: unusable input (names the file, field and problem).
import { VerdictCache } from '../signing/index.ts';
import { DEFAULT_VERIFIER_IMAGE, verifierDecideOptions } from '../mutation/index.ts';
import { decide, type DecideOptions } from '../policy/decide.ts';
import type { PolicySnapshot } from '../policy/store.ts';
import type { Decision } from '../policy/types.ts';
import { buildSnapshot } from '../policy-store/file-store.ts';
import { loadManifests, ManifestError } from '../policy-store/manifests.ts';
import { renderText, toJsonResult, type CheckedObject } from './check-report.ts';
import { extractModelReferences } from '../workloads/extract.ts';
import { outputFormat, parseFlags, UsageError } from './args.ts';

const USAGE = `usage: modelgate check --policy <file|dir> [--policy ...] [--cluster <file>] [--namespace <ns>] [--verifier-image <img>] [--output text|json] <manifest file|dir>...

Evaluates ClusterModelPolicy/ModelPolicy objects against workload manifests, offline.
  --policy     policy files or directories (repeatable)
  --cluster    YAML with the cluster objects decisions read: Namespaces (labels), RuntimeClasses,
               ConfigMaps labelled modelgate.io/bundle=true (signature bundles, trusted roots), Secrets (keys)
  --namespace  namespace for manifests that do not set one (default "default")
  --verifier-image  the installation's verifier image (the webhook's --verifier-image, default
               ${DEFAULT_VERIFIER_IMAGE}): pods carrying that verifier are judged as the webhook judges them
  --output     text (default) or json
Exit status: 0 all admitted, 1 some denied, 2 unusable input.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      policy: { type: 'string', multiple: true },
      cluster: { type: 'string', multiple: true },
      namespace: { type: 'string' },
      'verifier-image': { type: 'string' },
      output: { type: 'string' },
    },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const output = outputFormat(values.output);
  const policyPaths = (values.policy as string[] | undefined) ?? [];
  if (policyPaths.length === 0) throw new UsageError(`--policy is required\n\n${USAGE}`);
  if (positionals.length === 0)
    throw new UsageError(`give at least one manifest file or directory\n\n${USAGE}`);
  const defaultNs = (values.namespace as string | undefined) ?? 'default';

  let snapshot;
  let manifests;
  try {
    snapshot = buildSnapshot(
      loadManifests(policyPaths),
      loadManifests((values.cluster as string[] | undefined) ?? []),
      'modelgate-system',
    );
    manifests = loadManifests(positionals);
  } catch (err) {
    if (err instanceof ManifestError) {
      process.stderr.write(`modelgate check: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (snapshot.errors.length > 0) {
    for (const e of snapshot.errors)
      process.stderr.write(`modelgate check: invalid policy in ${e.source}: ${e.message}\n`);
    return 2;
  }

  // The webhook's verifier and cache: a bundle shared by many manifests is verified once.
  const verdicts = new VerdictCache();
  // What the webhook adds to every decision: the verifier container it injects is judged the same way.
  const admission = verifierDecideOptions({
    image: (values['verifier-image'] as string | undefined) || DEFAULT_VERIFIER_IMAGE,
  });
  const results: CheckedObject[] = [];
  for (const m of manifests) {
    if (!extractModelReferences(m.object)) continue;
    const meta = (m.object.metadata ?? {}) as { name?: string; namespace?: string; generateName?: string };
    const namespace = meta.namespace ?? defaultNs;
    const decision = checkDecision(m.object, namespace, snapshot, {
      verifyBundle: (b, t) => verdicts.verify(b, t),
      ...admission,
    });
    results.push({
      kind: String(m.object.kind),
      namespace,
      name: meta.name ?? meta.generateName ?? '(unnamed)',
      decision,
    });
  }

  if (output === 'json') {
    process.stdout.write(JSON.stringify({ results: results.map(toJsonResult) }) + '\n');
  } else {
    if (results.length === 0)
      process.stdout.write('No model-serving workloads found in the given manifests.\n');
    for (const r of results) process.stdout.write(renderText(r) + '\n\n');
    const denied = results.filter((r) => !r.decision.allowed).length;
    process.stdout.write(
      `${results.length} workload(s) checked against ${snapshot.policies.size} polic${snapshot.policies.size === 1 ? 'y' : 'ies'}: ${results.length - denied} admitted, ${denied} denied.\n`,
    );
  }
  return results.some((r) => !r.decision.allowed) ? 1 : 0;
}

/**
 * The decision `modelgate check` reaches for one manifest: the webhook's, for an object being created
 * (offline, no mutation: a pod must already carry the verifier its policies require).
 */
export function checkDecision(
  object: unknown,
  namespace: string,
  snapshot: PolicySnapshot,
  options: DecideOptions,
): Decision {
  return decide({ operation: 'CREATE', object, namespace }, snapshot.policies, snapshot.cluster, options);
}
