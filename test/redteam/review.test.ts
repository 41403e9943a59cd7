// The security review's findings (review-cases.ts), run through the same harness and policies as the
// red-team suite. Each case asserts what the code does TODAY (`now`):
//   - fixed cases: `now` equals `want` (refused holes, admitted false positives);
//   - open HOLES are admitted although docs/policy.md refuses them (`now: 'admitted'`, `want: 'refused'`);
//   - open FALSE_POSITIVES are refused although the documented model admits them.
// When a fix lands, flip the case's `now` to its `want`: the test then asserts the fixed behaviour (and,
// for refusals, that the message says how to fix it).
import { describe, expect, it } from 'vitest';
import { createJudge, loadSnapshot, type Verdicts } from './harness.ts';
import {
  FALSE_POSITIVES,
  HOLES,
  LIMITATIONS,
  REVIEW_CASES,
  type Outcome,
  type ReviewCase,
} from './review-cases.ts';

const judge = createJudge(loadSnapshot());

function decide(c: ReviewCase): Verdicts {
  return judge(c.object, {
    ...(c.request ? { operation: c.request.operation, oldObject: c.request.oldObject } : {}),
    ...(c.requestKind ? { kind: c.requestKind } : {}),
  });
}

const outcomeOf = (v: Verdicts): Outcome => (v.webhook.verdict === 'denied' ? 'refused' : 'admitted');

function assertNow(c: ReviewCase): void {
  const v = decide(c);
  const reasons = `${v.webhook.reasons.join('\n')}\n${v.webhook.response.status?.message ?? ''}`;
  expect(outcomeOf(v), `${c.id}: ${c.achieves}\ncause: ${c.cause}\nwebhook said: ${reasons}`).toBe(c.now);
  if (c.now === 'refused') expect(v.webhook.response.status?.message ?? '').toMatch(/Fix: \S/);
  if (!c.request && !c.requestKind) {
    // `modelgate check` and the audit reach the webhook's verdict on the object as stored.
    expect(v.check.allowed, `check disagrees: ${v.check.reasons.join('; ')}`).toBe(c.now === 'admitted');
    expect(v.audit?.enforced ?? false, `audit disagrees: ${v.audit?.violations.join('; ')}`).toBe(
      c.now === 'refused',
    );
  }
}

describe('security review', () => {
  it('every case has a unique id, a class, what it achieves and the code that causes it', () => {
    const ids = REVIEW_CASES.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of REVIEW_CASES) {
      expect(c.achieves.length, c.id).toBeGreaterThan(10);
      expect(c.cause, c.id).toMatch(/src\/\S+:\d+|^as H\d\d/);
    }
    expect(HOLES.every((c) => c.want === (c.id in LIMITATIONS ? 'admitted' : 'refused'))).toBe(true);
    expect(FALSE_POSITIVES.every((c) => c.want === 'admitted')).toBe(true);
  });

  describe('holes: hostile workloads the documented model refuses', () => {
    // HOLE while `now` is 'admitted': the workload gets an unchecked model loaded (see `achieves`).
    for (const c of HOLES) it(`${c.id} [${c.class}] ${c.name}`, () => assertNow(c));
  });

  describe('false positives: legitimate workloads the documented model admits', () => {
    // FALSE POSITIVE while `now` is 'refused'.
    for (const c of FALSE_POSITIVES) it(`${c.id} ${c.name}`, () => assertNow(c));
  });
});
