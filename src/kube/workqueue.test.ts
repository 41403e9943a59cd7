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
});
