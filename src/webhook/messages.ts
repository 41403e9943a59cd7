// What a deployer reads: the denial message (kubectl prints it after `admission webhook ... denied the
// request:`), warnings, and audit annotations. Long lists are trimmed: the API server and terminals are
// not the place for a hundred violations, and the audit log has them all.
import { formatViolation } from '../policy/decide.ts';
import type { Violation } from '../policy/types.ts';

export const MAX_MESSAGE_CHARS = 4000;
export const MAX_WARNINGS = 10;
export const MAX_WARNING_CHARS = 512;

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function objectLabel(kind: string, namespace: string | undefined, name: string | undefined): string {
  return `${kind} ${namespace ? `${namespace}/` : ''}${name || '(generated name)'}`;
}

/** "modelgate denied Deployment prod/llm: 2 violations: (1) [policy] check (model): what. Fix: how. (2) …". */
export function denialMessage(workload: string, violations: readonly Violation[]): string {
  const n = violations.length;
  const head = `modelgate denied ${workload}: ${n} violation${n === 1 ? '' : 's'}:`;
  let out = head;
  for (const [i, v] of violations.entries()) {
    const line = ` (${i + 1}) ${formatViolation(v)}`;
    const rest = n - i - 1;
    const tail =
      rest > 0
        ? ` … and ${rest} more (run \`modelgate check\` on the manifest, or see the webhook audit log)`
        : '';
    if (out.length + line.length + tail.length > MAX_MESSAGE_CHARS) {
      const more = n - i;
      return `${out} … and ${more} more (run \`modelgate check\` on the manifest, or see the webhook audit log)`.slice(
        0,
        MAX_MESSAGE_CHARS,
      );
    }
    out += line;
  }
  return clip(out, MAX_MESSAGE_CHARS);
}

export function trimWarnings(warnings: readonly string[]): string[] {
  const out = warnings.slice(0, MAX_WARNINGS).map((w) => clip(w.replace(/[\r\n]+/g, ' '), MAX_WARNING_CHARS));
  if (warnings.length > MAX_WARNINGS)
    out.push(
      `modelgate: ${warnings.length - MAX_WARNINGS} more warnings not shown (see the webhook audit log)`,
    );
  return out;
}

/** Short values for the API server's audit log (keys are prefixed with the webhook name by the API server). */
export function auditAnnotations(a: {
  decision: string;
  policies: readonly string[];
  violations: number;
}): Record<string, string> {
  return {
    decision: a.decision,
    ...(a.policies.length > 0 ? { policies: clip(a.policies.join(','), 1000) } : {}),
    ...(a.violations > 0 ? { violations: String(a.violations) } : {}),
  };
}
