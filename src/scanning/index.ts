// Public API of the model-file scanners. `scanPaths` walks files and directories and returns one
// report per file; nothing in a model file is ever executed or imported.
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { scanSource } from './scan-source.ts';
import { BufferSource, FileSource, type ByteSource } from './source.ts';
import {
  DEFAULT_LIMITS,
  LimitExceeded,
  ScanContext,
  verdictOf,
  type Finding,
  type ScanLimits,
  type Verdict,
} from './types.ts';

export type { Finding, ScanLimits, Severity, Verdict } from './types.ts';
export { DEFAULT_LIMITS } from './types.ts';
export { DENY_FORMAT_NAMES, FORMAT_GROUPS, FORMATS } from '../api/formats.ts';
import { expandDeniedFormats } from '../api/formats.ts';

export interface FileReport {
  path: string;
  format: string;
  verdict: Verdict;
  findings: Finding[];
  /** Every format found inside the file (a PyTorch zip contains `pickle`); `--deny-format` matches these too. */
  contains: string[];
}

export interface ScanOptions {
  /**
   * Format names refused outright (FORMATS, or the groups pytorch/tensorflow/numpy); a format also
   * matches when found inside a file, so `pickle` refuses PyTorch checkpoints and joblib files.
   */
  denyFormats?: string[];
  /**
   * Extra pickle globals to treat as data, fully qualified and exact (`mycompany.transformers.ClipOutliers`):
   * they may be instantiated without __init__, given an instance state, called with plain-data arguments
   * or referenced. They cannot override the denylist. In a cluster only cluster-scoped configuration sets them.
   */
  allowGlobals?: string[];
  limits?: Partial<ScanLimits>;
}

/** Scan files and directories (recursively; symlinked directories are not followed). */
export async function scanPaths(paths: string[], options: ScanOptions = {}): Promise<FileReport[]> {
  const limits: ScanLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const allow = new Set(options.allowGlobals ?? []);
  const deny = expandDeniedFormats(options.denyFormats ?? []);
  const reports: FileReport[] = [];
  for (const p of paths) {
    for await (const file of walk(p)) {
      reports.push(
        file.error === undefined
          ? await scanFile(file.path, limits, allow, deny)
          : unreadable(file.path, file.error),
      );
    }
  }
  return reports;
}

async function* walk(path: string): AsyncGenerator<{ path: string; error?: string }> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    yield { path, error: (e as Error).message };
    return;
  }
  if (st.isFile()) {
    yield { path };
    return;
  }
  if (!st.isDirectory()) {
    yield { path, error: 'not a regular file or directory' };
    return;
  }
  let entries;
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch (e) {
    yield { path, error: (e as Error).message };
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const child = join(path, e.name);
    if (e.isDirectory()) yield* walk(child);
    else if (e.isFile()) yield { path: child };
    else if (e.isSymbolicLink()) {
      const t = await stat(child).catch(() => undefined);
      if (t?.isFile()) yield { path: child };
      else if (t === undefined) yield { path: child, error: 'dangling symbolic link' };
    }
  }
}

function unreadable(path: string, error: string): FileReport {
  return {
    path,
    format: 'unknown',
    verdict: 'rejected',
    findings: [{ rule: 'unreadable', severity: 'rejected', detail: error }],
    contains: [],
  };
}

/** Scan one file. Never throws: failures become `rejected` findings. */
export async function scanFile(
  path: string,
  limits: ScanLimits,
  allow: ReadonlySet<string>,
  deny: ReadonlySet<string>,
): Promise<FileReport> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    const { size } = await handle.stat();
    return await scanWith(new FileSource(handle, size), path, limits, allow, deny);
  } catch (e) {
    return unreadable(path, (e as Error).message);
  } finally {
    await handle?.close();
  }
}

/** Scan bytes already in memory (`name` gives the extension hint and the report path). */
export async function scanBuffer(
  bytes: Uint8Array,
  name: string,
  options: ScanOptions = {},
): Promise<FileReport> {
  const limits: ScanLimits = { ...DEFAULT_LIMITS, ...options.limits };
  return scanWith(
    new BufferSource(bytes),
    name,
    limits,
    new Set(options.allowGlobals ?? []),
    expandDeniedFormats(options.denyFormats ?? []),
  );
}

/** Scan any byte source; never throws for bad input. */
export async function scanWith(
  src: ByteSource,
  name: string,
  limits: ScanLimits,
  allow: ReadonlySet<string>,
  deny: ReadonlySet<string>,
): Promise<FileReport> {
  const ctx = new ScanContext(limits, allow);
  let format = 'unknown';
  try {
    format = await scanSource(src, ctx, { name, depth: 0 });
  } catch (e) {
    if (e instanceof LimitExceeded) {
      ctx.add({
        rule: 'limit-exceeded',
        severity: 'rejected',
        detail: `${e.message} (limit ${e.limit}); raise it only for a model you otherwise trust`,
      });
    } else if (e instanceof RangeError) {
      ctx.add({
        rule: 'limit-exceeded',
        severity: 'rejected',
        detail: `input too large or too deeply nested to scan (${e.message})`,
      });
    } else {
      ctx.add({
        rule: 'scan-error',
        severity: 'rejected',
        detail: `the scanner failed on this input: ${(e as Error).message}`,
      });
    }
  }
  const contains = [...ctx.formats].filter((f) => f !== format).sort();
  const denied = [format, ...contains].filter((f) => deny.has(f));
  if (denied.length > 0) {
    ctx.add({
      rule: 'format-denied',
      severity: 'suspicious',
      detail: `policy denies the ${denied.join(', ')} format${denied.length > 1 ? 's' : ''}; convert the model (e.g. to safetensors) instead of loading it`,
    });
  }
  const findings = dedupe(ctx.findings);
  return { path: name, format, verdict: verdictOf(findings), findings, contains };
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const k = `${f.rule}\0${f.member ?? ''}\0${f.offset ?? ''}\0${f.detail}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
