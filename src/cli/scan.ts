// modelgate scan: find code in model files without loading them.
import {
  DENY_FORMAT_NAMES,
  scanPaths,
  type FileReport,
  type Finding,
  type Verdict,
} from '../scanning/index.ts';
import { isPickleGlobalName } from '../api/formats.ts';
import { outputFormat, parseFlags, UsageError } from './args.ts';

const USAGE = `usage: modelgate scan <PATH>... [--output text|json] [--deny-format FORMAT]... [--allow-global module.name]...

Scans model files (directories are walked) for embedded code: pickle imports and calls, Keras Lambda
layers, TensorFlow PyFunc ops, ONNX external-data path traversal, malformed safetensors/GGUF, and
archive tricks. Nothing is loaded or executed.

  --output text|json        report format (default text)
  --deny-format FORMAT      refuse files of this format outright; "pickle" also refuses PyTorch
                            checkpoints, joblib and numpy object arrays that contain pickles
                            (${DENY_FORMAT_NAMES.join(', ')})
  --allow-global NAME       treat this exact pickle global (e.g. mylib.transformers.ClipOutliers, your
                            own reviewed class) as data: it may be instantiated, given state and called
                            with plain data; it cannot override the denylist (os.system stays dangerous)

exit status: 1 if any file is suspicious, dangerous or of a denied format; otherwise 2 if any file
was rejected (unparsable, encrypted, over a limit) or a path is unusable; otherwise 0.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      output: { type: 'string' },
      'deny-format': { type: 'string', multiple: true },
      'allow-global': { type: 'string', multiple: true },
    },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const output = outputFormat(values.output);
  if (positionals.length === 0) throw new UsageError(`at least one PATH is required\n\n${USAGE}`);
  const denyFormats = parseDenyFormats(values['deny-format'] ?? []);
  const allowGlobals = parseAllowGlobals(values['allow-global'] ?? []);

  const reports = await scanPaths(positionals, { denyFormats, allowGlobals });
  process.stdout.write(output === 'json' ? renderJson(reports) : renderText(reports));
  return exitCode(reports);
}

/** `--deny-format` values: format or group names (see FORMATS, FORMAT_GROUPS). */
export function parseDenyFormats(denyFormats: string[]): string[] {
  const unknown = denyFormats.filter((f) => !DENY_FORMAT_NAMES.includes(f));
  if (unknown.length > 0)
    throw new UsageError(
      `unknown format ${unknown.join(', ')} for --deny-format (formats: ${DENY_FORMAT_NAMES.join(', ')})`,
    );
  return denyFormats;
}

/** `--allow-global` values: fully qualified Python names (module.Class), matched exactly. */
export function parseAllowGlobals(allowGlobals: string[]): string[] {
  const badGlobal = allowGlobals.find((g) => !isPickleGlobalName(g));
  if (badGlobal !== undefined)
    throw new UsageError(
      `--allow-global needs a fully qualified name like mylib.transformers.ClipOutliers, not "${badGlobal}"`,
    );
  return allowGlobals;
}

export function exitCode(reports: readonly FileReport[]): number {
  if (reports.some((r) => r.verdict === 'suspicious' || r.verdict === 'dangerous')) return 1;
  if (reports.length === 0 || reports.some((r) => r.verdict === 'rejected')) return 2;
  return 0;
}

export function renderJson(reports: readonly FileReport[]): string {
  const files = reports.map((r) => ({
    path: r.path,
    format: r.format,
    verdict: r.verdict,
    findings: r.findings.map((f) => ({
      rule: f.rule,
      detail: f.detail,
      offset: f.offset ?? null,
      severity: f.severity ?? 'info',
      ...(f.member === undefined ? {} : { member: f.member }),
    })),
    contains: r.contains,
  }));
  return JSON.stringify({ files }) + '\n';
}

const ADVICE: Record<Exclude<Verdict, 'clean'>, string> = {
  dangerous:
    'Do not load this file: loading it runs the code above. Quarantine it, find out where it came from, and use a signed safetensors copy from the publisher.',
  suspicious:
    'Loading this file would import code not known to be data-only. If you have reviewed the named globals, allow them with --allow-global NAME (exact names); better, convert the model to safetensors.',
  rejected:
    'modelgate could not fully understand this file, so it fails closed. Re-download or re-export it; if it is legitimately over a limit, raise that limit for this model only.',
};

function where(f: Finding): string {
  const parts = [f.member, f.offset === undefined ? undefined : `@${f.offset}`].filter(
    (x) => x !== undefined,
  );
  return parts.length ? `${parts.join(' ')}: ` : '';
}

export function renderText(reports: readonly FileReport[]): string {
  const lines: string[] = [];
  const counts: Record<Verdict, number> = { clean: 0, suspicious: 0, dangerous: 0, rejected: 0 };
  for (const r of reports) {
    counts[r.verdict]++;
    const fmt = r.contains.length ? `${r.format}, contains ${r.contains.join(', ')}` : r.format;
    lines.push(`${r.verdict.toUpperCase().padEnd(10)} ${r.path} (${fmt})`);
    if (r.verdict === 'clean') continue;
    for (const f of r.findings) {
      const sev = f.severity ?? 'info';
      const mark =
        sev === 'dangerous' ? '!!' : sev === 'suspicious' ? ' ?' : sev === 'rejected' ? ' x' : ' i';
      lines.push(`  ${mark} [${f.rule}] ${where(f)}${f.detail}`);
    }
    lines.push(`  -> ${ADVICE[r.verdict]}`);
  }
  lines.push('');
  lines.push(
    `${reports.length} file${reports.length === 1 ? '' : 's'}: ${counts.clean} clean, ${counts.suspicious} suspicious, ${counts.dangerous} dangerous, ${counts.rejected} rejected`,
  );
  return lines.join('\n') + '\n';
}
