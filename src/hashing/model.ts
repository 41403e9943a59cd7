// Hash a model directory or file into a model_signing manifest (files or shards), in parallel over a
// worker pool, with progress reports. The walk and the hashing overlap: files go to the workers in
// batches as the walk finds them, and the manifest is put in model_signing's order afterwards.
import { availableParallelism } from 'node:os';
import type { HashAlgorithm } from './algorithms.ts';
import { CHUNK_BYTES, hashRange, type RangeTask } from './hash-range.ts';
import {
  hashUnits,
  resourceAlgorithm,
  rootDigest,
  unitOrder,
  type HashUnit,
  type Resource,
  type SerializationMethod,
} from './manifest.ts';
import { BATCH_BYTES, BATCH_TASKS, HashPool } from './pool.ts';
import { walkModel, type FollowedSymlink, type WalkedFile, type WalkResult } from './walk.ts';

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
  /** Files hashed even when an ignore path covers them (the files a signed manifest lists). */
  keepFiles?: ReadonlySet<string>;
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
  /** Symbolic links followed (allowSymlinks). */
  symlinks: FollowedSymlink[];
}

/**
 * Takes the files of a model as the walk finds them and hashes their units: on a worker pool as soon
 * as it is known to be needed (batches of small files share one message), or in this thread for a
 * tiny model or `workers: 0`.
 */
class ModelHasher {
  private readonly shardSize: number | undefined;
  private readonly units: HashUnit[] = [];
  private readonly tasks: RangeTask[] = [];
  /** For each unit, the index of its file in `left`: the units of that file not hashed yet. */
  private readonly fileOfUnit: number[] = [];
  private readonly left: number[] = [];
  private readonly digests: string[] = [];
  /** Units held back (no pool yet: the model may turn out tiny), then hashed in this thread or sent to a pool. */
  private held: number[] = [];
  /** Small units waiting to fill a batch. */
  private pending: number[] = [];
  private pendingBytes = 0;
  private readonly jobs: Promise<void>[] = [];
  private pool: HashPool | undefined;
  private ownPool = false;
  private readonly mode: 'pool' | 'inline' | 'auto';
  private error: unknown;
  private walking = true;
  private readonly progress: HashProgress = { filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0 };

  constructor(private readonly options: HashModelOptions) {
    this.shardSize = options.method === 'shards' ? (options.shardSize ?? DEFAULT_SHARD_SIZE) : undefined;
    if (options.pool) {
      this.pool = options.pool;
      this.mode = 'pool';
    } else if (options.workers === undefined) {
      // Tiny models are not worth starting threads for (a worker costs tens of milliseconds to boot).
      this.mode = 'auto';
    } else if (options.workers <= 0) {
      this.mode = 'inline';
    } else {
      // Workers start with the first batch (one per queued batch, up to this many).
      this.pool = new HashPool(options.workers);
      this.ownPool = true;
      this.mode = 'pool';
    }
  }

  add(file: WalkedFile): void {
    if (this.error !== undefined) return;
    let units: HashUnit[];
    try {
      units = hashUnits(file, this.options.method, this.shardSize);
    } catch (err) {
      // Reported once the walk is over, so that walk errors come first as they always did.
      this.error = err;
      return;
    }
    const p = this.progress;
    p.filesTotal++;
    p.bytesTotal += file.size;
    // Files finish when the last of their units does; empty files (no shard) count as soon as found.
    if (units.length === 0) p.filesDone++;
    const fileIndex = this.left.push(units.length) - 1;
    for (const u of units) {
      const i = this.units.push(u) - 1;
      this.fileOfUnit.push(fileIndex);
      this.tasks.push({
        path: file.path,
        algorithm: this.options.hashType,
        start: u.start,
        end: u.end,
        wholeFile: this.options.method === 'files',
      });
      if (this.pool) this.enqueue(i);
      else this.held.push(i);
    }
    if (
      this.mode === 'auto' &&
      !this.pool &&
      (p.bytesTotal > SMALL_MODEL_BYTES || this.tasks.length > SMALL_MODEL_TASKS)
    ) {
      this.pool = new HashPool(availableParallelism());
      this.ownPool = true;
      const held = this.held;
      this.held = [];
      for (const i of held) this.enqueue(i);
    }
  }

  private enqueue(i: number): void {
    const t = this.tasks[i] as RangeTask;
    const bytes = t.end - t.start;
    if (bytes >= BATCH_BYTES) {
      this.submit([i]);
      return;
    }
    this.pending.push(i);
    this.pendingBytes += bytes;
    if (this.pending.length >= BATCH_TASKS || this.pendingBytes >= BATCH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.submit(batch);
  }

  private submit(batch: number[]): void {
    const pool = this.pool as HashPool;
    const job = pool
      .submit(
        batch.map((i) => this.tasks[i] as RangeTask),
        this.onBytes,
      )
      .then((digests) => {
        digests.forEach((d, k) => (this.digests[batch[k] ?? 0] = d));
        this.onDone(batch);
      });
    // Awaited in finish(); until then a failure must not count as unhandled.
    job.catch(() => undefined);
    this.jobs.push(job);
  }

  private report(): void {
    // Totals grow while the walk runs: report only once they are final.
    if (!this.walking) this.options.onProgress?.({ ...this.progress });
  }

  private readonly onBytes = (n: number): void => {
    this.progress.bytesDone += n;
    this.report();
  };

  private readonly onDone = (indices: readonly number[]): void => {
    for (const i of indices) {
      const f = this.fileOfUnit[i] ?? 0;
      const left = (this.left[f] ?? 1) - 1;
      this.left[f] = left;
      if (left === 0) this.progress.filesDone++;
    }
    this.report();
  };

  private async hashInline(indices: readonly number[]): Promise<void> {
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    for (const i of indices) {
      this.digests[i] = await hashRange(this.tasks[i] as RangeTask, buffer, this.onBytes);
      this.onDone([i]);
    }
  }

  /** Stop: the walk failed. */
  async abort(): Promise<void> {
    if (this.ownPool) await this.pool?.close();
  }

  async finish(walked: WalkResult): Promise<ModelManifest> {
    try {
      if (this.error !== undefined) throw this.error;
      this.walking = false;
      this.flush();
      // Put the units in model_signing's order while the workers hash.
      const order = unitOrder(this.units);
      if (this.pool) await Promise.all(this.jobs);
      else await this.hashInline(this.held);
      const p = this.progress;
      p.filesDone = p.filesTotal;
      p.bytesDone = p.bytesTotal;
      this.options.onProgress?.({ ...p });
      const algorithm = resourceAlgorithm(this.options.method, this.options.hashType, this.shardSize);
      const resources: Resource[] = order.map((i) => ({
        name: (this.units[i] as HashUnit).resource,
        algorithm,
        digest: this.digests[i] ?? '',
      }));
      return {
        modelName: walked.modelName,
        singleFile: walked.singleFile,
        resources,
        rootDigest: rootDigest(resources),
        files: walked.files.length,
        bytes: p.bytesTotal,
        symlinks: walked.symlinks,
      };
    } finally {
      if (this.ownPool) await this.pool?.close();
    }
  }
}

/** Hash the units of an already-walked model. */
export async function hashWalkedModel(walked: WalkResult, options: HashModelOptions): Promise<ModelManifest> {
  const hasher = new ModelHasher(options);
  for (const f of walked.files) hasher.add(f);
  return hasher.finish(walked);
}

export async function hashModel(modelPath: string, options: HashModelOptions): Promise<ModelManifest> {
  const hasher = new ModelHasher(options);
  let walked: WalkResult;
  try {
    walked = await walkModel(modelPath, {
      ignorePaths: options.ignorePaths,
      ...(options.keepFiles ? { keepFiles: options.keepFiles } : {}),
      allowSymlinks: options.allowSymlinks,
      onFile: (f) => hasher.add(f),
    });
  } catch (err) {
    await hasher.abort();
    throw err;
  }
  return hasher.finish(walked);
}
