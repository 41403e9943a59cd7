// Scan every pickle in a byte stream: back-to-back pickles, PyTorch's legacy five-pickle layout, and
// a pickle followed by a zip. Turns VM runs into findings.
import { importSummary, NeedMoreBytes, opcodeName, runPickle, type PickleRun } from './pickle.ts';
import type { ByteSource } from './source.ts';
import { LimitExceeded, type Finding, type ScanContext } from './types.ts';

/** torch.serialization.MAGIC_NUMBER, the first pickle of a legacy (pre-1.6) torch.save file. */
const TORCH_LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

export interface PickleStreamResult {
  findings: Finding[];
  pickles: number;
  /** Offset where a zip archive starts right after the last pickle (pickle/zip polyglot). */
  zipAt?: number;
  legacyTorch: boolean;
  /** Every global imported (resolved names), allowed ones included. */
  imports: Set<string>;
  /** The stream parsed completely (no error, no trailing garbage). */
  complete: boolean;
  /**
   * How much the bytes behave like a pickle when `pickle.load` reads them: `strong` when the load
   * would call something, import a denylisted name, or complete a stream that imports; `weak` when it
   * would only import an unknown module before failing (a text line read as GLOBAL); `none` otherwise.
   */
  evidence: Evidence;
}

export type Evidence = 'none' | 'weak' | 'strong';

const IDENTIFIER_PATH = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;
/** Modules whose import alone does something. */
const IMPORT_SIDE_EFFECTS = new Set(['antigravity', 'this', 'idlelib', 'turtle', 'tkinter']);
const STRUCTURAL_RULES = new Set([
  'pickle-extension-code',
  'pickle-unresolved-import',
  'pickle-build-on-global',
  'pickle-indirect-call',
  'pickle-build-dunder-state',
  'pickle-disallowed-shape',
]);

/** What one run says about the bytes being a pickle (see PickleStreamResult.evidence). */
export function runEvidence(run: PickleRun): Evidence {
  const importable = run.imports.filter(
    (i) => IDENTIFIER_PATH.test(i.module) && IDENTIFIER_PATH.test(i.name),
  );
  // An EXT code in bytes that then fail to parse is what raw numbers look like (0x82-0x84 are common
  // bytes): no process registers extension codes, so it counts only in a stream that reaches STOP.
  const structural = run.findings.some(
    (f) => STRUCTURAL_RULES.has(f.rule) && (f.rule !== 'pickle-extension-code' || run.stopped),
  );
  if (run.calls.length > 0 || structural) return 'strong';
  // An import alone does nothing unless importing runs code (antigravity opens a browser); a text line
  // that reads as `cos\nsystem` imports os and stops.
  if (importable.some((i) => IMPORT_SIDE_EFFECTS.has(i.resolved.split('.')[0] ?? ''))) return 'strong';
  if (run.stopped && importable.length > 0) return 'strong';
  return importable.length > 0 ? 'weak' : 'none';
}

function stronger(a: Evidence, b: Evidence): Evidence {
  return a === 'strong' || b === 'strong' ? 'strong' : a === 'weak' || b === 'weak' ? 'weak' : 'none';
}

function findingsOfRun(run: PickleRun, member: string | undefined): Finding[] {
  const out: Finding[] = [];
  const seen = new Set<string>();
  const calledAt = new Map(run.calls.map((c) => [c.callee, c]));
  const called = (name: string): string => {
    const c = calledAt.get(name);
    return c === undefined ? '' : ` and calls it (${c.opcode} @${c.offset})`;
  };
  for (const imp of run.imports) {
    if (imp.classification === 'allowed') continue;
    const key = `${imp.classification}:${imp.resolved}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(
      imp.classification === 'dangerous'
        ? {
            rule: 'pickle-dangerous-import',
            severity: 'dangerous',
            detail: `imports ${importSummary(imp)} (${imp.opcode})${called(imp.resolved)}: ${imp.reason}. Loading this file runs it.`,
            offset: imp.offset,
          }
        : {
            rule: 'pickle-unknown-import',
            severity: 'suspicious',
            detail: `imports ${importSummary(imp)} (${imp.opcode})${called(imp.resolved)}, ${imp.reason}; loading the file imports${calledAt.has(imp.resolved) ? ' and runs' : ' and may call'} it`,
            offset: imp.offset,
          },
    );
  }
  out.push(...run.findings);
  if (run.error) {
    out.push({
      rule: run.error.truncated ? 'pickle-truncated' : 'pickle-malformed',
      severity: 'rejected',
      detail: `${run.error.message}; a pickle that does not parse cannot be judged`,
      offset: run.error.offset,
    });
  }
  return member === undefined ? out : out.map((f) => ({ ...f, member }));
}

function isZipLocalHeader(d: Uint8Array, at: number): boolean {
  return d[at] === 0x50 && d[at + 1] === 0x4b && d[at + 2] === 0x03 && d[at + 3] === 0x04;
}

/**
 * Run every pickle in `data` from offset 0. With `windowEndsEarly`, `data` is a prefix of a longer
 * stream and NeedMoreBytes is thrown when the pickles run past it.
 */
export function scanPickleStream(
  data: Uint8Array,
  ctx: ScanContext,
  opts: { windowEndsEarly: boolean; member?: string; depth: number },
): PickleStreamResult {
  const res: PickleStreamResult = {
    findings: [],
    pickles: 0,
    legacyTorch: false,
    complete: false,
    imports: new Set(),
    evidence: 'none',
  };
  const budget = { opcodes: ctx.opcodes };
  let pos = 0;
  for (;;) {
    let run: PickleRun;
    try {
      run = runPickle(data, pos, {
        limits: ctx.limits,
        allowGlobals: ctx.allowGlobals,
        budget,
        checkTime: () => ctx.checkTime(),
        windowEndsEarly: opts.windowEndsEarly,
      });
    } catch (e) {
      if (e instanceof NeedMoreBytes) e.evidence = stronger(res.evidence, e.evidence);
      throw e;
    }
    res.pickles++;
    res.evidence = stronger(res.evidence, runEvidence(run));
    res.findings.push(...findingsOfRun(run, opts.member));
    for (const imp of run.imports) res.imports.add(imp.resolved);
    for (const emb of run.embedded)
      res.findings.push(...embeddedFindings(emb.bytes, emb.offset, ctx, opts, budget));
    if (run.joblibArrayAt !== undefined) {
      const plain = plainPickleReading(data, pos, run, ctx, budget, opts.member);
      res.findings.push(...plain.findings);
      for (const name of plain.imports) res.imports.add(name);
    }
    if (run.error) break;
    if (res.pickles === 1 && run.result?.t === 'int' && run.result.v === TORCH_LEGACY_MAGIC)
      res.legacyTorch = true;
    pos = run.end;
    if (res.legacyTorch && res.pickles === 5) {
      // magic, protocol version, sys_info, the state dict, the storage keys; raw storage bytes follow.
      res.complete = true;
      break;
    }
    if (pos >= data.length) {
      if (opts.windowEndsEarly) {
        const more = new NeedMoreBytes('stream continues after the window');
        more.evidence = res.evidence;
        throw more;
      }
      res.complete = true;
      break;
    }
    if (opts.windowEndsEarly && pos + 4 > data.length) {
      const more = new NeedMoreBytes('stream continues after the window');
      more.evidence = res.evidence;
      throw more;
    }
    if (isZipLocalHeader(data, pos)) {
      res.zipAt = pos;
      res.complete = true;
      break;
    }
    if (opcodeName(data[pos] ?? 0) === undefined) {
      res.findings.push({
        rule: 'pickle-trailing-data',
        severity: 'rejected',
        detail: `${data.length - pos}+ bytes after the last pickle's STOP are neither another pickle nor an archive`,
        offset: pos,
        ...(opts.member === undefined ? {} : { member: opts.member }),
      });
      break;
    }
  }
  ctx.opcodes = budget.opcodes;
  return res;
}

/**
 * A joblib file is also a pickle that plain `pickle.load` reads (a `.pkl` name, a loader that does not
 * use joblib): there the bytes joblib reads as array data after a NumpyArrayWrapper's BUILD are opcodes.
 * Real array bytes fail to parse within a few bytes, and a nested object-array pickle then runs against
 * the outer memo, so only what that reading imports by name is reported: a denylisted import always,
 * another import outside the allowlist when the reading calls an import or reaches STOP.
 */
function plainPickleReading(
  data: Uint8Array,
  start: number,
  joblibRun: PickleRun,
  ctx: ScanContext,
  budget: { opcodes: number },
  member: string | undefined,
): { findings: Finding[]; imports: string[] } {
  const from = joblibRun.joblibArrayAt ?? data.length;
  const plain = runPickle(data, start, {
    limits: ctx.limits,
    allowGlobals: ctx.allowGlobals,
    budget,
    checkTime: () => ctx.checkTime(),
    plainPickle: true,
  });
  const later = plain.imports.filter(
    (i) => i.offset >= from && IDENTIFIER_PATH.test(i.module) && IDENTIFIER_PATH.test(i.name),
  );
  const behaves = (plain.stopped && plain.error === undefined) || plain.calls.some((c) => c.offset >= from);
  const imports = later.filter(
    (i) => i.classification === 'dangerous' || (behaves && i.classification !== 'allowed'),
  );
  const known = new Set(findingsOfRun(joblibRun, member).map((f) => `${f.rule}@${f.offset}`));
  const findings = findingsOfRun({ ...plain, imports, findings: [], error: undefined }, member)
    .filter((f) => !known.has(`${f.rule}@${f.offset}`))
    .map((f) => ({
      ...f,
      detail: `read by plain pickle.load (not joblib), the array bytes after a joblib NumpyArrayWrapper are opcodes: ${f.detail}`,
    }));
  return { findings, imports: imports.map((i) => i.resolved) };
}

function embeddedFindings(
  bytes: Uint8Array,
  offset: number,
  ctx: ScanContext,
  opts: { member?: string; depth: number },
  budget: { opcodes: number },
): Finding[] {
  if (opts.depth + 1 > ctx.limits.maxNestingDepth) return [];
  const inner = runPickle(bytes, 0, {
    limits: ctx.limits,
    allowGlobals: ctx.allowGlobals,
    budget,
    checkTime: () => ctx.checkTime(),
  });
  const names = [...new Set(inner.imports.map((i) => i.resolved))];
  const dangerous = inner.imports.some((i) => i.classification === 'dangerous');
  return [
    {
      rule: 'pickle-embedded-pickle',
      severity: dangerous ? 'suspicious' : 'info',
      detail: `a bytes value is itself a pickle${names.length ? ` importing ${names.slice(0, 8).join(', ')}` : ''}; inert unless code that loads the model unpickles it`,
      offset,
      ...(opts.member === undefined ? {} : { member: opts.member }),
    },
  ];
}

/**
 * Scan a pickle file read through `src`, growing the in-memory window only as far as the pickles
 * reach. `probe`: the bytes are only suspected to be a pickle (no magic, no pickle name); the window
 * starts small, and when it would have to grow past the limit before anything pickle-like was seen,
 * the probe ends with `evidence: 'none'` instead of a rejection.
 */
export async function scanPickleSource(
  src: ByteSource,
  ctx: ScanContext,
  opts: { member?: string; depth: number; probe?: boolean },
): Promise<PickleStreamResult> {
  const max = ctx.limits.maxPickleBytes;
  let window = Math.min(src.size, opts.probe ? 64 * 1024 : 64 * 1024 * 1024, max);
  for (;;) {
    const before = ctx.opcodes;
    ctx.chargeRead(window);
    const data = await src.read(0, window);
    try {
      return scanPickleStream(data, ctx, { ...opts, windowEndsEarly: window < src.size });
    } catch (e) {
      if (!(e instanceof NeedMoreBytes)) throw e;
      if (window >= max) {
        if (opts.probe && e.evidence !== 'strong')
          return {
            findings: [],
            pickles: 0,
            legacyTorch: false,
            complete: false,
            imports: new Set(),
            evidence: 'none',
          };
        throw new LimitExceeded('maxPickleBytes', `pickle stream longer than ${max} bytes`);
      }
      ctx.opcodes = before;
      window = Math.min(src.size, window * 4, max);
    }
  }
}
