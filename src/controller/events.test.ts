import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../kube/clock.ts';
import { FakeKubeClient } from '../kube/fake-client.test-support.ts';
import { EVENTS } from '../kube/resources.ts';
import { silentLogger } from '../kube/builders.test-support.ts';
import { KubeApiError } from '../kube/types.ts';
import { EVENT_KEY_LABEL, EventRecorder, eventKeyDigest } from './events.ts';

const HOUR = 3_600_000;
const target = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'llm', namespace: 'ml', uid: 'u-1' };

function recorder(
  client: FakeKubeClient,
  clock: FakeClock,
  extra: Partial<ConstructorParameters<typeof EventRecorder>[0]> = {},
) {
  return new EventRecorder({ client, clock, logger: silentLogger, instance: 'controller-0', ...extra });
}

function capture(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  return { logger, lines };
}

describe('EventRecorder', () => {
  it('records a key once per repeat interval, and labels the Event with the key digest', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    const events = recorder(client, clock);
    expect(await events.record(target, 'Warning', 'PolicyViolation', 'm', 'k1')).toBe(true);
    expect(await events.record(target, 'Warning', 'PolicyViolation', 'm', 'k1')).toBe(false);
    expect(await events.record(target, 'Warning', 'PolicyWarning', 'm', 'k1')).toBe(true); // another reason
    await clock.advance(HOUR);
    expect(await events.record(target, 'Warning', 'PolicyViolation', 'm', 'k1')).toBe(true);
    const written = client.all(EVENTS);
    expect(written).toHaveLength(3);
    const label = written[0]?.metadata.labels?.[EVENT_KEY_LABEL];
    expect(label).toBe(eventKeyDigest('PolicyViolation', 'k1'));
    // A valid label value: at most 63 characters of [a-z0-9].
    expect(label).toMatch(/^[0-9a-f]{40}$/);
    expect(eventKeyDigest('PolicyViolation', 'k1')).not.toBe(eventKeyDigest('PolicyViolation', 'k2'));
  });

  it('a new leader does not record again what the previous one recorded within the interval', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    const first = recorder(client, clock);
    expect(await first.record(target, 'Warning', 'PolicyViolation', 'old', 'standing')).toBe(true);
    await clock.advance(HOUR - 120_000);
    expect(await first.record(target, 'Warning', 'PolicyViolation', 'newer', 'recent')).toBe(true);
    await clock.advance(60_000);

    // Fail-over: a recorder with no memory of its own (another replica, or this one re-elected).
    const next = recorder(client, clock, { pageSize: 1 });
    expect(await next.record(target, 'Warning', 'PolicyViolation', 'newer', 'recent')).toBe(false);
    expect(await next.record(target, 'Warning', 'PolicyViolation', 'other', 'new-violation')).toBe(true);
    // 'standing' was recorded 59 minutes ago: still remembered, and due again once its hour is up.
    expect(await next.record(target, 'Warning', 'PolicyViolation', 'old', 'standing')).toBe(false);
    await clock.advance(60_000);
    expect(await next.record(target, 'Warning', 'PolicyViolation', 'old', 'standing')).toBe(true);
    expect(client.all(EVENTS).map((e) => e.message)).toEqual(['old', 'newer', 'other', 'old']);
  });

  it('reads back only its own labelled Events, and the newest timestamp of each key', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    const at = (ms: number) => new Date(ms).toISOString();
    const digest = eventKeyDigest('PolicyViolation', 'k');
    // Someone else's Event with no label, and two of ours for the same key: an old one and a recent one.
    client.seed(EVENTS, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'other', namespace: 'ml' },
      reason: 'PolicyViolation',
      lastTimestamp: at(clock.now()),
    });
    client.seed(EVENTS, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'a', namespace: 'ml', labels: { [EVENT_KEY_LABEL]: digest } },
      lastTimestamp: at(clock.now() - 2 * HOUR),
    });
    client.seed(EVENTS, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'b', namespace: 'ml', labels: { [EVENT_KEY_LABEL]: digest } },
      eventTime: at(clock.now() - 10_000),
    });
    const { logger, lines } = capture();
    const events = recorder(client, clock, { logger });
    expect(await events.record(target, 'Warning', 'PolicyViolation', 'm', 'k')).toBe(false);
    expect(lines.find((l) => l.msg === 'read back earlier Events for de-duplication')).toMatchObject({
      events: 2,
      remembered: 1,
    });
  });

  it('starts with no memory when it cannot read Events back, and says so once', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    await recorder(client, clock).record(target, 'Warning', 'PolicyViolation', 'm', 'k');
    client.failNext(
      'list',
      new KubeApiError(
        403,
        'Forbidden',
        'events is forbidden: User "system:serviceaccount:modelgate:modelgate-controller" cannot list resource "events"',
      ),
    );
    const { logger, lines } = capture();
    const events = recorder(client, clock, { logger });
    expect(await events.record(target, 'Warning', 'PolicyViolation', 'm', 'k')).toBe(true);
    expect(await events.record(target, 'Warning', 'PolicyViolation', 'm', 'k')).toBe(false);
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toMatch(/could not read back the Events.*"list" on events/);
    expect(warnings[0]?.err).toContain('cannot list resource "events"');
  });

  it('reads back once, however many records wait for it', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    await recorder(client, clock).record(target, 'Warning', 'PolicyViolation', 'm', 'k');
    let listCalls = 0;
    const list = client.list.bind(client);
    client.list = (...args) => {
      listCalls++;
      return list(...args);
    };
    const events = recorder(client, clock);
    const results = await Promise.all(
      [1, 2, 3, 4].map(() => events.record(target, 'Warning', 'PolicyViolation', 'm', 'k')),
    );
    expect(results).toEqual([false, false, false, false]);
    expect(listCalls).toBe(1);
  });

  it('forgets a key whose Event could not be written, so the next scan tries again', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    const events = recorder(client, clock);
    client.failNext('create', new KubeApiError(403, 'Forbidden', 'namespace ml is being terminated'));
    expect(await events.record(target, 'Warning', 'PolicyViolation', 'm', 'k')).toBe(false);
    expect(await events.record(target, 'Warning', 'PolicyViolation', 'm', 'k')).toBe(true);
  });

  it('keeps at most maxRemembered keys, dropping the oldest', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    const events = recorder(client, clock, { maxRemembered: 2 });
    for (const k of ['a', 'b', 'c']) {
      expect(await events.record(target, 'Warning', 'PolicyViolation', k, k)).toBe(true);
      await clock.advance(1000);
    }
    expect(await events.record(target, 'Warning', 'PolicyViolation', 'c', 'c')).toBe(false);
    expect(await events.record(target, 'Warning', 'PolicyViolation', 'a', 'a')).toBe(true); // dropped
  });
});
