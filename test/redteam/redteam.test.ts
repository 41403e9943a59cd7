// The red-team suite (issue 13): hostile workloads across every class of the fail-closed model, each
// refused with a reason that names what to fix, and the controls a real platform runs, admitted. Each case
// is decided three ways — the webhook (mutate, then validate), `modelgate check` and the audit — and the
// three must agree.
import { describe, expect, it } from 'vitest';
import { CASES, ephemeralCases, type Case } from './cases.ts';
import { createJudge, loadSnapshot } from './harness.ts';

const snapshot = loadSnapshot();
const judge = createJudge(snapshot);

function run(c: Case) {
  const v = judge(
    c.object,
    c.request
      ? {
          operation: c.request.operation,
          oldObject: c.request.oldObject,
          ...(c.request.subResource ? { subResource: c.request.subResource } : {}),
        }
      : {},
    c.bypassMutation === true,
  );
  // What the deployer reads: the violations, and the denial message with each fix.
  const reasons = `${v.webhook.reasons.join('\n')}\n${v.webhook.response.status?.message ?? ''}`;
  if (c.expect === 'allow') {
    expect(v.webhook.verdict, `webhook refused a control: ${reasons}`).not.toBe('denied');
  } else {
    expect(v.webhook.verdict, `webhook admitted a hostile workload`).toBe('denied');
    expect(reasons).toMatch(c.why!);
    // Every refusal says how to fix it.
    expect(v.webhook.response.status?.message ?? '').toMatch(/Fix: \S/);
  }
  if (!c.request) {
    // The offline check and the audit reach the webhook's verdict on the object as stored.
    expect(v.check.allowed, `check disagrees: ${v.check.reasons.join('; ')}`).toBe(c.expect === 'allow');
    const auditDenies = v.audit?.enforced ?? false;
    expect(auditDenies, `audit disagrees: ${v.audit?.violations.join('; ')}`).toBe(c.expect === 'deny');
  }
}

describe('red team: hostile workloads are refused with a reason, controls are admitted', () => {
  it('the policies compile (except the one meant to be broken)', () => {
    expect(snapshot.errors.map((e) => [e.source, e.reason])).toEqual([
      ['redteam-policies.yaml (document 6)', 'TrustMaterialInvalid'],
    ]);
  });

  it('has at least 100 hostile cases across every class', () => {
    const hostile = CASES.filter((c) => c.expect === 'deny');
    expect(hostile.length).toBeGreaterThanOrEqual(100);
    expect(new Set(hostile.map((c) => c.class)).size).toBeGreaterThanOrEqual(12);
  });

  for (const c of CASES)
    it(`${c.expect === 'allow' ? 'admits' : 'refuses'} [${c.class}] ${c.name}`, () => run(c));

  describe('ephemeral containers added to a running, verified pod', () => {
    const base = CASES.find((c) => c.name.startsWith('a signed model on a PVC'))!;
    const running = judge(base.object).final;
    it('the running pod is admitted', () => expect(judge(running).webhook.verdict).not.toBe('denied'));
    for (const c of ephemeralCases(running)) it(`refuses [${c.class}] ${c.name}`, () => run(c));
  });
});
