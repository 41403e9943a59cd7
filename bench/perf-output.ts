// Shared by the bench scripts (issue 9): each writes its final JSON line to docs/perf/<name>.json as
// well, with the machine and its load next to the figures, so `bench/charts.ts` can draw the SVGs from
// the last run and docs/performance.md can cite it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PERF_DIR = fileURLToPath(new URL('../docs/perf/', import.meta.url));

export interface Machine {
  cpus: number;
  cpu_model: string;
  mem_gib: number;
  node: string;
  /** 1, 5 and 15 minute load averages when the bench finished. */
  loadavg: number[];
  finished_at: string;
}

export function machine(): Machine {
  return {
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model.trim() ?? 'unknown',
    mem_gib: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadavg: loadavg().map((l) => Number(l.toFixed(2))),
    finished_at: new Date().toISOString(),
  };
}

/**
 * Prints `summary` (plus the machine and its load average) as the final JSON line on stdout and writes
 * the same object to docs/perf/<name>.json (skipped with BENCH_NO_WRITE=1, e.g. for a quick try).
 */
export function emitResult(name: string, summary: Record<string, unknown>): void {
  const out = { bench: name, ...summary, machine: machine() };
  const line = JSON.stringify(out);
  if (process.env.BENCH_NO_WRITE !== '1') {
    mkdirSync(PERF_DIR, { recursive: true });
    writeFileSync(join(PERF_DIR, `${name}.json`), `${JSON.stringify(out, null, 2)}\n`);
  }
  process.stdout.write(`${line}\n`);
}
