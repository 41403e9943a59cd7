// One informer per workload resource, shared by every reconciler that needs it: the audit follows all
// of them (a change in a namespace queues a scan of it), the verification results reconciler reads the
// Pods'. Each cache keeps only the facts these reconcilers use, never the object: a Pod watch is the
// largest on any cluster, and there is exactly one.
import type pino from 'pino';
import type { Clock } from '../kube/clock.ts';
import { Informer } from '../kube/informer.ts';
import { PODS, WORKLOAD_RESOURCES } from '../kube/resources.ts';
import type { KubeClient, KubeObject, ResourceRef } from '../kube/types.ts';
import type { ControllerMetrics } from '../telemetry/metrics.ts';
import { controlledBySupportedKind } from './audit-evaluate.ts';
import type { PodVerification } from './verification.ts';

export interface WorkloadFacts {
  namespace: string;
  /** What tells a meaningful change apart: spec generation, labels, the models annotation. */
  stamp: string;
  /** Controlled by another supported kind (a ReplicaSet of a Deployment, ...): its owner is audited. */
  controlled: boolean;
  /** Pods only: the verifier's result, once its init container has terminated. */
  verification?: PodVerification;
}

export interface WorkloadInformersDeps {
  client: KubeClient;
  clock: Clock;
  logger: pino.Logger;
  metrics?: ControllerMetrics;
  resources?: readonly ResourceRef[];
  /** What the Pod cache keeps of a pod's verifier result (verification.ts). */
  podVerification?: (pod: KubeObject) => PodVerification | undefined;
}

/** The facts the reconcilers keep of a workload. Pure. */
export function workloadFacts(
  o: KubeObject,
  podVerification?: (pod: KubeObject) => PodVerification | undefined,
): WorkloadFacts {
  const verification = podVerification?.(o);
  return {
    namespace: o.metadata.namespace ?? 'default',
    stamp: `${o.metadata.generation ?? o.metadata.resourceVersion}|${JSON.stringify(o.metadata.labels ?? {})}|${JSON.stringify(o.metadata.annotations?.['modelgate.io/models'] ?? '')}`,
    controlled: controlledBySupportedKind(o),
    ...(verification ? { verification } : {}),
  };
}

export class WorkloadInformers {
  private readonly byResource = new Map<string, Informer<WorkloadFacts>>();

  constructor(d: WorkloadInformersDeps) {
    for (const ref of d.resources ?? WORKLOAD_RESOURCES) {
      const verification = ref.group === PODS.group && ref.resource === PODS.resource;
      this.byResource.set(
        ref.resource,
        new Informer<WorkloadFacts>({
          client: d.client,
          ref,
          clock: d.clock,
          logger: d.logger,
          transform: (o) => workloadFacts(o, verification ? d.podVerification : undefined),
          ...(d.metrics
            ? {
                onEvent: (what, reason) =>
                  d.metrics?.informerEvents.inc({ resource: ref.resource, event: what, reason }),
              }
            : {}),
        }),
      );
    }
  }

  all(): Informer<WorkloadFacts>[] {
    return [...this.byResource.values()];
  }

  /** The one Pod informer. */
  get pods(): Informer<WorkloadFacts> | undefined {
    return this.byResource.get(PODS.resource);
  }

  start(): void {
    for (const i of this.byResource.values()) i.start();
  }

  stop(): void {
    for (const i of this.byResource.values()) i.stop();
  }

  hasSynced(): boolean {
    return [...this.byResource.values()].every((i) => i.hasSynced());
  }
}
