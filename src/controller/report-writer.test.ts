import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../kube/clock.ts';
import { FakeKubeClient } from '../kube/fake-client.test-support.ts';
import { OPEN_REPORTS, POLICY_REPORTS } from '../kube/resources.ts';
import { silentLogger } from '../kube/builders.test-support.ts';
import type { ResourceRef } from '../kube/types.ts';
import { ReportWriter } from './report-writer.ts';
import {
  buildPolicyReport,
  emptySummary,
  WGPOLICY_REPORTS,
  reportApis,
  type ReportApi,
  type ReportContent,
} from './reports.ts';

/** A second report API of the same shape (what openreports.io/v1alpha1 Reports will be). */
const REPORTS: ResourceRef = {
  group: 'openreports.io',
  version: 'v1alpha1',
  resource: 'reports',
  kind: 'Report',
  namespaced: true,
};
const SECOND: ReportApi = {
  ref: REPORTS,
  describe: 'openreports.io/v1alpha1 Report',
  build: (c) => ({ ...buildPolicyReport(c), apiVersion: 'openreports.io/v1alpha1', kind: 'Report' }),
};

const content = (namespace: string, fail: number): ReportContent => ({
  name: 'modelgate-audit',
  namespace,
  results: [],
  summary: { ...emptySummary(), fail },
  truncated: 0,
});

function capture(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  return { logger, lines };
}

describe('ReportWriter', () => {
  it('writes a report only when its content changed, and deletes the ones nothing claims', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    const w = new ReportWriter({ client, clock, logger: silentLogger, pageSize: 1 });
    let batch = await w.begin('modelgate-audit');
    await batch?.put(content('a', 1));
    await batch?.put(content('b', 1));
    await batch?.finish();
    expect(
      client
        .all(POLICY_REPORTS)
        .map((r) => r.metadata.namespace)
        .sort(),
    ).toEqual(['a', 'b']);

    const before = client.writes.length;
    batch = await w.begin('modelgate-audit');
    await batch?.put(content('a', 1)); // unchanged: no write
    await batch?.put(content('c', 2));
    await batch?.finish(); // b: nothing to report any more
    expect(client.writes.slice(before).map((x) => `${x.op} ${x.namespace}`)).toEqual([
      'create c',
      'delete b',
    ]);

    // A batch of one namespace leaves the others alone.
    batch = await w.begin('modelgate-audit', 'a');
    await batch?.put(content('a', 3));
    await batch?.finish();
    expect(client.peek(POLICY_REPORTS, 'modelgate-audit', 'a')?.summary).toMatchObject({ fail: 3 });
    expect(client.peek(POLICY_REPORTS, 'modelgate-audit', 'c')).toBeDefined();
  });

  it('says once that no report CRD is installed, and finds one installed later', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    const { logger, lines } = capture();
    client.notServed.add('policyreports');
    client.notServed.add('reports');
    const w = new ReportWriter({ client, clock, logger });
    expect(await w.begin('modelgate-audit')).toBeUndefined();
    await clock.advance(61_000);
    expect(await w.begin('modelgate-verification', 'ml')).toBeUndefined();
    expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([
      'no report CRD installed (openreports.io/v1alpha1 Report or wgpolicyk8s.io/v1alpha2 PolicyReport): audit and verification results go to Events, metrics and policy status only; install one (openreports.io from the OpenReports project, or crds/wgpolicyk8s/) to get reports',
    ]);
    client.notServed.delete('policyreports');
    expect(await w.begin('modelgate-audit')).toBeUndefined(); // the answer holds for a minute
    await clock.advance(61_000);
    expect((await w.begin('modelgate-audit'))?.api).toBe(WGPOLICY_REPORTS);
    expect(lines.at(-1)?.msg).toBe('report CRD installed: writing reports');
  });

  it('writes the first report API the cluster serves, never both', async () => {
    const clock = new FakeClock();
    const both = new FakeKubeClient();
    both.notServed.delete('reports');
    let w = new ReportWriter({ client: both, clock, logger: silentLogger, apis: [SECOND, WGPOLICY_REPORTS] });
    let batch = await w.begin('modelgate-audit');
    await batch?.put(content('a', 1));
    expect(both.all(REPORTS)).toHaveLength(1);
    expect(both.all(POLICY_REPORTS)).toHaveLength(0);

    const onlyPolicyReports = new FakeKubeClient();
    onlyPolicyReports.notServed.add('reports');
    w = new ReportWriter({
      client: onlyPolicyReports,
      clock,
      logger: silentLogger,
      apis: [SECOND, WGPOLICY_REPORTS],
    });
    batch = await w.begin('modelgate-audit');
    await batch?.put(content('a', 1));
    expect(onlyPolicyReports.all(POLICY_REPORTS)).toHaveLength(1);
  });

  it('writes openreports.io Reports when installed (ahead of PolicyReports), PolicyReports when only they are, both only when asked', async () => {
    const clock = new FakeClock();
    const both = new FakeKubeClient();
    both.notServed.delete('reports');
    let batch = await new ReportWriter({ client: both, clock, logger: silentLogger }).begin(
      'modelgate-audit',
    );
    await batch?.put(content('a', 1));
    const open = both.all(OPEN_REPORTS);
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({
      apiVersion: 'openreports.io/v1alpha1',
      kind: 'Report',
      source: 'modelgate',
      summary: { fail: 1 },
    });
    expect(both.all(POLICY_REPORTS)).toHaveLength(0);

    const only = new FakeKubeClient();
    batch = await new ReportWriter({ client: only, clock, logger: silentLogger }).begin('modelgate-audit');
    await batch?.put(content('a', 1));
    expect(only.all(POLICY_REPORTS)).toHaveLength(1);

    const asked = new FakeKubeClient();
    asked.notServed.delete('reports');
    batch = await new ReportWriter({
      client: asked,
      clock,
      logger: silentLogger,
      ...reportApis('both'),
    }).begin('modelgate-audit');
    await batch?.put(content('a', 1));
    await batch?.finish();
    expect([asked.all(OPEN_REPORTS).length, asked.all(POLICY_REPORTS).length]).toEqual([1, 1]);
    expect(reportApis('wgpolicyk8s').apis).toEqual([WGPOLICY_REPORTS]);
  });
});
