// The verifier's second step: after the files are proven to be the signed ones, make sure none of them
// carries code (pickle payloads, Keras Lambda layers, ...) or is of a format the policy refuses. A signed
// model can still be malicious: a signature says who published it, not that it is safe to load.
import { resolve } from 'node:path';
import { scanPaths, type FileReport } from '../scanning/index.ts';

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

/**
 * Scans every file under `modelPath` except the signature bundle. `clean` passes; `suspicious`,
 * `dangerous` and `rejected` (unparsable, over a limit: fail closed) each refuse the model.
 */
export async function scanModel(
  modelPath: string,
  options: { denyFormats: string[]; skip?: string[] },
): Promise<ScanStepResult> {
  const skip = new Set((options.skip ?? []).map((p) => resolve(p)));
  const reports = (await scanPaths([modelPath], { denyFormats: options.denyFormats })).filter(
    (r) => !skip.has(resolve(r.path)),
  );
  const problems: ScanProblem[] = reports
    .filter((r) => r.verdict !== 'clean')
    .map((r) => {
      const f = r.findings.find((x) => x.rule !== 'info') ?? r.findings[0];
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
    reason: `${problems.length} file(s) refused by the format scan; ${rel}: ${first.verdict} (${first.rule}: ${first.detail}). The model server was not started: publish the model in a format that carries no code (e.g. safetensors) and sign it again, or remove the file from the model`,
  };
}
