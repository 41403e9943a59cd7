// Charts for docs/performance.md (issue 9): reads the JSON the bench scripts wrote to docs/perf/*.json and
// writes SVG next to them, by hand (no charting dependency). A missing JSON file skips its charts.
//   npx tsx bench/charts.ts
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PERF_DIR } from './perf-output.ts';
import type { Row as WebhookRow } from './webhook.ts';

interface Series {
  name: string;
  values: (number | null)[];
  dashed?: boolean;
  /** Index into the palette; default: the series' position. */
  color?: number;
}
interface Chart {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  categories: string[];
  series: Series[];
}

const W = 720;
const H = 400;
const M = { top: 58, right: 190, bottom: 56, left: 74 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf', '#7f7f7f'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number) =>
  v === 0
    ? '0'
    : v >= 10_000
      ? `${Math.round(v / 1000)}k`
      : v >= 1000
        ? `${(v / 1000).toFixed(1)}k`
        : v >= 10
          ? v.toFixed(0)
          : v.toFixed(2);

/** A "nice" axis maximum and step: 1, 2 or 5 × 10^k. */
function niceAxis(max: number): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.2 };
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  return { top: Math.ceil(max / step) * step, step };
}

function frame(c: Chart, top: number, step: number): string[] {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${M.left}" y="22" font-size="15" font-weight="bold">${esc(c.title)}</text>`,
  ];
  if (c.subtitle) out.push(`<text x="${M.left}" y="40" fill="#555">${esc(c.subtitle)}</text>`);
  for (let v = 0; v <= top + step / 2; v += step) {
    const y = M.top + ph - (v / top) * ph;
    out.push(
      `<line x1="${M.left}" x2="${M.left + pw}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e5e5e5"/>`,
      `<text x="${M.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" fill="#333">${fmt(v)}</text>`,
    );
  }
  out.push(
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + ph}" stroke="#333"/>`,
    `<line x1="${M.left}" x2="${M.left + pw}" y1="${M.top + ph}" y2="${M.top + ph}" stroke="#333"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 14}" text-anchor="middle">${esc(c.xLabel)}</text>`,
    `<text transform="translate(18 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(c.yLabel)}</text>`,
  );
  c.series.forEach((s, i) => {
    const y = M.top + 8 + i * 20;
    const x = W - M.right + 16;
    out.push(
      `<line x1="${x}" x2="${x + 22}" y1="${y}" y2="${y}" stroke="${COLORS[(s.color ?? i) % COLORS.length]}" stroke-width="3"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${x + 28}" y="${y + 4}">${esc(s.name)}</text>`,
    );
  });
  return out;
}

function maxOf(c: Chart): number {
  return Math.max(
    0,
    ...c.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v))),
  );
}

/** Points joined by lines, categories evenly spaced (so 1, 10, 100, 1000 is a log scale). */
export function lineChart(c: Chart): string {
  const { top, step } = niceAxis(maxOf(c) * 1.05);
  const out = frame(c, top, step);
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const xAt = (i: number) =>
    M.left + (c.categories.length === 1 ? pw / 2 : 24 + (i * (pw - 48)) / (c.categories.length - 1));
  const yAt = (v: number) => M.top + ph - (v / top) * ph;
  c.categories.forEach((cat, i) =>
    out.push(`<text x="${xAt(i).toFixed(1)}" y="${M.top + ph + 18}" text-anchor="middle">${esc(cat)}</text>`),
  );
  c.series.forEach((s, si) => {
    const color = COLORS[(s.color ?? si) % COLORS.length]!;
    const pts = s.values
      .map((v, i) => (v === null || !Number.isFinite(v) ? null : `${xAt(i).toFixed(1)},${yAt(v).toFixed(1)}`))
      .filter((p): p is string => p !== null);
    out.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${pts.join(' ')}"/>`,
    );
    s.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) return;
      out.push(
        `<circle cx="${xAt(i).toFixed(1)}" cy="${yAt(v).toFixed(1)}" r="3.5" fill="${color}"><title>${esc(`${s.name}, ${c.categories[i]}: ${fmt(v)}`)}</title></circle>`,
      );
    });
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Grouped bars: one group per category, one bar per series, value printed above each bar. */
export function barChart(c: Chart): string {
  const { top, step } = niceAxis(maxOf(c) * 1.1);
  const out = frame(c, top, step);
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const groupW = pw / c.categories.length;
  const barW = Math.min(46, (groupW * 0.8) / c.series.length);
  c.categories.forEach((cat, gi) => {
    const gx = M.left + gi * groupW + groupW / 2;
    out.push(`<text x="${gx.toFixed(1)}" y="${M.top + ph + 18}" text-anchor="middle">${esc(cat)}</text>`);
    c.series.forEach((s, si) => {
      const v = s.values[gi];
      if (v === null || v === undefined || !Number.isFinite(v)) return;
      const x = gx - (c.series.length * barW) / 2 + si * barW;
      const h = (v / top) * ph;
      out.push(
        `<rect x="${x.toFixed(1)}" y="${(M.top + ph - h).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[(s.color ?? si) % COLORS.length]}"><title>${esc(`${s.name}, ${cat}: ${fmt(v)}`)}</title></rect>`,
        `<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(M.top + ph - h - 4).toFixed(1)}" text-anchor="middle" font-size="10" fill="#333">${fmt(v)}</text>`,
      );
    });
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

// ------------------------------------------------------------------------------------------ the charts
interface Machine {
  cpus: number;
  node: string;
  loadavg: number[];
  finished_at: string;
}
const read = <T>(name: string): T | undefined => {
  const p = join(PERF_DIR, `${name}.json`);
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as T) : undefined;
};
const where = (m: Machine | undefined) =>
  m
    ? `${m.cpus} CPUs, node ${m.node}, load average ${m.loadavg.map((l) => l.toFixed(1)).join(' / ')}, ${m.finished_at.slice(0, 16).replace('T', ' ')} UTC`
    : '';
const written: string[] = [];
const write = (file: string, svg: string) => {
  writeFileSync(join(PERF_DIR, file), svg);
  written.push(file);
};

const webhook = read<{ rows: WebhookRow[]; machine?: Machine }>('webhook');
if (webhook) {
  const rows = webhook.rows;
  const policyCounts = [...new Set(rows.filter((r) => r.policies !== null).map((r) => r.policies!))].sort(
    (a, b) => a - b,
  );
  const conc = [...new Set(rows.map((r) => r.concurrency))].sort((a, b) => a - b);
  const series: Series[] = [];
  conc.forEach((c, ci) => {
    series.push({
      name: `modelgate c=${c}`,
      color: ci,
      values: policyCounts.map(
        (n) =>
          rows.find((r) => r.target === 'modelgate' && r.policies === n && r.concurrency === c)?.rps ?? null,
      ),
    });
  });
  conc.forEach((c, ci) => {
    const f = rows.find((r) => r.target === 'floor' && r.concurrency === c)?.rps ?? null;
    series.push({ name: `floor c=${c}`, values: policyCounts.map(() => f), dashed: true, color: ci });
  });
  write(
    'webhook-throughput.svg',
    lineChart({
      title: 'Admission throughput vs ClusterModelPolicy count',
      subtitle: where(webhook.machine),
      xLabel: 'ClusterModelPolicies (log scale)',
      yLabel: 'requests / s',
      categories: policyCounts.map(String),
      series,
    }),
  );
  const at10 = (target: string, c: number) =>
    rows.find((r) => r.target === target && r.concurrency === c && (target === 'floor' || r.policies === 10));
  const pct = [
    ['p50', 'p50_ms'],
    ['p99', 'p99_ms'],
    ['p99.9', 'p999_ms'],
  ] as const;
  write(
    'webhook-latency.svg',
    barChart({
      title: 'Admission latency percentiles: floor vs modelgate (10 policies)',
      subtitle: where(webhook.machine),
      xLabel: 'concurrency',
      yLabel: 'ms',
      categories: conc.map((c) => `c=${c}`),
      series: pct.flatMap(([label, key]) => [
        { name: `floor ${label}`, values: conc.map((c) => at10('floor', c)?.[key] ?? null) },
        { name: `modelgate ${label}`, values: conc.map((c) => at10('modelgate', c)?.[key] ?? null) },
      ]),
    }),
  );
}

interface HashRow {
  name: string;
  MBps: number;
  peak_rss_MiB: number | null;
}
const hash = read<{ rows?: HashRow[]; cores: number; machine?: Machine }>('hash');
if (hash?.rows) {
  const get = (prefix: string) => hash.rows!.find((r) => r.name.startsWith(prefix))?.MBps ?? null;
  const openssl = get('openssl');
  const workers = [1, hash.cores];
  write(
    'hash-workers.svg',
    barChart({
      title: 'Hashing throughput vs workers (1 GiB sharded checkpoint, warm page cache)',
      subtitle: where(hash.machine),
      xLabel: 'workers / threads',
      yLabel: 'MB/s',
      categories: workers.map((w) => `${w}`),
      series: [
        { name: 'openssl dgst (1 core)', values: [openssl, null] },
        { name: 'node:crypto', values: [get('node:crypto'), null] },
        {
          name: 'modelgate verify',
          values: [get('modelgate verify, 1 worker'), get(`modelgate verify, ${hash.cores} workers`)],
        },
        { name: 'model_signing verify', values: [null, get('model_signing')] },
        { name: 'sha256sum', values: [get('sha256sum'), null] },
      ],
    }),
  );
}

interface AuditRow {
  workloads: number;
  auditMs: number;
  listOnlyMs: number;
  peakRssMiB: number;
}
const audits = (['audit', 'audit-cluster'] as const)
  .map((name) => ({ name, data: read<{ results: AuditRow[]; machine?: Machine }>(name) }))
  .filter((a) => a.data !== undefined);
if (audits.length > 0) {
  const sizes = [...new Set(audits.flatMap((a) => a.data!.results.map((r) => r.workloads)))].sort(
    (a, b) => a - b,
  );
  const label = (n: string) => (n === 'audit' ? 'in-memory API' : 'local API server');
  const val = (rows: AuditRow[], n: number, f: (r: AuditRow) => number) => {
    const r = rows.find((x) => x.workloads === n);
    return r ? f(r) : null;
  };
  // Both audit charts: the same machine line and x axis.
  const axis = {
    subtitle: where(audits[0]!.data!.machine),
    xLabel: 'Deployments',
    categories: sizes.map((n) => n.toLocaleString('en')),
  };
  write(
    'audit-time.svg',
    lineChart({
      title: 'Audit time vs workloads (10 ClusterModelPolicies)',
      ...axis,
      yLabel: 'seconds',
      series: audits.flatMap((a) => [
        {
          name: `audit, ${label(a.name)}`,
          values: sizes.map((n) => val(a.data!.results, n, (r) => r.auditMs / 1000)),
        },
        {
          name: `list only, ${label(a.name)}`,
          values: sizes.map((n) => val(a.data!.results, n, (r) => r.listOnlyMs / 1000)),
          dashed: true,
        },
      ]),
    }),
  );
  write(
    'audit-rss.svg',
    lineChart({
      title: 'Audit peak RSS vs workloads',
      ...axis,
      yLabel: 'MiB',
      series: audits.map((a) => ({
        name: `peak RSS, ${label(a.name)}`,
        values: sizes.map((n) => val(a.data!.results, n, (r) => r.peakRssMiB)),
      })),
    }),
  );
}

interface ScanRow {
  name: string;
  modelgate?: { cpuMs: number } | null;
  picklescan?: { cpuMs: number } | null;
}
const scan = read<{ rows?: ScanRow[]; machine?: Machine }>('scan');
if (scan?.rows && scan.rows.length > 0) {
  // CPU time per input: MB/s would span seven orders of magnitude (sparse safetensors are never read).
  write(
    'scan-cpu.svg',
    barChart({
      title: 'Scan CPU time per input: modelgate vs picklescan (lower is better)',
      subtitle: where(scan.machine),
      xLabel: 'input',
      yLabel: 'CPU ms (best of 3)',
      categories: scan.rows.map((r) =>
        r.name
          .replace(/, 2000 tensors \(sparse\)/, '')
          .replace(/: same data.pkl \+ 6 x 512 MiB storages/, ' 3 GiB')
          .replace(/, 100k tensors/, '')
          .replace(/fixture corpus, (\d+) files/, 'corpus ($1)'),
      ),
      series: [
        { name: 'modelgate', values: scan.rows.map((r) => r.modelgate?.cpuMs ?? null) },
        { name: 'picklescan', values: scan.rows.map((r) => r.picklescan?.cpuMs ?? null) },
      ],
    }),
  );
}

process.stdout.write(`${JSON.stringify({ bench: 'charts', written })}\n`);
