import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock, flush } from '../kube/clock.ts';
import { FakeKubeClient } from '../kube/fake-client.test-support.ts';
import { EVENTS } from '../kube/resources.ts';
import { silentLogger } from '../kube/builders.test-support.ts';
import { KubeApiError } from '../kube/types.ts';
import { EVENT_KEY_LABEL, EventRecorder, eventKeyDigest } from './events.ts';
import { ControllerMetrics } from '../telemetry/metrics.ts';

const HOUR = 3_600_000;
const target = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'llm', namespace: 'ml', uid: 'u-1' };

function recorder(
  client: FakeKubeClient,
  clock: FakeClock,
  extra: Partial<ConstructorParameters<typeof EventRecorder>[0]> = {},
) {
  return new EventRecorder({ client, clock, logger: silentLogger, instance: 'controller-0', ...extra });
}

/** Queues an Event and waits for the queue: true when an Event was written. */
async function recordAndWait(
  client: FakeKubeClient,
  events: EventRecorder,
  reason: string,
  message: string,
  key: string,
): Promise<boolean> {
  const before = client.all(EVENTS).length;
  events.record(target, 'Warning', reason, message, key);
  await events.idle();
  return client.all(EVENTS).length > before;
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
    expect(await recordAndWait(client, events, 'PolicyViolation', 'm', 'k1')).toBe(true);
    expect(await recordAndWait(client, events, 'PolicyViolation', 'm', 'k1')).toBe(false);
    expect(await recordAndWait(client, events, 'PolicyWarning', 'm', 'k1')).toBe(true); // another reason
    await clock.advance(HOUR);
    expect(await recordAndWait(client, events, 'PolicyViolation', 'm', 'k1')).toBe(true);
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
    expect(await recordAndWait(client, first, 'PolicyViolation', 'old', 'standing')).toBe(true);
    await clock.advance(HOUR - 120_000);
    expect(await recordAndWait(client, first, 'PolicyViolation', 'newer', 'recent')).toBe(true);
    await clock.advance(60_000);

    // Fail-over: a recorder with no memory of its own (another replica, or this one re-elected).
    const next = recorder(client, clock, { pageSize: 1 });
    expect(await recordAndWait(client, next, 'PolicyViolation', 'newer', 'recent')).toBe(false);
    expect(await recordAndWait(client, next, 'PolicyViolation', 'other', 'new-violation')).toBe(true);
    // 'standing' was recorded 59 minutes ago: still remembered, and due again once its hour is up.
    expect(await recordAndWait(client, next, 'PolicyViolation', 'old', 'standing')).toBe(false);
    await clock.advance(60_000);
    expect(await recordAndWait(client, next, 'PolicyViolation', 'old', 'standing')).toBe(true);
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
    expect(await recordAndWait(client, events, 'PolicyViolation', 'm', 'k')).toBe(false);
    expect(lines.find((l) => l.msg === 'read back earlier Events for de-duplication')).toMatchObject({
      events: 2,
      remembered: 1,
    });
  });

  it('starts with no memory when it cannot read Events back, and says so once', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    await recordAndWait(client, recorder(client, clock), 'PolicyViolation', 'm', 'k');
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
    expect(await recordAndWait(client, events, 'PolicyViolation', 'm', 'k')).toBe(true);
    expect(await recordAndWait(client, events, 'PolicyViolation', 'm', 'k')).toBe(false);
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toMatch(/could not read back the Events.*"list" on events/);
    expect(warnings[0]?.err).toContain('cannot list resource "events"');
  });

  it('reads back once, however many records wait for it, and writes none of what it read back', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    const first = recorder(client, clock);
    for (const k of ['k1', 'k2', 'k3', 'k4']) await recordAndWait(client, first, 'PolicyViolation', 'm', k);
    let listCalls = 0;
    const list = client.list.bind(client);
    client.list = (...args) => {
      listCalls++;
      return list(...args);
    };
    const events = recorder(client, clock);
    // Queued before the read-back finished; each write then finds its key recorded already.
    for (const k of ['k1', 'k2', 'k3', 'k4'])
      expect(events.record(target, 'Warning', 'PolicyViolation', 'm', k)).toBe(true);
    await events.idle();
    expect(client.all(EVENTS)).toHaveLength(4);
    expect(listCalls).toBe(1);
  });

  it('writes at the rate limit, drops what does not fit in the queue (counted), and records it later', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    const metrics = new ControllerMetrics();
    const events = recorder(client, clock, {
      metrics,
      rateLimit: { perSecond: 2, burst: 3 },
      maxPending: 5,
    });
    await events.restore();
    const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
    const queued = keys.map((k) => events.record(target, 'Warning', 'PolicyViolation', k, k));
    // The burst goes out at once (3), 5 wait (the bound), 2 find no room.
    expect(queued).toEqual([true, true, true, true, true, true, true, true, false, false]);
    await flush();
    expect(client.all(EVENTS)).toHaveLength(3);
    await clock.advance(1000);
    expect(client.all(EVENTS)).toHaveLength(5); // 2 per second
    await clock.advance(1500);
    expect(client.all(EVENTS)).toHaveLength(8);
    expect(await metrics.registry.metrics()).toContain(
      'modelgate_events_dropped_total{cause="queue-full"} 2',
    );
    // A later scan records what was dropped, and not again what was written.
    expect(
      keys.map((k) => events.record(target, 'Warning', 'PolicyViolation', k, k)).filter(Boolean),
    ).toHaveLength(2);
    await clock.advance(5000);
    expect(
      client
        .all(EVENTS)
        .map((e) => e.message)
        .sort(),
    ).toEqual(keys);
  });

  it('retries a write that failed, with back-off', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    const events = recorder(client, clock);
    await events.restore();
    client.failNext('create', new Error('connection reset'));
    expect(events.record(target, 'Warning', 'PolicyViolation', 'm', 'k')).toBe(true);
    await flush();
    expect(client.all(EVENTS)).toHaveLength(0);
    await clock.advance(1000);
    expect(client.all(EVENTS)).toHaveLength(1);
  });

  it('forgets a key whose Event could not be written, so the next scan tries again', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    const events = recorder(client, clock);
    client.failNext('create', new KubeApiError(403, 'Forbidden', 'namespace ml is being terminated'));
    expect(await recordAndWait(client, events, 'PolicyViolation', 'm', 'k')).toBe(false);
    expect(await recordAndWait(client, events, 'PolicyViolation', 'm', 'k')).toBe(true);
  });

  it('keeps at most maxRemembered keys, dropping the oldest', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    const events = recorder(client, clock, { maxRemembered: 2 });
    for (const k of ['a', 'b', 'c']) {
      expect(await recordAndWait(client, events, 'PolicyViolation', k, k)).toBe(true);
      await clock.advance(1000);
    }
    expect(await recordAndWait(client, events, 'PolicyViolation', 'c', 'c')).toBe(false);
    expect(await recordAndWait(client, events, 'PolicyViolation', 'a', 'a')).toBe(true); // dropped
  });
});
