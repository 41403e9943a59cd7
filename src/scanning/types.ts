// Shared vocabulary of the scanners: verdicts, findings, limits, and the context a scan carries.

export type Verdict = 'clean' | 'suspicious' | 'dangerous' | 'rejected';

/**
 * How much a finding weighs. `info` never changes a verdict (e.g. "holds an inert embedded pickle");
 * `rejected` means the scanner could not fully understand the input and fails closed.
 */
export type Severity = 'info' | 'rejected' | 'suspicious' | 'dangerous';

export interface Finding {
  rule: string;
  detail: string;
  offset?: number;
  severity?: Severity;
  /** Archive member path (`outer.zip!inner/data.pkl`) when the finding is inside a container. */
  member?: string;
}

export interface ScanLimits {
  /** Bytes of one pickle stream (or inflated archive member) held in memory at once. */
  maxPickleBytes: number;
  /** Bytes read from one file by a content scan (headers, configs, archive members in total). */
  maxReadBytes: number;
  /** Pickle opcodes executed per file. */
  maxOpcodes: number;
  /** Pickle memo entries. */
  maxMemoEntries: number;
  /** Pickle stack plus mark-stack depth. */
  maxStackDepth: number;
  /** Archives within archives, and pickles within pickles. */
  maxNestingDepth: number;
  /** Members per archive. */
  maxArchiveMembers: number;
  /** Wall-clock budget per file, in milliseconds. */
  maxMillis: number;
  /** Length of a safetensors / GGUF header or a JSON config read into memory. */
  maxHeaderBytes: number;
}

export const DEFAULT_LIMITS: ScanLimits = {
  maxPickleBytes: 1024 * 1024 * 1024,
  maxReadBytes: 4 * 1024 * 1024 * 1024,
  maxOpcodes: 200_000_000,
  maxMemoEntries: 10_000_000,
  maxStackDepth: 10_000_000,
  maxNestingDepth: 4,
  maxArchiveMembers: 100_000,
  maxMillis: 120_000,
  maxHeaderBytes: 100_000_000,
};

/** Thrown when a scan exceeds a limit; turned into a `limit-exceeded` rejection. */
export class LimitExceeded extends Error {
  constructor(
    readonly limit: keyof ScanLimits,
    message: string,
  ) {
    super(message);
  }
}

const RANK: Record<Verdict, number> = { clean: 0, rejected: 1, suspicious: 2, dangerous: 3 };

/** clean < rejected < suspicious < dangerous: a verdict reports the worst thing found. */
export function worseVerdict(a: Verdict, b: Verdict): Verdict {
  return RANK[a] >= RANK[b] ? a : b;
}

export function verdictOf(findings: readonly Finding[]): Verdict {
  let v: Verdict = 'clean';
  for (const f of findings) {
    const s = f.severity ?? 'info';
    if (s !== 'info') v = worseVerdict(v, s);
  }
  return v;
}

/** Everything one file's scan shares: limits, the caller's allowlist, the findings sink, the budget. */
export class ScanContext {
  readonly findings: Finding[] = [];
  /** Every format met inside the file (a PyTorch zip contains `pickle`), for `--deny-format`. */
  readonly formats = new Set<string>();
  opcodes = 0;
  bytesRead = 0;
  private readonly deadline: number;

  constructor(
    readonly limits: ScanLimits,
    readonly allowGlobals: ReadonlySet<string>,
    now: number = Date.now(),
  ) {
    this.deadline = now + limits.maxMillis;
  }

  add(f: Finding): void {
    if (this.findings.length < 10_000) this.findings.push(f);
  }

  checkTime(): void {
    if (Date.now() > this.deadline)
      throw new LimitExceeded('maxMillis', `scan took longer than ${this.limits.maxMillis} ms`);
  }

  chargeRead(n: number): void {
    this.bytesRead += n;
    if (this.bytesRead > this.limits.maxReadBytes) {
      throw new LimitExceeded('maxReadBytes', `scan would read more than ${this.limits.maxReadBytes} bytes`);
    }
  }
}
