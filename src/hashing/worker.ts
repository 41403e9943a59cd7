// Worker-thread entry of the hash pool: hashes batches of file ranges with blocking reads (this thread
// does nothing else) and reports progress every few MiB. BLAKE2b/BLAKE3 load with the first batch that
// asks for them, so a SHA-256 worker boots without @noble/hashes.
import { parentPort } from 'node:worker_threads';
import { CHUNK_BYTES, hashRangeSync, type RangeTask } from './hash-range.ts';
import { loadRangeHashes } from './range-hashes.ts';

export interface WorkerRequest {
  id: number;
  tasks: RangeTask[];
}

export type WorkerReply =
  | { type: 'progress'; bytes: number }
  | { type: 'done'; id: number; digests: string[] }
  | { type: 'error'; id: number; message: string };

const PROGRESS_EVERY = 16 << 20;
const port = parentPort;
if (port) {
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let pending = 0;
  const onBytes = (n: number) => {
    pending += n;
    if (pending >= PROGRESS_EVERY) {
      port.postMessage({ type: 'progress', bytes: pending } satisfies WorkerReply);
      pending = 0;
    }
  };
  const run = (req: WorkerRequest) => {
    try {
      const digests = req.tasks.map((t) => hashRangeSync(t, buffer, onBytes));
      if (pending > 0) port.postMessage({ type: 'progress', bytes: pending } satisfies WorkerReply);
      pending = 0;
      port.postMessage({ type: 'done', id: req.id, digests } satisfies WorkerReply);
    } catch (err) {
      pending = 0;
      port.postMessage({
        type: 'error',
        id: req.id,
        message: err instanceof Error ? err.message : String(err),
      } satisfies WorkerReply);
    }
  };
  // Requests are answered in order: while a hash function loads, later requests wait behind it.
  let waiting: Promise<void> | undefined;
  port.on('message', (req: WorkerRequest) => {
    const load = loadRangeHashes(new Set(req.tasks.map((t) => t.algorithm)));
    load?.catch(() => undefined); // handled below, once the requests before this one are answered
    if (!load && !waiting) {
      run(req);
      return;
    }
    const chain: Promise<void> = (waiting ?? Promise.resolve())
      .then(() => load)
      .then(
        () => run(req),
        (err: unknown) =>
          port.postMessage({
            type: 'error',
            id: req.id,
            message: err instanceof Error ? err.message : String(err),
          } satisfies WorkerReply),
      )
      .finally(() => {
        if (waiting === chain) waiting = undefined;
      });
    waiting = chain;
  });
}
