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
  warnings: number;
  latencyMs: number;
}

const MAX_REASONS = 20;
const MAX_REASON_CHARS = 512;

export function logAudit(logger: Logger, record: AuditRecord): void {
  const reasons = record.reasons
    .slice(0, MAX_REASONS)
    .map((r) => (r.length > MAX_REASON_CHARS ? `${r.slice(0, MAX_REASON_CHARS)}…` : r));
  if (record.reasons.length > MAX_REASONS) reasons.push(`… ${record.reasons.length - MAX_REASONS} more`);
  logger.info({ audit: true, ...record, reasons }, `admission ${record.verdict}`);
}
