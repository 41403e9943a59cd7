// Hash a byte range of a file in fixed-size chunks: memory stays bounded by one buffer whatever the
// file size. The synchronous variant runs inside worker threads; the async one serves in-process use.
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { HashAlgorithm } from './algorithms.ts';
import { createRangeHash, loadRangeHashes } from './range-hashes.ts';

export const CHUNK_BYTES = 1 << 20;

export interface RangeTask {
  path: string;
  algorithm: HashAlgorithm;
  start: number;
  end: number;
  /** A whole file: fail if it grew while being hashed (files method). */
  wholeFile: boolean;
}

export class FileChangedError extends Error {}

function changed(task: RangeTask, got: number): FileChangedError {
  return new FileChangedError(
    `${task.path} changed while being hashed (read ${got} of ${task.end - task.start} bytes)`,
  );
}

/** Synchronous: the task's algorithm must be loaded (loadRangeHashes) first. */
export function hashRangeSync(task: RangeTask, buffer: Buffer, onBytes?: (n: number) => void): string {
  const h = createRangeHash(task.algorithm);
  const fd = openSync(task.path, 'r');
  try {
    let pos = task.start;
    while (pos < task.end) {
      const n = readSync(fd, buffer, 0, Math.min(buffer.length, task.end - pos), pos);
      if (n === 0) throw changed(task, pos - task.start);
      h.update(buffer.subarray(0, n));
      pos += n;
      onBytes?.(n);
    }
    if (task.wholeFile && readSync(fd, buffer, 0, 1, pos) !== 0) throw changed(task, pos - task.start + 1);
  } finally {
    closeSync(fd);
  }
  return h.hex();
}

export async function hashRange(
  task: RangeTask,
  buffer: Buffer,
  onBytes?: (n: number) => void,
): Promise<string> {
  await loadRangeHashes([task.algorithm]);
  const h = createRangeHash(task.algorithm);
  const fh = await open(task.path, 'r');
  try {
    let pos = task.start;
    while (pos < task.end) {
      const { bytesRead: n } = await fh.read(buffer, 0, Math.min(buffer.length, task.end - pos), pos);
      if (n === 0) throw changed(task, pos - task.start);
      h.update(buffer.subarray(0, n));
      pos += n;
      onBytes?.(n);
    }
    if (task.wholeFile && (await fh.read(buffer, 0, 1, pos)).bytesRead !== 0)
      throw changed(task, pos - task.start + 1);
  } finally {
    await fh.close();
  }
  return h.hex();
}
