// The one place reports are written (the audit's and the verification results'). It finds which report
// API the cluster serves — the first of `apis` whose CRD is installed: openreports.io Reports, then
// wgpolicyk8s.io PolicyReports, so exactly one of them is written unless the operator asks for both
// (`--reports=both`) — and says once, in one log line, when none is installed: the reconcilers then go
// on with Events, metrics and policy status.
//
// A sync of one writer's reports is a batch: `begin` lists the existing ones (paginated, keeping only a
// content digest per namespace), `put` writes a namespace's report when its content changed, `finish`
// deletes the ones no `put` claimed. Memory is one digest per namespace, not the reports.
import type pino from 'pino';
import type { Clock } from '../kube/clock.ts';
import { isStatus, KubeApiError, type KubeClient } from '../kube/types.ts';
import {
  OPEN_REPORTS_API,
  REPORT_LABEL,
  reportContentDigest,
  WGPOLICY_REPORTS,
  type ReportApi,
  type ReportContent,
} from './reports.ts';

export interface ReportWriterDeps {
  client: KubeClient;
  clock: Clock;
  logger: pino.Logger;
  /**
   * Report APIs in order of preference: the first one served is written (default: openreports.io
   * Reports, then wgpolicyk8s.io PolicyReports).
   */
  apis?: readonly ReportApi[];
  /** Write every served API of `apis`, not only the first (only when the operator asks: --reports=both). */
  all?: boolean;
  /** How long the answer to "which API is served" holds (default 60 s): a CRD installed later is found. */
  recheckMs?: number;
  pageSize?: number;
}

interface ExistingReport {
  resourceVersion: string;
  digest: string;
}

/** A namespace being deleted refuses new objects with 403 "…is being terminated"; its reports go with it. */
const namespaceGoing = (err: unknown) =>
  isStatus(err, 404) || (err instanceof KubeApiError && err.status === 403 && /terminat/i.test(err.message));

interface Target {
  api: ReportApi;
  existing: Map<string, ExistingReport>;
}

export class ReportBatch {
  private readonly claimed = new Set<string>();

  constructor(
    private readonly w: ReportWriter,
    private readonly targets: readonly Target[],
    readonly name: string,
  ) {}

  /** The (first) API this batch writes. */
  get api(): ReportApi {
    return this.targets[0]!.api;
  }

  /** Writes the report of `content.namespace` (to each API of the batch) unless the existing one says the same. */
  async put(content: ReportContent): Promise<void> {
    this.claimed.add(content.namespace);
    for (const t of this.targets) {
      const want = t.api.build(content);
      const cur = t.existing.get(content.namespace);
      if (cur && cur.digest === reportContentDigest(want)) continue;
      const client = this.w.client;
      try {
        if (cur)
          await client.replace(t.api.ref, {
            ...want,
            metadata: { ...want.metadata, resourceVersion: cur.resourceVersion },
          });
        else await client.create(t.api.ref, want);
      } catch (err) {
        if (namespaceGoing(err)) continue;
        throw err;
      }
    }
  }

  /** Deletes the reports of this batch's namespaces that no `put` claimed (nothing left to report). */
  async finish(): Promise<void> {
    for (const t of this.targets)
      for (const ns of t.existing.keys())
        if (!this.claimed.has(ns)) await this.w.client.delete(t.api.ref, this.name, ns);
  }
}

export class ReportWriter {
  private cached: { api: ReportApi | undefined; served: ReportApi[]; at: number } | undefined;
  /** Whether a report API was served at the last look (for logging changes once). */
  private servedBefore: boolean | undefined;

  constructor(private readonly d: ReportWriterDeps) {}

  get client(): KubeClient {
    return this.d.client;
  }

  private get apis(): readonly ReportApi[] {
    return this.d.apis ?? [OPEN_REPORTS_API, WGPOLICY_REPORTS];
  }

  /** The API reports are written to; undefined when none of `apis` is installed. */
  async api(): Promise<ReportApi | undefined> {
    return (await this.served())[0];
  }

  /** The APIs reports go to: the first served of `apis`, or (with `all`) every served one. */
  private async served(): Promise<ReportApi[]> {
    const now = this.d.clock.now();
    if (this.cached && now - this.cached.at < (this.d.recheckMs ?? 60_000)) return this.cached.served;
    const served: ReportApi[] = [];
    for (const api of this.apis) {
      try {
        // A list, not a get: only a list tells "no such resource" (404) from "no such object".
        await this.d.client.list(api.ref, { limit: 1 });
        served.push(api);
        if (!this.d.all) break;
      } catch (err) {
        if (!isStatus(err, 404)) throw err;
      }
    }
    const found = served[0];
    this.cached = { api: found, served, at: now };
    if (!found && this.servedBefore !== false)
      this.d.logger.warn(
        { apis: this.apis.map((a) => a.describe) },
        `no report CRD installed (${this.apis.map((a) => a.describe).join(' or ')}): audit and verification results go to Events, metrics and policy status only; install one (openreports.io from the OpenReports project, or crds/wgpolicyk8s/) to get reports`,
      );
    else if (found && this.servedBefore === false)
      this.d.logger.info({ api: found.describe }, 'report CRD installed: writing reports');
    this.servedBefore = found !== undefined;
    return served;
  }

  /**
   * Starts a sync of the reports named `name`, in `namespace` or everywhere: undefined when no report
   * API is installed (skip reporting; nothing to do).
   */
  async begin(name: string, namespace?: string): Promise<ReportBatch | undefined> {
    const apis = await this.served();
    if (apis.length === 0) return undefined;
    const targets: Target[] = [];
    for (const api of apis) {
      const existing = new Map<string, ExistingReport>();
      let token: string | undefined;
      try {
        do {
          const page = await this.d.client.list(api.ref, {
            labelSelector: `${REPORT_LABEL}=${name}`,
            limit: this.d.pageSize ?? 100,
            ...(namespace ? { namespace } : {}),
            ...(token ? { continue: token } : {}),
          });
          for (const r of page.items)
            if (r.metadata.name === name)
              existing.set(r.metadata.namespace ?? '', {
                resourceVersion: r.metadata.resourceVersion ?? '',
                digest: reportContentDigest(r),
              });
          token = page.continue;
        } while (token);
      } catch (err) {
        if (!isStatus(err, 404)) throw err;
        this.cached = undefined; // uninstalled meanwhile: look again
        continue;
      }
      targets.push({ api, existing });
    }
    return targets.length > 0 ? new ReportBatch(this, targets, name) : undefined;
  }
}
