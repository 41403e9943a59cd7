// A PolicyStore backed by files: policies from --policy-dir (or files), cluster objects (Namespaces,
// RuntimeClasses, ConfigMaps, Secrets) from --cluster-file. Used by `modelgate check`, by the webhook
// without a cluster, and by tests. Files are read at start and on reload(), never on the request path.
import { MemoryClusterView } from '../policy/cluster-view.ts';
import { compilePolicy, type CompiledPolicy } from '../policy/compile.ts';
import { trustProblem } from '../signing/trust.ts';
import { loadManifests, type LoadedObject } from './manifests.ts';
import { PolicySet } from '../policy/policy-set.ts';
import type { PolicyError, PolicySnapshot, PolicyStore } from '../policy/store.ts';
import { policyKindOf } from '../api/validate.ts';

export interface FileStoreOptions {
  policyPaths: string[];
  clusterPaths?: string[];
  controllerNamespace?: string;
}

/** Compiles every policy object; other objects in policy files are an error (they belong in --cluster). */
export function buildSnapshot(
  policyObjects: LoadedObject[],
  clusterObjects: LoadedObject[],
  controllerNamespace: string,
): PolicySnapshot {
  // OCI evidence records (ConfigMaps the controller writes) count only from modelgate's namespace.
  const cluster = new MemoryClusterView({ evidenceNamespace: controllerNamespace });
  for (const o of clusterObjects) cluster.upsert(o.object);
  const compiled: CompiledPolicy[] = [];
  const errors: PolicyError[] = [];
  const seen = new Set<string>();
  for (const o of policyObjects) {
    const where = `${o.file} (document ${o.doc})`;
    if (!policyKindOf(o.object)) {
      errors.push({
        source: where,
        reason: 'InvalidSpec',
        message: `kind ${JSON.stringify(o.object.kind)} is not ClusterModelPolicy or ModelPolicy`,
      });
      continue;
    }
    const r = compilePolicy(o.object, cluster, { controllerNamespace, validateTrust: trustProblem });
    // A policy that does not compile still applies, failing closed (CompiledPolicy.broken).
    if (!r.ok) errors.push({ source: where, reason: r.reason, message: r.message });
    if (seen.has(r.policy.id)) {
      errors.push({ source: where, reason: 'InvalidSpec', message: `${r.policy.id} is defined twice` });
      continue;
    }
    seen.add(r.policy.id);
    compiled.push(r.policy);
  }
  return { policies: new PolicySet(compiled), cluster, errors };
}

export class FilePolicyStore implements PolicyStore {
  private current: PolicySnapshot | undefined;
  private readonly listeners: ((s: PolicySnapshot) => void)[] = [];
  constructor(private readonly options: FileStoreOptions) {}

  /** Re-reads the files. Throws ManifestError (naming the file) when a file cannot be read or parsed. */
  reload(): PolicySnapshot {
    const snap = buildSnapshot(
      loadManifests(this.options.policyPaths),
      this.options.clusterPaths?.length ? loadManifests(this.options.clusterPaths) : [],
      this.options.controllerNamespace ?? 'modelgate-system',
    );
    this.current = snap;
    for (const l of this.listeners) l(snap);
    return snap;
  }

  snapshot(): PolicySnapshot {
    return this.current ?? this.reload();
  }
  ready(): boolean {
    return this.current !== undefined;
  }
  onChange(listener: (s: PolicySnapshot) => void): void {
    this.listeners.push(listener);
  }
  async start(): Promise<void> {
    this.reload();
  }
  async stop(): Promise<void> {}
}
