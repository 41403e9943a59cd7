// The red-team suite (issue 13): hostile workloads across every class of the fail-closed model, each
// refused with a reason that names what to fix, and the controls a real platform runs, admitted. Each case
// is decided three ways — the webhook (mutate, then validate), `modelgate check` and the audit — and the
// three must agree.
import { describe, expect, it } from 'vitest';
import { CASES, ephemeralCases, type Case } from './cases.ts';
import { createJudge, expectCaseVerdict, loadSnapshot } from './harness.ts';

const snapshot = loadSnapshot();
const judge = createJudge(snapshot);

const run = (c: Case) => expectCaseVerdict(judge, c);

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
