import { describe, expect, it } from 'vitest';
import { FakeClock, flush } from './clock.ts';
import { silentLogger } from './builders.test-support.ts';
import { WorkQueue } from './workqueue.ts';

describe('WorkQueue', () => {
  it('de-duplicates keys and never runs one key concurrently', async () => {
    const clock = new FakeClock();
    const seen: string[] = [];
    let release: () => void = () => undefined;
    const q = new WorkQueue({ name: 't', clock, logger: silentLogger, concurrency: 1 }, async (k) => {
      seen.push(k);
      if (k === 'a' && seen.length === 1) await new Promise<void>((r) => (release = r));
    });
    q.add('a');
    q.add('a');
    await flush();
    q.add('a'); // while processing: runs once more afterwards
    q.add('b');
    q.add('b');
    await flush();
    expect(seen).toEqual(['a']); // b waits for the single worker
    release();
    await q.idle();
    expect(seen).toEqual(['a', 'b', 'a']);
  });

  it('retries failures with growing back-off, then gives up', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const q = new WorkQueue(
      { name: 't', clock, logger: silentLogger, baseDelayMs: 100, maxRetries: 3 },
      async () => {
        calls++;
        throw new Error('nope');
      },
    );
    q.add('x');
    await flush();
    expect(calls).toBe(1);
    await clock.advance(99);
    expect(calls).toBe(1);
    await clock.advance(1);
    expect(calls).toBe(2);
    await clock.advance(200);
    expect(calls).toBe(3);
    await clock.advance(400);
    expect(calls).toBe(4);
    await clock.advance(10_000);
    expect(calls).toBe(4);
  });

  it('addAfter delays, and an immediate add wins', async () => {
    const clock = new FakeClock();
    const seen: string[] = [];
    const q = new WorkQueue({ name: 't', clock, logger: silentLogger }, async (k) => void seen.push(k));
    q.addAfter('k', 1000);
    await clock.advance(500);
    expect(seen).toEqual([]);
    q.add('k');
    await flush();
    await clock.advance(1000);
    expect(seen).toEqual(['k']);
  });

  it('stop drains: nothing new starts, and it resolves only when the running reconcile has returned', async () => {
    const clock = new FakeClock();
    const seen: string[] = [];
    let release: () => void = () => undefined;
    const q = new WorkQueue({ name: 't', clock, logger: silentLogger }, async (k) => {
      seen.push(k);
      if (k === 'slow') await new Promise<void>((r) => (release = r));
    });
    q.add('slow');
    q.add('next');
    q.addAfter('later', 100);
    await flush();
    let drained = false;
    const stopping = q.stop().then(() => (drained = true));
    await flush();
    expect(drained).toBe(false);
    expect(q.add('new')).toBe(false);
    release();
    await stopping;
    await clock.advance(1000);
    expect(seen).toEqual(['slow']);
  });

  it('addAndWait settles with the outcome of the next run of its key', async () => {
    const clock = new FakeClock();
    let fail = true;
    const q = new WorkQueue({ name: 't', clock, logger: silentLogger, baseDelayMs: 100 }, async () => {
      if (fail) throw new Error('write failed');
    });
    await expect(q.addAndWait('k')).rejects.toThrow('write failed');
    fail = false;
    await clock.advance(100); // the queue retried on its own
    await expect(q.addAndWait('k')).resolves.toBeUndefined();
    const pending = q.addAndWait('k');
    void q.stop();
    await expect(pending).resolves.toBeUndefined(); // it was already running
    await expect(q.addAndWait('k')).rejects.toThrow('stopped');
  });

  it('refuses keys beyond maxDepth, but never a retry', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const q = new WorkQueue(
      { name: 't', clock, logger: silentLogger, maxDepth: 2, baseDelayMs: 100, maxRetries: 1 },
      async (k) => {
        calls++;
        if (k === 'a' && calls === 1) throw new Error('once');
        await new Promise<void>((r) => setImmediate(r));
      },
    );
    expect(q.add('a')).toBe(true); // running
    expect(q.add('b')).toBe(true);
    expect(q.add('c')).toBe(true);
    expect(q.add('d')).toBe(false);
    expect(q.addAfter('e', 10)).toBe(false);
    await q.idle();
    await clock.advance(100);
    await q.idle();
    expect(calls).toBe(4); // a, b, c, and a's retry
  });

  it('starts reconciles at the rate limit', async () => {
    const clock = new FakeClock();
    const starts: number[] = [];
    const q = new WorkQueue(
      { name: 't', clock, logger: silentLogger, concurrency: 10, rateLimit: { perSecond: 4, burst: 2 } },
      async () => void starts.push(clock.now()),
    );
    for (let i = 0; i < 6; i++) q.add(`k${i}`);
    await clock.advance(2000);
    const t0 = starts[0] ?? 0;
    expect(starts.map((t) => t - t0)).toEqual([0, 0, 250, 500, 750, 1000]);
  });
});
