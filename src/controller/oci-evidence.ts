// OCI evidence reconciler (issue 17): resolves digest-pinned OCI models ahead of need and writes what it
// finds — manifest facts, the model-signing bundles attached to the manifest, a scan of its layers — into
// one ConfigMap per digest in modelgate's namespace, which every webhook replica reads through an
// informer (network stays off the admission path). Digests come from the workloads the controller
// watches and from the requests webhooks create when a decision misses a record.
//
// Bounded: records (least recently wanted first), concurrency, registry responses and scans (src/oci).
// A registry outage keeps a record's facts (positive verdicts keep serving) until they are older than
// `maxStaleMs`; a digest never resolved is recorded with the error, which admission refuses.
// Credentials: modelgate's own (a Docker config file) and the pull secrets of the workloads that want the
// digest (the Secrets are read by name, here in the controller, never by the webhook).
import type pino from 'pino';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../json/shape.ts';
import type { Clock, TimerHandle } from '../kube/clock.ts';
import { Informer } from '../kube/informer.ts';
import { CONFIG_MAPS, SECRETS, SERVICE_ACCOUNTS } from '../kube/resources.ts';
import { isObj, isStatus, type KubeClient, type KubeObject } from '../kube/types.ts';
import { WorkQueue } from '../kube/workqueue.ts';
import { CredentialError, Keyring } from '../oci/credentials.ts';
import {
  EVIDENCE_KEY,
  EVIDENCE_LABEL,
  EVIDENCE_REQUEST_LABEL,
  EVIDENCE_VERSION,
  EvidenceFormatError,
  evidenceObject,
  evidenceObjectName,
  parseEvidence,
  parseRequest,
  REQUEST_KEY,
  type OciEvidenceRecord,
} from '../oci/evidence.ts';
import type { LayerScanOptions } from '../oci/layer-scan.ts';
import { parseImageRef } from '../oci/reference.ts';
import { RegistryClient, RegistryError } from '../oci/registry.ts';
import { resolveEvidence } from '../oci/resolve.ts';
import type { PolicySnapshot } from '../policy/store.ts';
import type { SignatureVerdict } from '../signing/verify-signature.ts';
import type { TrustMaterial } from '../signing/trust.ts';

export interface OciEvidenceOptions {
  /** Docker config JSON text of modelgate's own registry credential (a mounted Secret), if any. */
  credentials?: string;
  /** Registries (host:port as in references) reached over plain HTTP. */
  insecureHosts?: readonly string[];
  /** Read the pull secrets (and service accounts) of the workloads that want a digest (default true). */
  pullSecrets?: boolean;
  scan?: LayerScanOptions;
  /** Re-resolve a record with a verified signature after this long (default 10 min). */
  refreshMs?: number;
  /** Re-resolve a record without one, or that failed, after this long (default 1 min). */
  retryMs?: number;
  /** Keep serving the facts of a record whose refreshes fail for this long (default 24 h). */
  maxStaleMs?: number;
  /** Delete records nothing has wanted for this long (default 24 h). */
  unusedMs?: number;
  /** At most this many records (default 2,000). */
  maxRecords?: number;
  /** Registry request timeout (default 10 s). */
  timeoutMs?: number;
  /** Injected for tests. */
  fetch?: typeof fetch;
}

export interface OciEvidenceDeps extends OciEvidenceOptions {
  client: KubeClient;
  clock: Clock;
  logger: pino.Logger;
  namespace: string;
  snapshot: () => PolicySnapshot;
  verify: (bundle: Uint8Array, trust: TrustMaterial) => SignatureVerdict;
}

/** Who wants a digest: the repository to look in and whose credentials may pull it. */
interface Want {
  uri: string;
  /** namespace -> pull secret names (and the service account, whose imagePullSecrets count). */
  pullers: Map<string, { secrets: Set<string>; serviceAccounts: Set<string> }>;
  /** Wanted by a watched workload (kept as long as it exists) or by a request (until unusedMs). */
  workloads: Set<string>;
  lastWanted: number;
  /** A request asked for a fresh look (a decision missed or found the record lacking). */
  requested: boolean;
}

const MAX_WANTS = 10_000;

export class OciEvidenceReconciler {
  private readonly requests: Informer;
  private readonly records: Informer;
  private readonly queue: WorkQueue;
  private readonly wants = new Map<string, Want>();
  private readonly base = new Keyring();
  private trustFingerprint = '';
  private timer: TimerHandle | undefined;
  private stopped = true;
  private readonly abort = new AbortController();
  /** Scans run one at a time (each streams a model's layers through the scanner). */
  private scanning: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: OciEvidenceDeps) {
    if (d.credentials !== undefined)
      this.base.addDockerConfig(d.credentials, 'modelgate registry credentials');
    const informer = (label: string) =>
      new Informer({
        client: d.client,
        ref: CONFIG_MAPS,
        clock: d.clock,
        logger: d.logger,
        namespace: d.namespace,
        labelSelector: `${label}=true`,
      });
    this.requests = informer(EVIDENCE_REQUEST_LABEL);
    this.records = informer(EVIDENCE_LABEL);
    this.requests.addHandlers({ onAdd: (o) => this.requested(o), onUpdate: (o) => this.requested(o) });
    this.queue = new WorkQueue(
      {
        name: 'oci-evidence',
        clock: d.clock,
        logger: d.logger,
        concurrency: 2,
        maxDepth: MAX_WANTS,
        maxRetries: 5,
      },
      (digest) => this.reconcile(digest),
    );
  }

  start(): void {
    this.stopped = false;
    this.requests.start();
    this.records.start();
    this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.d.clock.clearTimeout(this.timer);
    this.abort.abort();
    this.requests.stop();
    this.records.stop();
    await this.queue.stop();
  }

  /** Waits until nothing is queued or running (tests). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** A watched workload wants these digests (the workload informers call this on every add/update). */
  workloadWants(
    key: string,
    namespace: string,
    refs: readonly { digest: string; uri: string; pullSecrets: string[]; serviceAccount: string }[],
  ): void {
    for (const r of refs) {
      const w = this.want(r.digest, r.uri, namespace, r.pullSecrets, r.serviceAccount);
      if (!w) continue;
      const isNew = !w.workloads.has(key);
      w.workloads.add(key);
      if (isNew && this.due(r.digest)) this.queue.add(r.digest);
    }
  }

  /** A watched workload is gone. */
  workloadGone(key: string): void {
    for (const w of this.wants.values()) w.workloads.delete(key);
  }

  private want(
    digest: string,
    uri: string,
    namespace: string,
    secrets: readonly string[],
    serviceAccount?: string,
  ): Want | undefined {
    if (!this.policyNeeds(namespace)) return undefined;
    let w = this.wants.get(digest);
    if (!w) {
      if (this.wants.size >= MAX_WANTS) return undefined;
      w = { uri, pullers: new Map(), workloads: new Set(), lastWanted: 0, requested: false };
      this.wants.set(digest, w);
    }
    w.lastWanted = this.d.clock.now();
    const p = w.pullers.get(namespace) ?? { secrets: new Set<string>(), serviceAccounts: new Set<string>() };
    for (const s of secrets.slice(0, 16)) if (p.secrets.size < 16) p.secrets.add(s);
    if (serviceAccount && p.serviceAccounts.size < 4) p.serviceAccounts.add(serviceAccount);
    if (w.pullers.size < 64 || w.pullers.has(namespace)) w.pullers.set(namespace, p);
    return w;
  }

  /** Only digests some policy with authorities could need in that namespace are looked up. */
  private policyNeeds(namespace: string): boolean {
    const snap = this.d.snapshot();
    const labels = snap.cluster.namespaceLabels(namespace) ?? { 'kubernetes.io/metadata.name': namespace };
    return snap.policies.policies.some(
      (p) =>
        p.authorities.length > 0 &&
        (p.namespace === undefined || p.namespace === namespace) &&
        p.matchesNamespace(labels),
    );
  }

  private requested(o: KubeObject): void {
    const text = isObj(o.data) && typeof o.data[REQUEST_KEY] === 'string' ? o.data[REQUEST_KEY] : undefined;
    let req;
    try {
      req = text === undefined ? undefined : parseRequest(text);
    } catch (err) {
      if (!(err instanceof EvidenceFormatError)) throw err;
    }
    if (!req) {
      void this.deleteQuietly(o.metadata.name);
      return;
    }
    const w = this.want(
      req.digest,
      `oci://${req.repository}@${req.digest}`,
      req.namespace,
      req.pullSecrets,
      req.serviceAccount,
    );
    if (!w) {
      void this.deleteQuietly(o.metadata.name);
      return;
    }
    w.requested = true;
    this.queue.add(req.digest);
  }

  private record(digest: string): OciEvidenceRecord | undefined {
    const o = this.records.get(`${this.d.namespace}/${evidenceObjectName(digest)}`);
    const text =
      o && isObj(o.data) && typeof o.data[EVIDENCE_KEY] === 'string' ? o.data[EVIDENCE_KEY] : undefined;
    try {
      return text === undefined ? undefined : parseEvidence(text);
    } catch {
      return undefined;
    }
  }

  /** Is the digest's record missing or old enough to look again? */
  private due(digest: string): boolean {
    const r = this.record(digest);
    if (!r) return true;
    const verified = (r.signatures?.bundles.length ?? 0) > 0 && r.error === undefined;
    const every = verified ? (this.d.refreshMs ?? 600_000) : (this.d.retryMs ?? 60_000);
    return this.d.clock.now() - r.checkedAt >= every;
  }

  /** Every policy's trust material: bundles that verify under it are kept first, and scanned for. */
  private trust(): TrustMaterial[] {
    const out = new Map<string, TrustMaterial>();
    for (const p of this.d.snapshot().policies.policies)
      for (const a of p.authorities) out.set(a.fingerprint, a.trust);
    return [...out.values()];
  }

  /**
   * Pickle globals a scan may treat as data: every global some policy allows. The scan records which of
   * them the model uses, and a policy accepts its verdict only if it allows each of those, so every
   * workload gets what the intersection of its policies' lists would give (src/policy/oci-evidence.ts).
   */
  private allowGlobals(): string[] {
    return [...new Set(this.d.snapshot().policies.policies.flatMap((p) => p.allowPickleGlobals))].sort();
  }

  /** Periodic: refresh what is wanted and due, forget and delete what is not, keep the count bounded. */
  private tick(): void {
    if (this.stopped) return;
    const now = this.d.clock.now();
    // Trust or allowed globals changed: every wanted digest is looked at again (bundles that verify now
    // are kept first; a scan with problems is redone when a policy allows more).
    const fp = createHash('sha256')
      .update(canonicalJson([[...this.trust().map((t) => canonicalJson(t))].sort(), this.allowGlobals()]))
      .digest('hex');
    const trustChanged = this.trustFingerprint !== '' && fp !== this.trustFingerprint;
    this.trustFingerprint = fp;
    const unused = this.d.unusedMs ?? 86_400_000;
    for (const [digest, w] of this.wants) {
      if (w.workloads.size === 0 && now - w.lastWanted > unused) {
        this.wants.delete(digest);
        continue;
      }
      if (trustChanged) w.requested = true;
      if (trustChanged || this.due(digest)) this.queue.add(digest);
    }
    // Records nobody wants any more, and the oldest beyond the bound, are deleted.
    const records = this.records.list().map((o) => ({
      name: o.metadata.name,
      digest: `sha256:${o.metadata.name.replace(/^modelgate-oci-/, '')}`,
      checkedAt: this.record(`sha256:${o.metadata.name.replace(/^modelgate-oci-/, '')}`)?.checkedAt ?? 0,
    }));
    const unwanted = records.filter((r) => !this.wants.has(r.digest) && now - r.checkedAt > unused);
    const overflow = Math.max(0, records.length - (this.d.maxRecords ?? 2000));
    const byAge = records
      .filter((r) => !this.wants.get(r.digest)?.workloads.size)
      .sort((a, b) => a.checkedAt - b.checkedAt);
    for (const r of new Set([...unwanted, ...byAge.slice(0, overflow)])) void this.deleteRecord(r.name);
    const period = Math.min(this.d.refreshMs ?? 600_000, this.d.retryMs ?? 60_000) / 2;
    this.timer = this.d.clock.setTimeout(() => this.tick(), Math.min(30_000, Math.max(1000, period)));
  }

  private async deleteRecord(name: string): Promise<void> {
    try {
      await this.d.client.delete(CONFIG_MAPS, name, this.d.namespace);
    } catch (err) {
      if (!isStatus(err, 404))
        this.d.logger.warn({ err: (err as Error).message, name }, 'cannot delete an OCI evidence record');
    }
  }

  private async deleteQuietly(name: string): Promise<void> {
    try {
      await this.d.client.delete(CONFIG_MAPS, name, this.d.namespace);
    } catch {
      // gone already, or the next tick retries
    }
  }

  /** Credentials for one resolution: modelgate's own, then the pull secrets of every namespace that wants it. */
  private async keyring(w: Want): Promise<Keyring> {
    const keys = new Keyring();
    if (this.d.credentials !== undefined)
      keys.addDockerConfig(this.d.credentials, 'modelgate registry credentials');
    if (this.d.pullSecrets === false) return keys;
    for (const [namespace, p] of w.pullers) {
      const names = new Set(p.secrets);
      for (const sa of p.serviceAccounts) {
        const o = await this.d.client.get(SERVICE_ACCOUNTS, sa, namespace).catch(() => undefined);
        for (const s of Array.isArray(o?.imagePullSecrets) ? o.imagePullSecrets : [])
          if (isObj(s) && typeof s.name === 'string' && names.size < 16) names.add(s.name);
      }
      for (const name of names) {
        const secret = await this.d.client.get(SECRETS, name, namespace).catch((err: unknown) => {
          this.d.logger.info(
            { secret: `${namespace}/${name}`, err: (err as Error).message },
            "cannot read a pull secret for an OCI model: the registry is asked without it, so a private model's signature will not be found; check that the Secret exists and that modelgate's controller may get Secrets in this namespace (the chart's pullSecrets RBAC)",
          );
          return undefined;
        });
        const data = secret && isObj(secret.data) ? secret.data : {};
        const text =
          typeof data['.dockerconfigjson'] === 'string'
            ? data['.dockerconfigjson']
            : typeof data['.dockercfg'] === 'string'
              ? data['.dockercfg']
              : undefined;
        if (text === undefined) continue;
        try {
          keys.addDockerConfig(Buffer.from(text, 'base64').toString('utf8'), `Secret ${namespace}/${name}`);
        } catch (err) {
          if (!(err instanceof CredentialError)) throw err;
          this.d.logger.info(
            { secret: `${namespace}/${name}`, err: err.message },
            'a pull secret for an OCI model does not hold valid registry credentials: the registry is asked without it; fix its .dockerconfigjson (kubectl create secret docker-registry writes a valid one)',
          );
        }
      }
    }
    return keys;
  }

  private async reconcile(digest: string): Promise<void> {
    if (this.stopped) return;
    const w = this.wants.get(digest);
    if (!w) return;
    if (!w.requested && !this.due(digest)) return;
    const previous = this.record(digest);
    const now = this.d.clock.now();
    let record: OciEvidenceRecord;
    let repo;
    try {
      repo = parseImageRef(w.uri);
    } catch (err) {
      this.d.logger.info({ digest, uri: w.uri, err: (err as Error).message }, 'not an OCI reference');
      this.wants.delete(digest);
      return;
    }
    try {
      const keys = await this.keyring(w);
      const client = new RegistryClient({
        credentials: (r) => keys.lookup(r),
        insecureHosts: new Set(this.d.insecureHosts ?? []),
        timeoutMs: this.d.timeoutMs ?? 10_000,
        signal: this.abort.signal,
        ...(this.d.fetch ? { fetch: this.d.fetch } : {}),
      });
      const started = this.d.clock.now();
      record = await resolveEvidence(repo, digest, {
        client,
        trust: this.trust(),
        verify: this.d.verify,
        now: () => this.d.clock.now(),
        ...(this.d.scan ? { scan: this.d.scan } : {}),
        allowGlobals: this.allowGlobals(),
        ...(previous?.scan?.status === 'complete' ? { reuseScan: previous.scan } : {}),
        runScan: (scan) => {
          const run = this.scanning.then(scan, scan);
          this.scanning = run.catch(() => undefined);
          return run;
        },
      });
      this.d.logger.info(
        {
          digest,
          repository: record.repository,
          bundles: record.signatures?.bundles.length ?? 0,
          scan: record.scan?.status,
          error: record.error,
          ms: this.d.clock.now() - started,
        },
        'resolved OCI evidence',
      );
    } catch (err) {
      if (!(err instanceof RegistryError)) throw err;
      // An outage: keep what was known (a positive verdict keeps serving) until it is too old.
      const stale =
        previous?.resolvedAt !== undefined && now - previous.resolvedAt > (this.d.maxStaleMs ?? 86_400_000);
      record =
        previous && previous.manifest && !stale
          ? { ...previous, checkedAt: now, error: err.message }
          : {
              version: EVIDENCE_VERSION,
              digest,
              repository: `${repo.registry}/${repo.repository}`,
              checkedAt: now,
              error: err.message,
            };
      this.d.logger.warn(
        { digest, err: err.message, kept: record.manifest !== undefined },
        'registry unreachable while resolving OCI evidence',
      );
    }
    if (this.stopped) return;
    await this.write(record);
    w.requested = false;
    for (const o of this.requests.list()) {
      const text = isObj(o.data) && typeof o.data[REQUEST_KEY] === 'string' ? o.data[REQUEST_KEY] : '';
      if (text.includes(digest)) await this.deleteQuietly(o.metadata.name);
    }
  }

  private async write(record: OciEvidenceRecord): Promise<void> {
    const want = evidenceObject(record, this.d.namespace) as unknown as KubeObject;
    const current =
      this.records.get(`${this.d.namespace}/${want.metadata.name}`) ??
      (await this.d.client.get(CONFIG_MAPS, want.metadata.name, this.d.namespace));
    if (current)
      await this.d.client.replace(CONFIG_MAPS, {
        ...want,
        metadata: { ...want.metadata, resourceVersion: current.metadata.resourceVersion },
      });
    else await this.d.client.create(CONFIG_MAPS, want);
  }
}
