// wgpolicyk8s.io/v1alpha2 PolicyReports: one per namespace and writer ("modelgate-audit",
// "modelgate-verification"), bounded in size. Pure builders; the reconcilers write them.
import type { KubeObject } from '../kube/types.ts';

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

export function buildPolicyReport(opts: {
  name: string;
  namespace: string;
  results: readonly ReportResult[];
  summary: ReportSummary;
  truncated: number;
  component: string;
}): KubeObject {
  const sorted = [...opts.results].sort(
    (a, b) =>
      rankOf[a.result] - rankOf[b.result] ||
      a.policy.localeCompare(b.policy) ||
      (a.resources[0]?.name ?? '').localeCompare(b.resources[0]?.name ?? '') ||
      a.rule.localeCompare(b.rule) ||
      a.message.localeCompare(b.message),
  );
  return {
    apiVersion: 'wgpolicyk8s.io/v1alpha2',
    kind: 'PolicyReport',
    metadata: {
      name: opts.name,
      namespace: opts.namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY, 'modelgate.io/report': opts.component },
      ...(opts.truncated > 0
        ? { annotations: { 'modelgate.io/results-truncated': String(opts.truncated) } }
        : {}),
    },
    summary: { ...opts.summary },
    results: sorted.map((r) => ({
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
    })),
  };
}

/** Equal apart from timestamps: a report whose content did not change is not rewritten. */
export function sameReportContent(a: KubeObject | undefined, b: KubeObject): boolean {
  if (!a) return false;
  const strip = (o: KubeObject) =>
    JSON.stringify({
      summary: o.summary,
      results: Array.isArray(o.results)
        ? o.results.map((r) => ({ ...(r as Record<string, unknown>), timestamp: undefined }))
        : [],
      annotations: o.metadata.annotations?.['modelgate.io/results-truncated'],
    });
  return strip(a) === strip(b);
}
