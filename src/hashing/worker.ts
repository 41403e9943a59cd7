// Worker-thread entry of the hash pool: hashes batches of file ranges with blocking reads (this thread
// does nothing else) and reports progress every few MiB.
import { parentPort } from 'node:worker_threads';
import { CHUNK_BYTES, hashRangeSync, type RangeTask } from './hash-range.ts';

export interface WorkerRequest {
  id: number;
  tasks: RangeTask[];
}

export type WorkerReply = { type: 'progress'; bytes: number } | { type: 'done'; id: number; digests: string[] } | { type: 'error'; id: number; message: string };

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
  port.on('message', (req: WorkerRequest) => {
    try {
      const digests = req.tasks.map((t) => hashRangeSync(t, buffer, onBytes));
      if (pending > 0) port.postMessage({ type: 'progress', bytes: pending } satisfies WorkerReply);
      pending = 0;
      port.postMessage({ type: 'done', id: req.id, digests } satisfies WorkerReply);
    } catch (err) {
      pending = 0;
      port.postMessage({ type: 'error', id: req.id, message: err instanceof Error ? err.message : String(err) } satisfies WorkerReply);
    }
  });
}
