// The one place reports are written (the audit's and the verification results'). It finds which report
// API the cluster serves — the first of `apis` whose CRD is installed, so when a second API is added
// (openreports.io Reports, ahead of wgpolicyk8s.io PolicyReports) exactly one of them is written unless
// the operator asks otherwise — and says once, in one log line, when none is installed: the reconcilers
// then go on with Events, metrics and policy status.
//
// A sync of one writer's reports is a batch: `begin` lists the existing ones (paginated, keeping only a
// content digest per namespace), `put` writes a namespace's report when its content changed, `finish`
// deletes the ones no `put` claimed. Memory is one digest per namespace, not the reports.
import type pino from 'pino';
import type { Clock } from '../kube/clock.ts';
import { isStatus, KubeApiError, type KubeClient } from '../kube/types.ts';
import {
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
  /** Report APIs in order of preference: the first one served is written (default: PolicyReports). */
  apis?: readonly ReportApi[];
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

export class ReportBatch {
  private readonly claimed = new Set<string>();

  constructor(
    private readonly w: ReportWriter,
    readonly api: ReportApi,
    readonly name: string,
    private readonly existing: Map<string, ExistingReport>,
  ) {}

  /** Writes the report of `content.namespace` unless the existing one says the same. */
  async put(content: ReportContent): Promise<void> {
    this.claimed.add(content.namespace);
    const want = this.api.build(content);
    const cur = this.existing.get(content.namespace);
    if (cur && cur.digest === reportContentDigest(want)) return;
    const client = this.w.client;
    try {
      if (cur)
        await client.replace(this.api.ref, {
          ...want,
          metadata: { ...want.metadata, resourceVersion: cur.resourceVersion },
        });
      else await client.create(this.api.ref, want);
    } catch (err) {
      if (namespaceGoing(err)) return;
      throw err;
    }
  }

  /** Deletes the reports of this batch's namespaces that no `put` claimed (nothing left to report). */
  async finish(): Promise<void> {
    for (const ns of this.existing.keys())
      if (!this.claimed.has(ns)) await this.w.client.delete(this.api.ref, this.name, ns);
  }
}

export class ReportWriter {
  private cached: { api: ReportApi | undefined; at: number } | undefined;
  /** Whether a report API was served at the last look (for logging changes once). */
  private served: boolean | undefined;

  constructor(private readonly d: ReportWriterDeps) {}

  get client(): KubeClient {
    return this.d.client;
  }

  private get apis(): readonly ReportApi[] {
    return this.d.apis ?? [WGPOLICY_REPORTS];
  }

  /** The API reports are written to; undefined when none of `apis` is installed. */
  async api(): Promise<ReportApi | undefined> {
    const now = this.d.clock.now();
    if (this.cached && now - this.cached.at < (this.d.recheckMs ?? 60_000)) return this.cached.api;
    let found: ReportApi | undefined;
    for (const api of this.apis) {
      try {
        // A list, not a get: only a list tells "no such resource" (404) from "no such object".
        await this.d.client.list(api.ref, { limit: 1 });
        found = api;
        break;
      } catch (err) {
        if (!isStatus(err, 404)) throw err;
      }
    }
    this.cached = { api: found, at: now };
    if (!found && this.served !== false)
      this.d.logger.warn(
        { apis: this.apis.map((a) => a.describe) },
        `no report CRD installed (${this.apis.map((a) => a.describe).join(' or ')}): audit and verification results go to Events, metrics and policy status only; install the CRD (crds/wgpolicyk8s/) to get reports`,
      );
    else if (found && this.served === false)
      this.d.logger.info({ api: found.describe }, 'report CRD installed: writing reports');
    this.served = found !== undefined;
    return found;
  }

  /**
   * Starts a sync of the reports named `name`, in `namespace` or everywhere: undefined when no report
   * API is installed (skip reporting; nothing to do).
   */
  async begin(name: string, namespace?: string): Promise<ReportBatch | undefined> {
    const api = await this.api();
    if (!api) return undefined;
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
      return undefined;
    }
    return new ReportBatch(this, api, name, existing);
  }
}
