// What modelgate reports: one report per namespace and writer ("modelgate-audit",
// "modelgate-verification"), bounded in size, and the report APIs it can be written to. Today that is
// wgpolicyk8s.io/v1alpha2 PolicyReport (Kyverno and other engines install the same CRD); a further API
// (openreports.io/v1alpha1 Report, the same shape under a new group) is one more `ReportApi` in the
// preference list of report-writer.ts. Pure: the writer does the I/O.
import { createHash } from 'node:crypto';
import { OPEN_REPORTS, POLICY_REPORTS } from '../kube/resources.ts';
import type { KubeObject, ResourceRef } from '../kube/types.ts';

export type ReportOutcome = 'pass' | 'fail' | 'warn' | 'error' | 'skip';

export interface ReportResult {
  policy: string;
  rule: string;
  result: ReportOutcome;
  message: string;
  severity?: 'high' | 'medium' | 'low';
  category?: string;
  resources: { apiVersion: string; kind: string; name: string; namespace: string; uid?: string }[];
  properties?: Record<string, string>;
  /** Milliseconds since the epoch; written as {seconds, nanos}. */
  at: number;
}

export type ReportSummary = Record<ReportOutcome, number>;

export const emptySummary = (): ReportSummary => ({ pass: 0, fail: 0, warn: 0, error: 0, skip: 0 });

/** PolicyReports stay well under etcd's object size limit (~1.5 MiB): results beyond this are counted, not listed. */
export const DEFAULT_MAX_RESULTS = 500;
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'modelgate';

/**
 * Collects results for one report with bounded memory: the summary counts every result, the list keeps
 * failures first (then warnings, errors, passes) up to `max`.
 */
export class ReportAccumulator {
  readonly summary = emptySummary();
  private readonly kept: ReportResult[] = [];
  private dropped = 0;
  constructor(private readonly max = DEFAULT_MAX_RESULTS) {}

  add(r: ReportResult): void {
    this.summary[r.result]++;
    if (this.kept.length < this.max) {
      this.kept.push(r);
      return;
    }
    // Full: a more important result replaces the least important one kept.
    const rank = (x: ReportResult) => ['fail', 'error', 'warn', 'skip', 'pass'].indexOf(x.result);
    let worst = 0;
    for (let i = 1; i < this.kept.length; i++)
      if (rank(this.kept[i] as ReportResult) > rank(this.kept[worst] as ReportResult)) worst = i;
    if (rank(r) < rank(this.kept[worst] as ReportResult)) this.kept[worst] = r;
    this.dropped++;
  }

  get truncated(): number {
    return this.dropped;
  }

  get results(): readonly ReportResult[] {
    return this.kept;
  }
}

const rankOf: Record<ReportOutcome, number> = { fail: 0, error: 1, warn: 2, skip: 3, pass: 4 };

/** One report's content, whichever API it is written to. */
export interface ReportContent {
  /** The object's name, and the writer it comes from (label `modelgate.io/report`). */
  name: string;
  namespace: string;
  results: readonly ReportResult[];
  summary: ReportSummary;
  /** Results counted in the summary but left out of the list. */
  truncated: number;
}

/** A report API modelgate can write to. */
export interface ReportApi {
  /** Where it lives in the API (a CRD: 404 when not installed). */
  readonly ref: ResourceRef;
  /** "wgpolicyk8s.io/v1alpha2 PolicyReport", for log lines. */
  readonly describe: string;
  /** The object to write for `content`. */
  build(content: ReportContent): KubeObject;
}

export const REPORT_LABEL = 'modelgate.io/report';
export const TRUNCATED_ANNOTATION = 'modelgate.io/results-truncated';

/** Sorted results in the wgpolicyk8s.io v1alpha2 shape (OpenReports keeps the same fields). */
function resultEntries(results: readonly ReportResult[]): Record<string, unknown>[] {
  const sorted = [...results].sort(
    (a, b) =>
      rankOf[a.result] - rankOf[b.result] ||
      a.policy.localeCompare(b.policy) ||
      (a.resources[0]?.name ?? '').localeCompare(b.resources[0]?.name ?? '') ||
      a.rule.localeCompare(b.rule) ||
      a.message.localeCompare(b.message),
  );
  return sorted.map((r) => ({
    source: 'modelgate',
    policy: r.policy,
    rule: r.rule,
    result: r.result,
    message: r.message.slice(0, 1024),
    ...(r.severity ? { severity: r.severity } : {}),
    ...(r.category ? { category: r.category } : {}),
    scored: true,
    resources: r.resources,
    ...(r.properties && Object.keys(r.properties).length ? { properties: r.properties } : {}),
    timestamp: { seconds: Math.floor(r.at / 1000), nanos: 0 },
  }));
}

export function buildPolicyReport(c: ReportContent): KubeObject {
  return {
    apiVersion: 'wgpolicyk8s.io/v1alpha2',
    kind: 'PolicyReport',
    metadata: {
      name: c.name,
      namespace: c.namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [REPORT_LABEL]: c.name },
      ...(c.truncated > 0 ? { annotations: { [TRUNCATED_ANNOTATION]: String(c.truncated) } } : {}),
    },
    summary: { ...c.summary },
    results: resultEntries(c.results),
  };
}

/** wgpolicyk8s.io/v1alpha2 PolicyReports. */
export const WGPOLICY_REPORTS: ReportApi = {
  ref: POLICY_REPORTS,
  describe: 'wgpolicyk8s.io/v1alpha2 PolicyReport',
  build: buildPolicyReport,
};

/**
 * openreports.io/v1alpha1 Reports (Kyverno >= 1.15 and Kubewarden moved to them): the PolicyReport
 * shape under a new group, with the engine named once at the top (`source`) as well as per result.
 */
export function buildOpenReport(c: ReportContent): KubeObject {
  return {
    ...buildPolicyReport(c),
    apiVersion: 'openreports.io/v1alpha1',
    kind: 'Report',
    source: 'modelgate',
  };
}

export const OPEN_REPORTS_API: ReportApi = {
  ref: OPEN_REPORTS,
  describe: 'openreports.io/v1alpha1 Report',
  build: buildOpenReport,
};

/** Which report APIs to write: the first installed of OpenReports then PolicyReports (default), one, or both. */
export type ReportApiChoice = 'auto' | 'openreports' | 'wgpolicyk8s' | 'both';

export function reportApis(choice: ReportApiChoice): { apis: readonly ReportApi[]; all: boolean } {
  switch (choice) {
    case 'openreports':
      return { apis: [OPEN_REPORTS_API], all: false };
    case 'wgpolicyk8s':
      return { apis: [WGPOLICY_REPORTS], all: false };
    case 'both':
      return { apis: [OPEN_REPORTS_API, WGPOLICY_REPORTS], all: true };
    default:
      return { apis: [OPEN_REPORTS_API, WGPOLICY_REPORTS], all: false };
  }
}

/**
 * A digest of what a report says, apart from timestamps: a report whose content did not change is not
 * rewritten, and the writer keeps only this digest per existing report (not the report).
 */
export function reportContentDigest(o: KubeObject): string {
  const json = JSON.stringify({
    summary: o.summary,
    results: Array.isArray(o.results)
      ? o.results.map((r) => ({ ...(r as Record<string, unknown>), timestamp: undefined }))
      : [],
    annotations: o.metadata.annotations?.[TRUNCATED_ANNOTATION],
  });
  return createHash('sha256').update(json).digest('hex');
}

/** Equal apart from timestamps. */
export function sameReportContent(a: KubeObject | undefined, b: KubeObject): boolean {
  return a !== undefined && reportContentDigest(a) === reportContentDigest(b);
}
