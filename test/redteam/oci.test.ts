// The red-team suite's OCI cases (issue 17): the same three judges (webhook mutate+validate, `modelgate
// check`, the audit), with the controller's evidence records in the cluster view.
import { describe, expect, it } from 'vitest';
import { evidenceConfigMap } from '../../src/oci/oci-images.test-support.ts';
import type { MemoryClusterView } from '../../src/policy/cluster-view.ts';
import { createJudge, expectCaseVerdict, loadSnapshot } from './harness.ts';
import { imageVolumePod, ociCases, ociRecords } from './oci-cases.ts';

const snapshot = loadSnapshot();
const view = snapshot.cluster as MemoryClusterView;
const records = ociRecords();
for (const r of records.modelgate) view.upsert(evidenceConfigMap(r));
for (const o of records.tenant) view.upsert(o);
const judge = createJudge(snapshot);

describe('red team: OCI models proven at admission', () => {
  for (const c of ociCases())
    it(`${c.expect === 'allow' ? 'admits' : 'refuses'} [${c.class}] ${c.name}`, () =>
      expectCaseVerdict(judge, c));

  it('injects no verifier for a model proven at admission, and a scan-only one when the controller could not scan', () => {
    const cases = ociCases();
    const signed = cases.find((c) => c.name.startsWith('an image volume whose manifest'))!;
    const initContainers = (o: Record<string, unknown>) =>
      ((o.spec as Record<string, unknown>).initContainers as Record<string, unknown>[] | undefined) ?? [];
    expect(initContainers(judge(signed.object).final)).toEqual([]);
    const unscanned = cases.find((c) =>
      c.name.startsWith('a signed image volume the controller could not scan'),
    )!;
    const verifier = initContainers(judge(unscanned.object).final)[0]!;
    const config = JSON.parse((verifier.env as { value: string }[])[0]!.value) as { models: unknown[] };
    expect(config.models).toEqual([{ name: 'm', volume: 'm', path: '/models/m', scanOnly: true }]);
    // The same pod without the scan-only verifier (mutation bypassed) is refused by validation.
    expect(judge(unscanned.object, {}, true).webhook.verdict).toBe('denied');
    expect(imageVolumePod('x')).toBeDefined();
  });
});
