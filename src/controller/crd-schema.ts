// Is the installed CRD schema the one this controller was built with? Helm installs CRDs but never
// upgrades them, so after `helm upgrade` the API server may still validate policies against an older
// schema (missing fields are pruned, new CEL rules do not apply). The controller reads the CRDs'
// schema-digest annotation, compares it with its own, and every policy's status carries the answer
// (condition CRDSchemaCurrent), so `kubectl get cmp -o yaml` shows it where a platform team looks.
import type pino from 'pino';
import { CRD_NAMES, expectedSchemaDigest, SCHEMA_DIGEST_ANNOTATION } from '../api/crd.ts';
import type { PolicyKind } from '../api/types.ts';
import type { Clock, TimerHandle } from '../kube/clock.ts';
import type { KubeClient, KubeObject, ResourceRef } from '../kube/types.ts';

export const CUSTOM_RESOURCE_DEFINITIONS: ResourceRef = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  resource: 'customresourcedefinitions',
  kind: 'CustomResourceDefinition',
  namespaced: false,
};

export interface SchemaState {
  current: boolean;
  message: string;
}

/** Pure: what the installed CRDs say, against this build's schema digests. */
export function schemaState(installed: Partial<Record<PolicyKind, KubeObject | undefined>>): SchemaState {
  const stale: string[] = [];
  for (const kind of ['ClusterModelPolicy', 'ModelPolicy'] as const) {
    const have = installed[kind]?.metadata.annotations?.[SCHEMA_DIGEST_ANNOTATION];
    const want = expectedSchemaDigest(kind);
    if (have !== want)
      stale.push(
        `${CRD_NAMES[kind]} (${have ? `schema ${have}` : 'no schema digest: installed by an older modelgate'}, this controller's is ${want})`,
      );
  }
  return stale.length === 0
    ? { current: true, message: "the installed CRDs carry this controller's schema" }
    : {
        current: false,
        message: `the installed CRD ${stale.join(' and ')} is not the one this controller was built with, so the API server validates policies against another schema (new fields pruned, new rules not applied). Helm does not upgrade CRDs: kubectl apply --server-side -f charts/modelgate/crds/`,
      };
}

export interface CrdSchemaCheckerDeps {
  client: KubeClient;
  clock: Clock;
  logger: pino.Logger;
  /** Called when the answer changes. */
  onChange: (s: SchemaState) => void;
  intervalMs?: number;
}

/** Reads the two CRDs at start and periodically; unknown until the first read succeeds. */
export class CrdSchemaChecker {
  private state: SchemaState | undefined;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(private readonly d: CrdSchemaCheckerDeps) {}

  current(): SchemaState | undefined {
    return this.state;
  }

  start(): void {
    void this.check();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.d.clock.clearTimeout(this.timer);
  }

  private async check(): Promise<void> {
    try {
      const [cmp, mp] = await Promise.all([
        this.d.client.get(CUSTOM_RESOURCE_DEFINITIONS, CRD_NAMES.ClusterModelPolicy),
        this.d.client.get(CUSTOM_RESOURCE_DEFINITIONS, CRD_NAMES.ModelPolicy),
      ]);
      const next = schemaState({ ClusterModelPolicy: cmp, ModelPolicy: mp });
      if (next.current !== this.state?.current || next.message !== this.state?.message) {
        this.state = next;
        if (!next.current) this.d.logger.warn({ reason: next.message }, 'installed CRDs are out of date');
        this.d.onChange(next);
      }
    } catch (err) {
      this.d.logger.warn(
        { err: (err as Error).message },
        'cannot read the modelgate CRDs to compare their schema (does the controller role allow get on customresourcedefinitions?); will retry',
      );
    }
    if (!this.stopped)
      this.timer = this.d.clock.setTimeout(() => void this.check(), this.d.intervalMs ?? 600_000);
  }
}
