// The verifier's result as the kubelet keeps it: compact JSON in the container's termination message,
// which Kubernetes truncates at 4096 bytes, so long reasons and file lists are cut to fit.
import type { ModelVerification, Verdict } from '../signing/verify-model.ts';

export const TERMINATION_MESSAGE_LIMIT = 4096;

export interface VerifierResult {
  model: string;
  verdict: Verdict;
  digest?: string;
  signer?: string;
  /** runtime-hash: every file hashed against the signed manifest here; admission-oci: only scanned (proven at admission). */
  evidence?: 'runtime-hash' | 'admission-oci';
  reason?: string;
  missing?: string[];
  extra?: string[];
  changed?: string[];
  /** Files the format scan refused: "path: verdict rule". */
  scan?: string[];
  files?: number;
  bytes?: number;
  durationMs: number;
}

export function toVerifierResult(model: string, v: ModelVerification): VerifierResult {
  const r: VerifierResult = { model, verdict: v.verdict, durationMs: v.durationMs };
  if (v.digest) r.digest = v.digest;
  if (v.signer) r.signer = v.signer;
  if (v.verdict === 'valid' && v.files) r.evidence = 'runtime-hash';
  if (v.reason) r.reason = v.reason;
  if (v.missing.length) r.missing = v.missing;
  if (v.extra.length) r.extra = v.extra;
  if (v.changed.length) r.changed = v.changed;
  if (v.files) r.files = v.files;
  if (v.bytes) r.bytes = v.bytes;
  return r;
}

const byteLength = (s: string) => Buffer.byteLength(s, 'utf8');

/** Compact JSON no longer than `limit` bytes: file lists, then the reason, then the model path shrink. */
export function terminationMessage(result: VerifierResult, limit = TERMINATION_MESSAGE_LIMIT): string {
  const r: VerifierResult = { ...result };
  let json = JSON.stringify(r);
  for (const key of ['scan', 'missing', 'extra', 'changed'] as const) {
    while (byteLength(json) > limit && (r[key]?.length ?? 0) > 0) {
      r[key] = (r[key] ?? []).slice(0, Math.floor(((r[key]?.length ?? 0) - 1) / 2));
      if (r[key]?.length === 0) delete r[key];
      json = JSON.stringify(r);
    }
  }
  for (const key of ['reason', 'model', 'signer'] as const) {
    while (byteLength(json) > limit && (r[key]?.length ?? 0) > 1) {
      const chars = Array.from(r[key] ?? '');
      const keep = Math.max(0, chars.length - Math.max(1, byteLength(json) - limit) - 1);
      r[key] = chars.slice(0, keep).join('') + '…';
      if (keep === 0) r[key] = '…';
      json = JSON.stringify(r);
    }
  }
  return json;
}

/** Several results as one JSON list within the limit: each result gets an equal share when needed. */
export function terminationMessageList(
  results: readonly VerifierResult[],
  limit = TERMINATION_MESSAGE_LIMIT,
): string {
  const whole = JSON.stringify(results);
  if (byteLength(whole) <= limit || results.length === 0) return whole;
  const share = Math.floor((limit - 2) / results.length) - 1;
  const shared = `[${results.map((r) => terminationMessage(r, share)).join(',')}]`;
  if (byteLength(shared) <= limit) return shared;
  // Too many models for details: failures first, model and verdict only, and a count of the rest.
  const order = [...results].sort((a, b) => Number(a.verdict === 'valid') - Number(b.verdict === 'valid'));
  const kept: string[] = [];
  let size = 2;
  for (const r of order) {
    const item = JSON.stringify({
      model: Array.from(r.model).slice(0, 64).join(''),
      verdict: r.verdict,
      durationMs: r.durationMs,
    });
    if (size + byteLength(item) + 1 + 80 > limit) break;
    kept.push(item);
    size += byteLength(item) + 1;
  }
  const rest = order.length - kept.length;
  if (rest > 0)
    kept.push(
      JSON.stringify({
        model: `(${rest} more)`,
        verdict: order.slice(kept.length).some((r) => r.verdict !== 'valid') ? 'invalid' : 'valid',
        durationMs: 0,
      }),
    );
  return `[${kept.join(',')}]`;
}
