import { describe, expect, it } from 'vitest';
import { FakeClock, flush } from '../kube/clock.ts';
import { FakeKubeClient } from '../kube/fake-client.test-support.ts';
import { LEASES } from '../kube/resources.ts';
import { silentLogger } from '../kube/builders.test-support.ts';
import { LeaderElector, leaseAction, leaseRecord } from './leader.ts';

function candidate(client: FakeKubeClient, clock: FakeClock, identity: string, log: string[]) {
  return new LeaderElector({
    client,
    clock,
    logger: silentLogger,
    namespace: 'modelgate-system',
    name: 'modelgate-controller',
    identity,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    onStartedLeading: () => void log.push(`${identity} leads`),
    onStoppedLeading: () => void log.push(`${identity} stops`),
  });
}

describe('leaseAction', () => {
  const rec = { holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 };
  it('waits for a live holder, takes an expired or released lease', () => {
    expect(leaseAction(undefined, 'b', 0, 0)).toBe('create');
    expect(leaseAction(rec, 'a', 0, 0)).toBe('renew');
    expect(leaseAction(rec, 'b', 14_999, 0)).toBe('wait');
    expect(leaseAction(rec, 'b', 15_000, 0)).toBe('acquire');
    expect(leaseAction({ ...rec, holderIdentity: '' }, 'b', 0, 0)).toBe('acquire');
  });
});

describe('LeaderElector', () => {
  it('one leader at a time; a killed leader is replaced within the lease duration', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    const log: string[] = [];
    const a = candidate(client, clock, 'a', log);
    const b = candidate(client, clock, 'b', log);
    a.start();
    await flush();
    b.start();
    await clock.advance(10_000);
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    expect(leaseRecord(client.peek(LEASES, 'modelgate-controller', 'modelgate-system'))?.holderIdentity).toBe(
      'a',
    );

    // Kill a (no release): its timers stop, the lease is no longer renewed.
    const killedAt = clock.now();
    (a as unknown as { stopped: boolean }).stopped = true;
    let tookOverAt = 0;
    for (let t = 0; t < 30_000 && !tookOverAt; t += 100) {
      await clock.advance(100);
      if (b.isLeader()) tookOverAt = clock.now();
    }
    expect(tookOverAt - killedAt).toBeLessThanOrEqual(15_000);
    const rec = leaseRecord(client.peek(LEASES, 'modelgate-controller', 'modelgate-system'));
    expect(rec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    // a's ticks stopped (a hung process, a stalled request): its own deadline still ends its term, first.
    expect(log).toEqual(['a leads', 'a stops', 'b leads']);
    await b.stop();
  });

  it('a leader that cannot renew stops leading; a clean stop hands over at once', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    const log: string[] = [];
    const a = candidate(client, clock, 'a', log);
    a.start();
    await clock.advance(100);
    expect(a.isLeader()).toBe(true);
    for (let i = 0; i < 8; i++) client.failNext('get', new Error('connection refused'), 'leases');
    await clock.advance(12_000);
    expect(a.isLeader()).toBe(false);
    await clock.advance(20_000);
    expect(a.isLeader()).toBe(true);

    const b = candidate(client, clock, 'b', log);
    b.start();
    await clock.advance(2_000);
    await a.stop();
    await clock.advance(4_100);
    expect(b.isLeader()).toBe(true);
    await b.stop();
  });
});
