// When a decision needed registry evidence for an OCI digest and the cluster view had no record (issue
// 17), the webhook asks the controller for one by creating a request ConfigMap in modelgate's namespace —
// after answering: the request is never on the admission path. The controller resolves the digest with
// the workload's pull secrets, writes the record, and a retry of the same request is then decided from
// it. Bounded: one request per (namespace, digest) per interval, a cap on requests in flight and on the
// keys remembered. The webhook's RBAC grows by `create` on ConfigMaps in its own namespace, nothing more.
import type pino from 'pino';
import { CONFIG_MAPS } from '../kube/resources.ts';
import { isStatus, type KubeClient, type KubeObject } from '../kube/types.ts';
import { requestObject } from '../oci/evidence.ts';
import { parseImageRef } from '../oci/reference.ts';
import { ociReferencesOf } from '../policy/oci-evidence.ts';
import type { OciEvidenceMiss } from '../policy/types.ts';

export interface OciEvidenceRequesterDeps {
  client: KubeClient;
  /** modelgate's namespace (where the controller reads requests). */
  namespace: string;
  logger: pino.Logger;
  now?: () => number;
  /** The same (namespace, digest) is asked for at most once per interval (default 15 s). */
  minIntervalMs?: number;
  maxInFlight?: number;
}

const MAX_REMEMBERED = 10_000;

export class OciEvidenceRequester {
  private readonly asked = new Map<string, number>();
  private inFlight = 0;
  readonly sent: string[] = [];

  constructor(private readonly d: OciEvidenceRequesterDeps) {}

  /** Fire and forget: never throws, never waits. */
  request(misses: readonly OciEvidenceMiss[], object: unknown, namespace: string): void {
    const now = (this.d.now ?? Date.now)();
    // Read the object's pull secrets only for a miss that will really be asked about: most reviews of a
    // missing digest fall within the interval, and reading them means extracting the workload again.
    let refs: ReturnType<typeof ociReferencesOf> | undefined;
    for (const miss of misses) {
      const key = `${namespace}\u0000${miss.digest}`;
      const last = this.asked.get(key);
      if (last !== undefined && now - last < (this.d.minIntervalMs ?? 15_000)) continue;
      if (this.inFlight >= (this.d.maxInFlight ?? 16)) return;
      let repository: string;
      try {
        const r = parseImageRef(miss.uri);
        repository = `${r.registry}/${r.repository}`;
      } catch {
        continue;
      }
      refs ??= ociReferencesOf(object);
      const ref = refs.find((r) => r.digest === miss.digest);
      this.asked.delete(key);
      this.asked.set(key, now);
      while (this.asked.size > MAX_REMEMBERED) this.asked.delete(this.asked.keys().next().value ?? '');
      const body = requestObject(
        {
          digest: miss.digest,
          repository,
          namespace,
          pullSecrets: ref?.pullSecrets ?? [],
          ...(ref ? { serviceAccount: ref.serviceAccount } : {}),
          requestedAt: now,
        },
        this.d.namespace,
      ) as unknown as KubeObject;
      this.inFlight++;
      void this.d.client
        .create(CONFIG_MAPS, body)
        .then(() => this.sent.push(miss.digest))
        .catch((err: unknown) => {
          // AlreadyExists: the controller has not picked up the last one yet, which is as good.
          if (!isStatus(err, 409))
            this.d.logger.warn(
              { digest: miss.digest, err: (err as Error).message },
              'cannot ask the controller for OCI evidence; the workload is refused until a record exists (check the webhook can create ConfigMaps in its namespace)',
            );
        })
        .finally(() => this.inFlight--);
    }
  }
}
