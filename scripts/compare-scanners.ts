// Run modelgate, picklescan and modelscan side by side on the fixture corpus and print a table
// (file, expected, modelgate, picklescan, modelscan), a summary per tool, and a final JSON line.
// Exits 1 if modelgate misses anything a peer catches.
//
//   npm run compare:scanners            (creates/reuses the peer venv via scripts/venv-scanners.sh)
//   MODELGATE_SCANNERS_VENV=/path ...   (use an existing venv with bin/picklescan and bin/modelscan)
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

/** What a tool said about one file. `error` = it failed or gave up without a finding. */
export type PeerVerdict = 'dangerous' | 'suspicious' | 'clean' | 'error' | 'skipped';
type ToolVerdict = Verdict | PeerVerdict;

async function venv(): Promise<string> {
  const fromEnv = process.env.MODELGATE_SCANNERS_VENV;
  if (fromEnv) return fromEnv;
  const { stdout } = await run('bash', [join(repo, 'scripts/venv-scanners.sh')], { maxBuffer: 1 << 20 });
  const path = stdout.trim().split('\n').pop();
  if (!path) throw new Error('venv-scanners.sh printed no path');
  return path;
}

async function runTool(cmd: string, args: string[], cwd: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(cmd, args, { cwd, maxBuffer: 64 << 20, timeout: 300_000 });
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
for p in sys.argv[1:]:
    try:
        r = scan_file_path(p)
        out[p] = {"dangerous": [f"{g.module}.{g.name}" for g in r.globals if g.safety == SafetyLevel.Dangerous],
                  "suspicious": [f"{g.module}.{g.name}" for g in r.globals if g.safety == SafetyLevel.Suspicious],
                  "error": bool(r.scan_err), "scanned": r.scanned_files}
    except Exception as e:
        out[p] = {"exception": f"{type(e).__name__}: {e}"}
print(json.dumps(out))
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

async function picklescanAll(python: string, rows: CorpusRow[]): Promise<Map<string, PeerVerdict>> {
  const paths = rows.map((r) => join(corpus, r.fixture));
  const { out } = await runTool(python, ['-c', PICKLESCAN_DRIVER, ...paths], corpus);
  const json = out.slice(out.lastIndexOf('\n{') + 1);
  const results = JSON.parse(json.startsWith('{') ? json : out) as Record<string, PicklescanResult>;
  return new Map(rows.map((r, i) => [r.fixture, picklescanVerdict(results[paths[i] ?? ''])]));
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
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const flagged = (v: ToolVerdict | undefined): boolean => v === 'dangerous' || v === 'suspicious';

interface ToolScore {
  detected: number;
  missed: number;
  failedClosed: number;
  falsePositives: number;
  errorsOnClean: number;
  rejectsRefused: number;
}

function score(rows: CorpusRow[], verdicts: Map<string, ToolVerdict>): ToolScore {
  const s: ToolScore = {
    detected: 0,
    missed: 0,
    failedClosed: 0,
    falsePositives: 0,
    errorsOnClean: 0,
    rejectsRefused: 0,
  };
  for (const r of rows) {
    const v = verdicts.get(r.fixture);
    if (r.expected === 'dangerous') {
      if (flagged(v)) s.detected++;
      else if (v === 'rejected') s.failedClosed++;
      else s.missed++;
    } else if (r.expected === 'clean') {
      if (flagged(v)) s.falsePositives++;
      else if (v !== 'clean' && v !== 'skipped') s.errorsOnClean++;
    } else if (v !== 'clean' && v !== 'skipped') s.rejectsRefused++;
  }
  return s;
}

async function main(): Promise<number> {
  const rows = [
    ...parseCorpusTable(await readFile(join(corpus, 'SOURCES.md'), 'utf8')),
    ...parseCorpusTable(await readFile(join(corpus, 'generated/GENERATED.md'), 'utf8'), 'generated/'),
  ];
  const env = await venv();
  const t0 = Date.now();
  const reports = await scanPaths(rows.map((r) => join(corpus, r.fixture)));
  const mgMs = Date.now() - t0;
  const mg = new Map<string, ToolVerdict>(rows.map((r, i) => [r.fixture, reports[i]?.verdict ?? 'rejected']));
  const t1 = Date.now();
  const ps = new Map<string, ToolVerdict>(await picklescanAll(join(env, 'bin/python'), rows));
  const psMs = Date.now() - t1;
  const t2 = Date.now();
  const ms = await modelscanAll(join(env, 'bin/modelscan'), rows);
  const msMs = Date.now() - t2;

  const w = Math.max(...rows.map((r) => r.fixture.length));
  const line = (a: string, b: string, c: string, d: string, e: string) =>
    `${a.padEnd(w)}  ${b.padEnd(9)}  ${c.padEnd(10)}  ${d.padEnd(10)}  ${e}`;
  console.log(line('file', 'expected', 'modelgate', 'picklescan', 'modelscan'));
  console.log('-'.repeat(w + 48));
  const missedVsPeers: string[] = [];
  for (const r of rows) {
    const g = mg.get(r.fixture);
    const p = ps.get(r.fixture);
    const m = ms.get(r.fixture);
    const ok = r.accepts.includes(g as Verdict);
    console.log(line(r.fixture, r.expected, `${g}${ok ? '' : ' (!)'}`, p ?? '-', m ?? '-'));
    // A peer flag on a file that is really clean is that peer's false positive, not a catch.
    if (r.expected !== 'clean' && (flagged(p) || flagged(m)) && g === 'clean') missedVsPeers.push(r.fixture);
  }
  const scores = {
    modelgate: score(rows, mg),
    picklescan: score(rows, ps),
    modelscan: score(rows, ms as Map<string, ToolVerdict>),
  };
  const dangerous = rows.filter((r) => r.expected === 'dangerous').length;
  const clean = rows.filter((r) => r.expected === 'clean').length;
  const rejects = rows.filter((r) => r.expected === 'reject').length;
  const expectedMet = rows.filter((r) => r.accepts.includes(mg.get(r.fixture) as Verdict)).length;
  console.log('');
  console.log(
    `corpus: ${rows.length} files — ${dangerous} malicious, ${clean} clean, ${rejects} that must be refused (invalid/encrypted/unsupported)`,
  );
  for (const [tool, s] of Object.entries(scores)) {
    console.log(
      `${tool.padEnd(10)}  detected ${s.detected}/${dangerous} malicious` +
        `${s.failedClosed ? ` (+${s.failedClosed} refused as unparsable)` : ''}, missed ${s.missed}, ` +
        `false positives ${s.falsePositives}/${clean}${s.errorsOnClean ? ` (+${s.errorsOnClean} errors on clean files)` : ''}, refused ${s.rejectsRefused}/${rejects} invalid inputs`,
    );
  }
  console.log(
    `modelgate meets the expected verdict on ${expectedMet}/${rows.length} files; misses vs peers: ${missedVsPeers.length ? missedVsPeers.join(', ') : 'none'}`,
  );
  console.log(
    `time: modelgate ${mgMs} ms in-process, picklescan ${psMs} ms (one process), modelscan ${msMs} ms (one process)`,
  );
  console.log(
    JSON.stringify({
      files: rows.length,
      malicious: dangerous,
      clean,
      mustRefuse: rejects,
      expectedMet,
      missedVsPeers: missedVsPeers.length,
      ...scores,
    }),
  );
  return missedVsPeers.length === 0 ? 0 : 1;
}

process.exitCode = await main();
