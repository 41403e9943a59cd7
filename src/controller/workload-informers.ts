// One informer per workload resource, shared by every reconciler that needs it: the audit follows all
// of them (a change in a namespace queues a scan of it) and asks them which namespaces hold which kinds;
// the verification results reconciler reads the Pods'. Each cache keeps only the facts these reconcilers
// use, never the object — a namespace (one shared string per namespace), a number that changes when the
// verdict inputs change, a flag, and for pods that ran the verifier its result — so 100,000 workloads
// cost a few tens of MiB. A Pod watch is the largest on any cluster, and there is exactly one.
import { createHash } from 'node:crypto';
import type pino from 'pino';
import type { Clock } from '../kube/clock.ts';
import { Informer } from '../kube/informer.ts';
import { PODS, WORKLOAD_RESOURCES } from '../kube/resources.ts';
import type { KubeClient, KubeObject, ResourceRef } from '../kube/types.ts';
import type { ControllerMetrics } from '../telemetry/metrics.ts';
import type { OciWorkloadReference } from '../policy/oci-evidence.ts';
import { controlledBySupportedKind } from './audit-evaluate.ts';
import type { PodVerification } from './verification.ts';

export interface WorkloadFacts {
  namespace: string;
  /** Changes when what decides the verdict may have: spec generation, labels, the models annotation. */
  stamp: number;
  /** Controlled by another supported kind (a ReplicaSet of a Deployment, ...): its owner is audited. */
  controlled: boolean;
  /** Pods only: the verifier's result, once its init container has terminated. */
  verification?: PodVerification;
  /** Digest-pinned OCI models the runtime enforces, for the OCI evidence reconciler (when it runs). */
  oci?: OciWorkloadReference[];
}

export interface WorkloadInformersDeps {
  client: KubeClient;
  clock: Clock;
  logger: pino.Logger;
  metrics?: ControllerMetrics;
  resources?: readonly ResourceRef[];
  /** What the Pod cache keeps of a pod's verifier result (verification.ts). */
  podVerification?: (pod: KubeObject) => PodVerification | undefined;
  /** The OCI models to resolve ahead of need (oci-evidence.ts), when that reconciler runs. */
  ociReferences?: (o: KubeObject) => OciWorkloadReference[];
}

/** Index of the objects the audit evaluates (not controlled by another audited kind), by namespace. */
export const AUDITED = 'audited';
/** Index of the pods with a verifier result, by namespace. */
export const VERIFIED = 'verified';

/** 48 bits of SHA-256: two different verdict inputs of one object practically never collide. */
function stampOf(o: KubeObject): number {
  const text = `${o.metadata.generation ?? o.metadata.resourceVersion}|${JSON.stringify(o.metadata.labels ?? {})}|${o.metadata.annotations?.['modelgate.io/models'] ?? ''}`;
  return parseInt(createHash('sha256').update(text).digest('hex').slice(0, 12), 16);
}

/** The facts the reconcilers keep of a workload. Pure. */
export function workloadFacts(
  o: KubeObject,
  podVerification?: (pod: KubeObject) => PodVerification | undefined,
  intern: (s: string) => string = (s) => s,
): WorkloadFacts {
  const verification = podVerification?.(o);
  return {
    namespace: intern(o.metadata.namespace ?? 'default'),
    stamp: stampOf(o),
    controlled: controlledBySupportedKind(o),
    ...(verification ? { verification } : {}),
  };
}

export class WorkloadInformers {
  private readonly byResource = new Map<string, Informer<WorkloadFacts>>();
  private readonly refs = new Map<Informer<WorkloadFacts>, ResourceRef>();
  /** One string per namespace name, shared by every object in it. */
  private readonly names = new Map<string, string>();

  constructor(d: WorkloadInformersDeps) {
    const intern = (s: string) => {
      const known = this.names.get(s);
      if (known !== undefined) return known;
      this.names.set(s, s);
      return s;
    };
    for (const ref of d.resources ?? WORKLOAD_RESOURCES) {
      const verification = ref.group === PODS.group && ref.resource === PODS.resource;
      const inf = new Informer<WorkloadFacts>({
        client: d.client,
        ref,
        clock: d.clock,
        logger: d.logger,
        transform: (o) => {
          const facts = workloadFacts(o, verification ? d.podVerification : undefined, intern);
          const oci = d.ociReferences?.(o);
          return oci && oci.length > 0 ? { ...facts, oci } : facts;
        },
        indexes: {
          [AUDITED]: (f) => (f.controlled ? undefined : f.namespace),
          ...(verification
            ? { [VERIFIED]: (f: WorkloadFacts) => (f.verification ? f.namespace : undefined) }
            : {}),
        },
        ...(d.metrics
          ? {
              onEvent: (what, reason) =>
                d.metrics?.informerEvents.inc({ resource: ref.resource, event: what, reason }),
            }
          : {}),
      });
      this.byResource.set(ref.resource, inf);
      this.refs.set(inf, ref);
    }
  }

  /** Namespaces holding at least one object the audit evaluates. */
  auditedNamespaces(): Set<string> {
    const out = new Set<string>();
    for (const inf of this.byResource.values()) for (const ns of inf.indexKeys(AUDITED)) out.add(ns);
    return out;
  }

  /** The kinds with objects the audit evaluates in `namespace`, in the order of the supported kinds. */
  auditedKinds(namespace: string): ResourceRef[] {
    const out: ResourceRef[] = [];
    for (const [inf, ref] of this.refs) if (inf.byIndex(AUDITED, namespace).size > 0) out.push(ref);
    return out;
  }

  /** Resolves once every informer has listed its resource (a kind not installed counts as listed). */
  async synced(): Promise<void> {
    await Promise.all([...this.byResource.values()].map((i) => i.waitForSync()));
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
