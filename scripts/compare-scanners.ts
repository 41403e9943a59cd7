// Run modelgate, picklescan, modelscan, ModelAudit and fickling side by side on the fixture corpus
// (the shared corpus of SOURCES.md, generated/GENERATED.md, and the generated corpus of corpus/CORPUS.md)
// and print the per-file table, a summary per scanner (malicious caught, benign flagged, invalid files
// called clean, wall time), and a final JSON line. Exits 1 if modelgate misses anything a peer catches.
//
//   npm run compare:scanners            (creates/reuses the peer venv via scripts/venv-scanners.sh)
//   MODELGATE_SCANNERS_VENV=/path ...   (use an existing venv with the four peers)
//   COMPARE_ONLY=corpus ...             (only corpus/CORPUS.md)
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseCorpusTable, type CorpusRow } from '../src/scanning/corpus.test-support.ts';
import { scanPaths, type Verdict } from '../src/scanning/index.ts';

const run = promisify(execFile);
const repo = resolve(fileURLToPath(new URL('..', import.meta.url)));
const corpus = join(repo, 'test/fixtures/model-scanning');

/** What a tool said about one file. `error` = it failed or refused without a finding. */
export type PeerVerdict = 'dangerous' | 'suspicious' | 'clean' | 'error' | 'skipped';
type ToolVerdict = Verdict | PeerVerdict;

/** The peers run with their telemetry and hub access off: nothing may leave this machine. */
export const PEER_ENV = {
  ...process.env,
  PROMPTFOO_DISABLE_TELEMETRY: '1',
  NO_ANALYTICS: '1',
  DO_NOT_TRACK: '1',
  HF_HUB_OFFLINE: '1',
  CI: '1',
};

export async function peerVenv(): Promise<string> {
  const fromEnv = process.env.MODELGATE_SCANNERS_VENV;
  if (fromEnv) return fromEnv;
  const { stdout } = await run('bash', [join(repo, 'scripts/venv-scanners.sh')], { maxBuffer: 1 << 20 });
  const path = stdout.trim().split('\n').pop();
  if (!path) throw new Error('venv-scanners.sh printed no path');
  return path;
}

async function runTool(cmd: string, args: string[], cwd: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(cmd, args, {
      cwd,
      env: PEER_ENV,
      maxBuffer: 256 << 20,
      timeout: 3_600_000,
    });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === 'number' ? err.code : -1,
      out: `${err.stdout ?? ''}${err.stderr ?? ''}`,
    };
  }
}

/**
 * picklescan through its own API (picklescan.scanner.scan_file_path, what its CLI calls per path),
 * all files in one Python process: one process per file costs over a minute.
 */
const PICKLESCAN_DRIVER = `
import json, sys
from picklescan.scanner import scan_file_path, SafetyLevel
out = {}
for p in sys.argv[2:]:
    try:
        r = scan_file_path(p)
        out[p] = {"dangerous": [f"{g.module}.{g.name}" for g in r.globals if g.safety == SafetyLevel.Dangerous],
                  "suspicious": [f"{g.module}.{g.name}" for g in r.globals if g.safety == SafetyLevel.Suspicious],
                  "error": bool(r.scan_err), "scanned": r.scanned_files}
    except Exception as e:
        out[p] = {"exception": f"{type(e).__name__}: {e}"}
with open(sys.argv[1], "w") as f:
    json.dump(out, f)
`;

interface PicklescanResult {
  dangerous?: string[];
  suspicious?: string[];
  error?: boolean;
  exception?: string;
}

export function picklescanVerdict(r: PicklescanResult | undefined): PeerVerdict {
  if (r === undefined) return 'error';
  if ((r.dangerous ?? []).length > 0) return 'dangerous';
  if ((r.suspicious ?? []).length > 0) return 'suspicious';
  if (r.exception !== undefined || r.error) return 'error';
  return 'clean';
}

/** fickling through fickling.scan_file (graceful), one process. */
const FICKLING_DRIVER = `
import json, sys
import fickling
out = {}
for p in sys.argv[2:]:
    try:
        r = fickling.scan_file(p, graceful=True)
        out[p] = {"severity": int(r.severity.value[0]), "results": len(r.results), "errors": len(r.errors)}
    except Exception as e:
        out[p] = {"exception": f"{type(e).__name__}: {e}"}
with open(sys.argv[1], "w") as f:
    json.dump(out, f)
`;

interface FicklingResult {
  severity?: number;
  results?: number;
  errors?: number;
  exception?: string;
}

/** fickling severities: 0 likely safe, 1 possibly unsafe, 2 suspicious, 3+ likely unsafe / malicious. */
export function ficklingVerdict(r: FicklingResult | undefined): PeerVerdict {
  if (r === undefined || r.exception !== undefined) return 'error';
  if ((r.errors ?? 0) > 0 && (r.results ?? 0) === 0) return 'error';
  const s = r.severity ?? 0;
  return s >= 3 ? 'dangerous' : s >= 1 ? 'suspicious' : 'clean';
}

async function byDriver<T>(
  python: string,
  driver: string,
  rows: CorpusRow[],
  verdict: (r: T | undefined) => PeerVerdict,
): Promise<Map<string, PeerVerdict>> {
  const paths = rows.map((r) => join(corpus, r.fixture));
  const dir = await mkdtemp(join(tmpdir(), 'peer-'));
  const report = join(dir, 'report.json');
  let results: Record<string, T> = {};
  try {
    const { out } = await runTool(python, ['-c', driver, report, ...paths], corpus);
    try {
      results = JSON.parse(await readFile(report, 'utf8')) as Record<string, T>;
    } catch {
      console.error(`the driver wrote no report:\n${out.slice(-2000)}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return new Map(rows.map((r, i) => [r.fixture, verdict(results[paths[i] ?? ''])]));
}

interface ModelscanReport {
  summary: { scanned?: { scanned_files?: string[] } };
  issues: { source: string; severity: string }[];
  errors: { source?: string }[];
}

/** modelscan, one process for the corpus (its start-up is slow); results are attributed by source path. */
async function modelscanAll(bin: string, rows: CorpusRow[]): Promise<Map<string, PeerVerdict>> {
  const dir = await mkdtemp(join(tmpdir(), 'modelscan-'));
  const out = join(dir, 'report.json');
  try {
    await runTool(bin, ['-p', corpus, '-r', 'json', '-o', out], dir);
    const report = JSON.parse(await readFile(out, 'utf8')) as ModelscanReport;
    const scanned = new Set((report.summary.scanned?.scanned_files ?? []).map((s) => s.split(':')[0]));
    const result = new Map<string, PeerVerdict>();
    for (const r of rows) {
      const mine = (s: string | undefined) =>
        s !== undefined && (s === r.fixture || s.startsWith(`${r.fixture}:`));
      const sev = report.issues.filter((i) => mine(i.source)).map((i) => i.severity);
      if (sev.some((s) => s === 'CRITICAL' || s === 'HIGH')) result.set(r.fixture, 'dangerous');
      else if (sev.length > 0) result.set(r.fixture, 'suspicious');
      else if (report.errors.some((e) => mine(e.source))) result.set(r.fixture, 'error');
      else result.set(r.fixture, scanned.has(r.fixture) ? 'clean' : 'skipped');
    }
    return result;
  } catch (e) {
    console.error(`modelscan report unreadable: ${(e as Error).message}`);
    return new Map(rows.map((r) => [r.fixture, 'error']));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface ModelauditReport {
  issues?: { severity?: string; location?: string; details?: { pickle_source?: string } }[];
  file_metadata?: Record<string, unknown>;
  files_scanned?: number;
}

/** ModelAudit's CLI, one process for every path, JSON report; issues are attributed by location. */
export async function modelauditAll(bin: string, paths: string[]): Promise<Map<string, PeerVerdict>> {
  const dir = await mkdtemp(join(tmpdir(), 'modelaudit-'));
  const out = join(dir, 'report.json');
  try {
    await runTool(bin, ['scan', '--format', 'json', '--no-cache', '-o', out, ...paths], dir);
    const report = JSON.parse(await readFile(out, 'utf8')) as ModelauditReport;
    const result = new Map<string, PeerVerdict>();
    const metadata = report.file_metadata ?? {};
    for (const p of paths) {
      const mine = (loc: string | undefined) =>
        loc !== undefined &&
        (loc === p || loc.startsWith(`${p} `) || loc.startsWith(`${p}:`) || loc.startsWith(`${p}!`));
      const sev = (report.issues ?? [])
        .filter((i) => mine(i.location) || mine(i.details?.pickle_source))
        .map((i) => i.severity);
      if (sev.includes('critical')) result.set(p, 'dangerous');
      else if (sev.includes('warning')) result.set(p, 'suspicious');
      else result.set(p, p in metadata ? 'clean' : 'skipped');
    }
    return result;
  } catch (e) {
    console.error(`ModelAudit report unreadable: ${(e as Error).message}`);
    return new Map(paths.map((p) => [p, 'error']));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const flagged = (v: ToolVerdict | undefined): boolean => v === 'dangerous' || v === 'suspicious';

interface ToolScore {
  /** malicious files flagged (dangerous or suspicious) */
  detected: number;
  /** malicious files refused as unparsable (rejected / error) — caught too: the model is not loaded */
  refused: number;
  missed: number;
  /** benign files flagged or refused */
  benignFlagged: number;
  /** invalid files called clean */
  invalidClean: number;
  ms: number;
}

function score(rows: CorpusRow[], verdicts: Map<string, ToolVerdict>, ms: number): ToolScore {
  const s: ToolScore = { detected: 0, refused: 0, missed: 0, benignFlagged: 0, invalidClean: 0, ms };
  for (const r of rows) {
    const v = verdicts.get(r.fixture);
    if (r.expected === 'dangerous') {
      if (flagged(v)) s.detected++;
      else if (v === 'rejected' || v === 'error') s.refused++;
      else s.missed++;
    } else if (r.expected === 'clean') {
      if (v !== 'clean' && v !== 'skipped') s.benignFlagged++;
    } else if (v === 'clean' || v === 'skipped') s.invalidClean++;
  }
  return s;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await fn();
  return [v, Math.round(performance.now() - t0)];
}

async function main(): Promise<number> {
  const only = process.env.COMPARE_ONLY;
  const tables: [string, string][] = [
    ['SOURCES.md', ''],
    ['generated/GENERATED.md', 'generated/'],
    ['corpus/CORPUS.md', 'corpus/'],
  ];
  const rows: CorpusRow[] = [];
  for (const [file, prefix] of tables)
    if (!only || file.startsWith(only))
      rows.push(...parseCorpusTable(await readFile(join(corpus, file), 'utf8'), prefix));
  const env = await peerVenv();
  const python = join(env, 'bin/python');
  const paths = rows.map((r) => join(corpus, r.fixture));

  const [reports, mgMs] = await timed(() => scanPaths(paths));
  const mg = new Map<string, ToolVerdict>(rows.map((r, i) => [r.fixture, reports[i]?.verdict ?? 'rejected']));
  const [ps, psMs] = await timed(() => byDriver(python, PICKLESCAN_DRIVER, rows, picklescanVerdict));
  const [fk, fkMs] = await timed(() => byDriver(python, FICKLING_DRIVER, rows, ficklingVerdict));
  const [ms, msMs] = await timed(() => modelscanAll(join(env, 'bin/modelscan'), rows));
  const [maByPath, maMs] = await timed(() => modelauditAll(join(env, 'bin/modelaudit'), paths));
  const ma = new Map<string, PeerVerdict>(
    rows.map((r, i) => [r.fixture, maByPath.get(paths[i] ?? '') ?? 'error']),
  );

  const peers: [string, Map<string, ToolVerdict>][] = [
    ['picklescan', ps],
    ['modelscan', ms],
    ['ModelAudit', ma],
    ['fickling', fk],
  ];
  const w = Math.max(...rows.map((r) => r.fixture.length));
  const col = (s: string) => s.padEnd(11);
  console.log(
    `${'file'.padEnd(w)}  ${col('expected')}${col('modelgate')}${peers.map(([n]) => col(n)).join('')}`,
  );
  console.log('-'.repeat(w + 2 + 11 * 6));
  const missedVsPeers: string[] = [];
  for (const r of rows) {
    const g = mg.get(r.fixture);
    const ok = r.accepts.includes(g as Verdict);
    console.log(
      `${r.fixture.padEnd(w)}  ${col(r.expected)}${col(`${g}${ok ? '' : '(!)'}`)}${peers.map(([, m]) => col(m.get(r.fixture) ?? '-')).join('')}`,
    );
    // A peer flag on a file that is really clean is that peer's false positive, not a catch.
    if (r.expected !== 'clean' && peers.some(([, m]) => flagged(m.get(r.fixture))) && g === 'clean')
      missedVsPeers.push(r.fixture);
  }
  const scores: Record<string, ToolScore> = {
    modelgate: score(rows, mg, mgMs),
    'picklescan 1.0.5': score(rows, ps, psMs),
    'modelscan 0.8.8': score(rows, ms, msMs),
    'ModelAudit 0.2.54': score(rows, ma, maMs),
    'fickling 0.1.12': score(rows, fk, fkMs),
  };
  const malicious = rows.filter((r) => r.expected === 'dangerous').length;
  const benign = rows.filter((r) => r.expected === 'clean').length;
  const invalid = rows.filter((r) => r.expected === 'reject').length;
  const expectedMet = rows.filter((r) => r.accepts.includes(mg.get(r.fixture) as Verdict)).length;
  const pct = (n: number, d: number) => `${((100 * n) / Math.max(d, 1)).toFixed(1)} %`;
  console.log('');
  console.log(
    `corpus: ${rows.length} files — ${malicious} malicious, ${benign} benign, ${invalid} invalid (must be refused)`,
  );
  console.log(
    `| scanner | malicious caught (flagged + refused) | benign flagged or refused | invalid called clean | wall time |`,
  );
  console.log(`| --- | --- | --- | --- | --- |`);
  for (const [tool, s] of Object.entries(scores)) {
    console.log(
      `| ${tool} | ${s.detected} + ${s.refused} / ${malicious} (${pct(s.detected + s.refused, malicious)}) | ${s.benignFlagged} / ${benign} (${pct(s.benignFlagged, benign)}) | ${s.invalidClean} / ${invalid} | ${(s.ms / 1000).toFixed(2)} s |`,
    );
  }
  console.log(
    `modelgate meets the expected verdict on ${expectedMet}/${rows.length} files; misses vs peers: ${missedVsPeers.length ? missedVsPeers.join(', ') : 'none'}`,
  );
  console.log(
    JSON.stringify({
      files: rows.length,
      malicious,
      benign,
      invalid,
      expectedMet,
      missedVsPeers: missedVsPeers.length,
      scores,
    }),
  );
  return missedVsPeers.length === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  process.exitCode = await main();
