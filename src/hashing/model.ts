// Hash a model directory or file into a model_signing manifest (files or shards), in parallel over a
// worker pool, with progress reports.
import { availableParallelism } from 'node:os';
import type { HashAlgorithm } from './algorithms.ts';
import { CHUNK_BYTES, hashRange, type RangeTask } from './hash-range.ts';
import { compareUnits, hashUnits, resourceAlgorithm, rootDigest, type HashUnit, type Resource, type SerializationMethod } from './manifest.ts';
import { HashPool } from './pool.ts';
import { walkModel, type WalkResult } from './walk.ts';

export const DEFAULT_SHARD_SIZE = 1_000_000_000;
const SMALL_MODEL_BYTES = 1 << 20;
const SMALL_MODEL_TASKS = 64;

export interface HashProgress {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

export interface HashModelOptions {
  method: SerializationMethod;
  hashType: HashAlgorithm;
  shardSize?: number;
  /** Root-relative POSIX paths (see normalizeIgnorePaths), defaults included by the caller. */
  ignorePaths: readonly string[];
  allowSymlinks: boolean;
  /** Worker threads (default: all cores, none for a tiny model); 0 hashes in this thread with async reads. */
  workers?: number;
  /** Reuse a pool across calls instead of starting one. */
  pool?: HashPool;
  onProgress?: (p: HashProgress) => void;
}

export interface ModelManifest {
  modelName: string;
  singleFile: boolean;
  resources: Resource[];
  rootDigest: string;
  files: number;
  bytes: number;
}

async function hashInline(tasks: RangeTask[], onBytes: (n: number) => void, onDone: (indices: readonly number[]) => void): Promise<string[]> {
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  const out: string[] = [];
  for (const [i, t] of tasks.entries()) {
    out.push(await hashRange(t, buffer, onBytes));
    onDone([i]);
  }
  return out;
}

/** Hash the units of an already-walked model. */
export async function hashWalkedModel(walked: WalkResult, options: HashModelOptions): Promise<ModelManifest> {
  const shardSize = options.method === 'shards' ? (options.shardSize ?? DEFAULT_SHARD_SIZE) : undefined;
  const pathOf = new Map(walked.files.map((f) => [f.name, f.path]));
  const units: HashUnit[] = walked.files.flatMap((f) => hashUnits(f, options.method, shardSize)).sort(compareUnits);
  const tasks: RangeTask[] = units.map((u) => ({ path: pathOf.get(u.file) ?? u.file, algorithm: options.hashType, start: u.start, end: u.end, wholeFile: options.method === 'files' }));

  const progress: HashProgress = { filesDone: 0, filesTotal: walked.files.length, bytesDone: 0, bytesTotal: walked.files.reduce((n, f) => n + f.size, 0) };
  // Files finish when the last of their units does; empty files count as soon as we start.
  const unitsLeft = new Map<string, number>(walked.files.map((f) => [f.name, 0]));
  for (const u of units) unitsLeft.set(u.file, (unitsLeft.get(u.file) ?? 0) + 1);
  for (const n of unitsLeft.values()) if (n === 0) progress.filesDone++;
  const onBytes = (n: number) => {
    progress.bytesDone += n;
    options.onProgress?.({ ...progress });
  };
  const onDone = (indices: readonly number[]) => {
    for (const i of indices) {
      const file = units[i]?.file ?? '';
      const left = (unitsLeft.get(file) ?? 1) - 1;
      unitsLeft.set(file, left);
      if (left === 0) progress.filesDone++;
    }
    options.onProgress?.({ ...progress });
  };

  let digests: string[];
  // Tiny models are not worth starting threads for (a worker costs tens of milliseconds to boot).
  const tiny = progress.bytesTotal <= SMALL_MODEL_BYTES && tasks.length <= SMALL_MODEL_TASKS;
  const workers = options.workers ?? (tiny ? 0 : availableParallelism());
  if (options.pool) {
    digests = await options.pool.hash(tasks, onBytes, onDone);
  } else if (workers <= 0 || tasks.length === 0) {
    digests = await hashInline(tasks, onBytes, onDone);
  } else {
    const pool = new HashPool(Math.min(workers, tasks.length));
    try {
      digests = await pool.hash(tasks, onBytes, onDone);
    } finally {
      await pool.close();
    }
  }
  progress.filesDone = progress.filesTotal;
  progress.bytesDone = progress.bytesTotal;
  options.onProgress?.({ ...progress });

  const algorithm = resourceAlgorithm(options.method, options.hashType, shardSize);
  const resources: Resource[] = units.map((u, i) => ({ name: u.resource, algorithm, digest: digests[i] ?? '' }));
  return { modelName: walked.modelName, singleFile: walked.singleFile, resources, rootDigest: rootDigest(resources), files: walked.files.length, bytes: progress.bytesTotal };
}

export async function hashModel(modelPath: string, options: HashModelOptions): Promise<ModelManifest> {
  const walked = await walkModel(modelPath, { ignorePaths: options.ignorePaths, allowSymlinks: options.allowSymlinks });
  return hashWalkedModel(walked, options);
}

