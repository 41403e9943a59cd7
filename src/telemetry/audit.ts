// One structured audit record per admission decision (DESIGN §6). Built from selected fields only: never
// the object, its annotations, the user's extra info or request headers, so keys, tokens and bundles in
// a manifest cannot reach the logs.
import type { Logger } from 'pino';

export interface AuditRecord {
  uid: string;
  endpoint: 'validate' | 'mutate';
  user?: string;
  operation?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  subResource?: string;
  dryRun: boolean;
  policies: string[];
  verdict: 'allowed' | 'denied' | 'warned' | 'patched';
  /** Violations (one line each, capped) or why no policy applied. */
  reasons: string[];
  /** Which evidence verified each model ("[policy] model: admission-oci|runtime-hash|allowed-digest"), capped. */
  evidence?: string[];
  warnings: number;
  latencyMs: number;
}

const MAX_REASONS = 20;
const MAX_REASON_CHARS = 512;

// `audit: true` as a child binding: pino serialises bindings once, and writes them exactly where the first
// field of the record was (right after the base fields), so the line is byte-for-byte the same.
const auditLoggers = new WeakMap<Logger, Logger>();
const auditLogger = (logger: Logger): Logger => {
  let child = auditLoggers.get(logger);
  // A child does not follow later level changes of its parent: recreate it if they differ.
  if (!child || child.level !== logger.level) {
    child = logger.child({ audit: true });
    auditLoggers.set(logger, child);
  }
  return child;
};

const MESSAGES: Record<AuditRecord['verdict'], string> = {
  allowed: 'admission allowed',
  denied: 'admission denied',
  warned: 'admission warned',
  patched: 'admission patched',
};

export function logAudit(logger: Logger, record: AuditRecord): void {
  if (!logger.isLevelEnabled('info')) return;
  // The record is logged as is (no copy) unless its reasons need capping.
  const capped =
    record.reasons.length > MAX_REASONS ||
    record.reasons.some((r) => r.length > MAX_REASON_CHARS) ||
    (record.evidence?.length ?? 0) > MAX_REASONS;
  let out = record;
  if (capped) {
    const reasons = record.reasons
      .slice(0, MAX_REASONS)
      .map((r) => (r.length > MAX_REASON_CHARS ? `${r.slice(0, MAX_REASON_CHARS)}…` : r));
    if (record.reasons.length > MAX_REASONS) reasons.push(`… ${record.reasons.length - MAX_REASONS} more`);
    out = {
      ...record,
      reasons,
      ...(record.evidence ? { evidence: record.evidence.slice(0, MAX_REASONS) } : {}),
    };
  }
  auditLogger(logger).info(out, MESSAGES[record.verdict] ?? `admission ${record.verdict}`);
}
