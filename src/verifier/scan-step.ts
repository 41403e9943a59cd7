// The verifier's second step: after the files are proven to be the signed ones, make sure none of them
// carries code (pickle payloads, Keras Lambda layers, ...) or is of a format the policy refuses. A signed
// model can still be malicious: a signature says who published it, not that it is safe to load.
import { resolve } from 'node:path';
import { scanPaths, type FileReport } from '../scanning/index.ts';
import type { VerifierResult } from './result.ts';

export interface ScanProblem {
  file: string;
  verdict: FileReport['verdict'];
  rule: string;
  detail: string;
}

export interface ScanStepResult {
  ok: boolean;
  files: number;
  problems: ScanProblem[];
  /** One sentence for the termination message. */
  reason?: string;
}

/** What the scan accepts and refuses: the policy's denied formats and the globals configuration allows. */
export interface ScanStepOptions {
  /** Format names refused outright (`formats.deny`, `--deny-format`). */
  denyFormats: string[];
  /**
   * Extra pickle globals treated as data (`--allow-global`; cluster-scoped configuration only), fully
   * qualified. They may appear in data-only shapes (instantiated, given state, called with plain data),
   * never override the denylist.
   */
  allowGlobals?: string[];
  /** Files to leave out (the signature bundle). */
  skip?: string[];
}

/**
 * Scans every file under `modelPath` except `skip`. `clean` passes; `suspicious`, `dangerous` and
 * `rejected` (unparsable, over a limit: fail closed) each refuse the model.
 */
export async function scanModel(modelPath: string, options: ScanStepOptions): Promise<ScanStepResult> {
  const skip = new Set((options.skip ?? []).map((p) => resolve(p)));
  const reports = (
    await scanPaths([modelPath], {
      denyFormats: options.denyFormats,
      allowGlobals: options.allowGlobals ?? [],
    })
  ).filter((r) => !skip.has(resolve(r.path)));
  const problems: ScanProblem[] = reports
    .filter((r) => r.verdict !== 'clean')
    .map((r) => {
      const f = r.findings.find((x) => (x.severity ?? 'info') !== 'info') ?? r.findings[0];
      return { file: r.path, verdict: r.verdict, rule: f?.rule ?? r.verdict, detail: f?.detail ?? '' };
    });
  if (problems.length === 0) return { ok: true, files: reports.length, problems };
  const first = problems[0]!;
  const rel = first.file.startsWith(resolve(modelPath))
    ? first.file.slice(resolve(modelPath).length + 1) || first.file
    : first.file;
  return {
    ok: false,
    files: reports.length,
    problems,
    reason: `${problems.length} file(s) refused by the format scan; ${rel}: ${first.verdict} (${first.rule}: ${first.detail}). The model server was not started: publish the model in a format that carries no code (e.g. safetensors) and sign it again, or remove the file from the model; a reviewed class of your own can be allowed by the cluster's configuration (allowGlobals)`,
  };
}

/**
 * Scan a model whose signature passed and fold a failure into its result: the verdict becomes invalid
 * (exit 1) with the scan's reason. Returns the exit code.
 */
export async function scanVerifiedModel(
  modelPath: string,
  options: ScanStepOptions,
  result: VerifierResult,
  exitCode: number,
): Promise<number> {
  if (exitCode !== 0) return exitCode;
  const started = performance.now();
  let scan: ScanStepResult;
  try {
    scan = await scanModel(modelPath, options);
  } catch (err) {
    scan = { ok: false, files: 0, problems: [], reason: `the format scan failed: ${(err as Error).message}` };
  }
  result.durationMs += Math.round(performance.now() - started);
  if (scan.ok) return 0;
  result.verdict = 'invalid';
  if (scan.reason !== undefined) result.reason = scan.reason;
  result.scan = scan.problems.map((p) => `${p.file}: ${p.verdict} ${p.rule}`);
  return 1;
}
