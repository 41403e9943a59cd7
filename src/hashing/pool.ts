// A pool of worker threads hashing file ranges in parallel, so hashing never blocks the event loop.
// Sized to the cores by default; work is handed out in small batches to whichever worker is idle.
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RangeTask } from './hash-range.ts';
import type { WorkerReply, WorkerRequest } from './worker.ts';

const BATCH_TASKS = 64;
const BATCH_BYTES = 32 << 20;

function tsxLoaderUrl(): string {
  // Sources run through tsx (CLI in development) or vitest; a worker needs the loader registered too.
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    return pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
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
  tasks: RangeTask[];
  resolve: (digests: string[]) => void;
  reject: (err: Error) => void;
  onBytes: ((bytes: number) => void) | undefined;
}

interface Slot {
  worker: Worker;
  job?: Job;
}

export class HashPool {
  readonly size: number;
  private slots: Slot[] = [];
  private queue: Job[] = [];
  private nextId = 0;
  private closed = false;

  constructor(size = availableParallelism()) {
    this.size = Math.max(1, Math.floor(size));
  }

  /**
   * Hash ranges; digests come back in task order. `onBytes` hears about hashed bytes as they go,
   * `onDone` about finished tasks (by index).
   */
  async hash(tasks: RangeTask[], onBytes?: (bytes: number) => void, onDone?: (indices: readonly number[]) => void): Promise<string[]> {
    if (this.closed) throw new Error('hash pool is closed');
    const batches: RangeTask[][] = [];
    let current: RangeTask[] = [];
    let bytes = 0;
    // Large ranges first so the tail of the run is short ranges spread over all workers.
    const order = tasks.map((t, i) => i).sort((a, b) => (tasks[b]?.end ?? 0) - (tasks[b]?.start ?? 0) - ((tasks[a]?.end ?? 0) - (tasks[a]?.start ?? 0)));
    const orderedBatches: number[][] = [];
    let currentIdx: number[] = [];
    for (const i of order) {
      const t = tasks[i] as RangeTask;
      current.push(t);
      currentIdx.push(i);
      bytes += t.end - t.start;
      if (current.length >= BATCH_TASKS || bytes >= BATCH_BYTES) {
        batches.push(current);
        orderedBatches.push(currentIdx);
        current = [];
        currentIdx = [];
        bytes = 0;
      }
    }
    if (current.length) {
      batches.push(current);
      orderedBatches.push(currentIdx);
    }
    const results = await Promise.all(
      batches.map(async (b, i) => {
        const digests = await this.submit(b, onBytes);
        onDone?.(orderedBatches[i] ?? []);
        return digests;
      }),
    );
    const digests: string[] = new Array<string>(tasks.length);
    results.forEach((r, b) => r.forEach((d, k) => (digests[orderedBatches[b]?.[k] ?? 0] = d)));
    return digests;
  }

  private submit(tasks: RangeTask[], onBytes: ((bytes: number) => void) | undefined): Promise<string[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ tasks, resolve, reject, onBytes });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.job);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const job = this.queue.shift() as Job;
      slot.job = job;
      slot.worker.postMessage({ id: this.nextId++, tasks: job.tasks } satisfies WorkerRequest);
    }
  }

  private spawn(): Slot {
    const slot: Slot = { worker: startWorker() };
    slot.worker.on('message', (msg: WorkerReply) => {
      if (msg.type === 'progress') {
        slot.job?.onBytes?.(msg.bytes);
        return;
      }
      const job = slot.job;
      slot.job = undefined;
      if (msg.type === 'done') job?.resolve(msg.digests);
      else job?.reject(new Error(msg.message));
      this.dispatch();
    });
    const fail = (err: Error) => {
      this.slots = this.slots.filter((s) => s !== slot);
      slot.job?.reject(err);
      slot.job = undefined;
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
