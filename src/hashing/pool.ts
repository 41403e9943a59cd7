// A pool of worker threads hashing file ranges in parallel, so hashing never blocks the event loop.
// Sized to the cores by default; work is handed out in batches to whichever worker is free, largest
// batch first, and each worker holds one batch in reserve so it never waits on a round trip to this
// thread between batches.
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RangeTask } from './hash-range.ts';
import type { WorkerReply, WorkerRequest } from './worker.ts';

/** A batch (one message to a worker; the model hasher fills them) holds at most this many ranges, or bytes. */
export const BATCH_TASKS = 64;
export const BATCH_BYTES = 32 << 20;
/** Batches posted to a worker at once: the one it hashes and the next, already in its message queue. */
const IN_FLIGHT = 2;

function tsxLoaderUrl(): string {
  // Sources run through tsx (CLI in development) or vitest; a worker needs the loader registered too.
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    return pathToFileURL(
      createRequire(import.meta.url)
        .resolve('tsx/esm/api')
        .replace(/\.cjs$/, '.mjs'),
    ).href;
  }
}

function startWorker(): Worker {
  if (import.meta.url.endsWith('.ts')) {
    const entry = new URL('./worker.ts', import.meta.url).href;
    const boot = `import(${JSON.stringify(tsxLoaderUrl())}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
    return new Worker(boot, { eval: true });
  }
  return new Worker(new URL('./worker.js', import.meta.url));
}

interface Job {
  id: number;
  tasks: RangeTask[];
  bytes: number;
  resolve: (digests: string[]) => void;
  reject: (err: Error) => void;
  onBytes: ((bytes: number) => void) | undefined;
}

interface Slot {
  worker: Worker;
  /** Posted to the worker, in order: the first is the one it is hashing. */
  jobs: Job[];
}

const rangeBytes = (tasks: readonly RangeTask[]) => tasks.reduce((n, t) => n + (t.end - t.start), 0);

export class HashPool {
  readonly size: number;
  private slots: Slot[] = [];
  private queue: Job[] = [];
  private nextId = 0;
  private closed = false;

  constructor(size = availableParallelism()) {
    this.size = Math.max(1, Math.floor(size));
  }

  /** Hash one batch of ranges on whichever worker is free first (larger queued batches go first). */
  submit(tasks: RangeTask[], onBytes?: (bytes: number) => void): Promise<string[]> {
    if (this.closed) return Promise.reject(new Error('hash pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, tasks, bytes: rangeBytes(tasks), resolve, reject, onBytes });
      this.dispatch();
    });
  }

  /** Start the workers now (they otherwise start with the first batches), so they boot while the caller prepares work. */
  start(workers = this.size): void {
    while (!this.closed && this.slots.length < Math.min(workers, this.size)) this.spawn();
  }

  private takeLargest(): Job {
    let best = 0;
    for (let i = 1; i < this.queue.length; i++)
      if ((this.queue[i] as Job).bytes > (this.queue[best] as Job).bytes) best = i;
    return this.queue.splice(best, 1)[0] as Job;
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      // A free worker first, then a new one, then one with room for a batch in reserve.
      let slot = this.slots.find((s) => s.jobs.length === 0);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) {
        for (const s of this.slots)
          if (s.jobs.length < IN_FLIGHT && (!slot || s.jobs.length < slot.jobs.length)) slot = s;
      }
      if (!slot) return;
      const job = this.takeLargest();
      slot.jobs.push(job);
      slot.worker.postMessage({ id: job.id, tasks: job.tasks } satisfies WorkerRequest);
    }
  }

  private spawn(): Slot {
    const slot: Slot = { worker: startWorker(), jobs: [] };
    slot.worker.on('message', (msg: WorkerReply) => {
      if (msg.type === 'progress') {
        slot.jobs[0]?.onBytes?.(msg.bytes);
        return;
      }
      const job = slot.jobs[0]?.id === msg.id ? slot.jobs.shift() : undefined;
      if (msg.type === 'done') job?.resolve(msg.digests);
      else job?.reject(new Error(msg.message));
      this.dispatch();
    });
    const fail = (err: Error) => {
      this.slots = this.slots.filter((s) => s !== slot);
      for (const job of slot.jobs.splice(0)) job.reject(err);
      if (!this.closed) this.dispatch();
    };
    slot.worker.on('error', fail);
    slot.worker.on('exit', (code) => {
      if (!this.closed) fail(new Error(`hash worker exited with code ${code}`));
    });
    this.slots.push(slot);
    return slot;
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots;
    this.slots = [];
    for (const s of this.queue) s.reject(new Error('hash pool closed'));
    this.queue = [];
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
