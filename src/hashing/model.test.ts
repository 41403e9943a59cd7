import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { comparePosixPaths } from './manifest.ts';
import { hashModel, type HashProgress } from './model.ts';
import { isIgnored, normalizeIgnorePaths, walkModel } from './walk.ts';

const tmp = mkdtempSync(join(tmpdir(), 'modelgate-model-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const base = { method: 'files', hashType: 'sha256', ignorePaths: [], allowSymlinks: false } as const;

describe('hashModel progress', () => {
  it.each([0, 2])('counts every file and byte (workers %i)', async (workers) => {
    const root = join(tmp, `p${workers}`);
    mkdirSync(join(root, 'd'), { recursive: true });
    for (let i = 0; i < 20; i++) writeFileSync(join(root, 'd', `f${i}`), Buffer.alloc(i * 1000, i));
    const seen: HashProgress[] = [];
    const m = await hashModel(root, {
      ...base,
      method: 'shards',
      shardSize: 4096,
      workers,
      onProgress: (p) => seen.push(p),
    });
    const last = seen.at(-1);
    expect(last).toEqual({ filesDone: 20, filesTotal: 20, bytesDone: m.bytes, bytesTotal: m.bytes });
    for (let i = 1; i < seen.length; i++)
      expect(seen[i]?.filesDone).toBeGreaterThanOrEqual(seen[i - 1]?.filesDone ?? 0);
  });
});

describe('walking a model', () => {
  it('orders paths like pathlib (by component), not like strings', () => {
    const names = ['a-b', 'a/b', 'a.b', 'a b', 'a/b/c', 'Z', 'ä'];
    expect([...names].sort(comparePosixPaths)).toEqual(['Z', 'a/b', 'a/b/c', 'a b', 'a-b', 'a.b', 'ä']);
  });
  it('matches ignore paths from the root, whole components only', () => {
    expect(isIgnored('.git/HEAD', ['.git'])).toBe(true);
    expect(isIgnored('.gitx', ['.git'])).toBe(false);
    expect(isIgnored('sub/.git', ['.git'])).toBe(false);
    expect(normalizeIgnorePaths('/m', ['./a/', '/m/b/c', '/elsewhere', '../x', 'd//e'])).toEqual([
      'a',
      'b/c',
      'd/e',
    ]);
  });
  it('yields to the event loop while it walks (the hash workers are fed from there)', async () => {
    const root = join(tmp, 'many');
    for (let d = 0; d < 20; d++) {
      mkdirSync(join(root, `d${d}`), { recursive: true });
      for (let f = 0; f < 200; f++) writeFileSync(join(root, `d${d}`, `f${f}`), '');
    }
    let found = 0;
    let ticksMidWalk = 0;
    let walking = true;
    const tick = () => {
      if (found > 0 && found < 4000) ticksMidWalk++;
      if (walking) setImmediate(tick);
    };
    setImmediate(tick);
    const walked = await walkModel(root, { ignorePaths: [], allowSymlinks: false, onFile: () => found++ });
    walking = false;
    expect(walked.files).toHaveLength(4000);
    expect(ticksMidWalk).toBeGreaterThan(0);
  });
  it('refuses symbolic link loops and special files, follows allowed links', async () => {
    const root = join(tmp, 'links');
    mkdirSync(join(root, 'd'), { recursive: true });
    writeFileSync(join(root, 'd', 'f'), 'x');
    symlinkSync('..', join(root, 'd', 'up'));
    await expect(walkModel(root, { ignorePaths: [], allowSymlinks: true })).rejects.toThrow(
      /symbolic link loop at d\/up/,
    );
    await expect(walkModel(root, { ignorePaths: [], allowSymlinks: false })).rejects.toThrow(
      /symbolic link not allowed: d\/up/,
    );
    expect(
      (await walkModel(root, { ignorePaths: ['d/up'], allowSymlinks: false })).files.map((f) => f.name),
    ).toEqual(['d/f']);
    const fifo = join(tmp, 'fifo-model');
    mkdirSync(fifo);
    execFileSync('mkfifo', [join(fifo, 'pipe')]);
    await expect(walkModel(fifo, { ignorePaths: [], allowSymlinks: false })).rejects.toThrow(
      /not a regular file or directory/,
    );
  });
  it('reports an unreadable model path', async () => {
    await expect(hashModel(join(tmp, 'missing'), base)).rejects.toThrow(/cannot read the model/);
  });
});

describe('hashing on worker threads equals hashing in this thread', () => {
  it.each(['sha256', 'blake2b', 'blake3'] as const)(
    '%s, files and shards',
    async (hashType) => {
      const root = join(tmp, `algo-${hashType}`);
      mkdirSync(join(root, 'sub'), { recursive: true });
      // A large file (its own task) and many small ones (batched), so both worker paths run.
      writeFileSync(join(root, 'big.bin'), Buffer.alloc(40 * 1024 * 1024 + 17, 7));
      for (let i = 0; i < 100; i++) writeFileSync(join(root, 'sub', `f${i}`), Buffer.alloc(i * 97, i));
      for (const method of ['files', 'shards'] as const) {
        const opts = {
          ...base,
          hashType,
          method,
          ...(method === 'shards' ? { shardSize: 1024 * 1024 } : {}),
        };
        const inThread = await hashModel(root, { ...opts, workers: 0 });
        const onWorkers = await hashModel(root, { ...opts, workers: 2 });
        expect(onWorkers.resources).toEqual(inThread.resources);
        expect(onWorkers.rootDigest).toBe(inThread.rootDigest);
      }
      // 40 MiB hashed four times in pure-JS BLAKE2b: seconds alone, far more on a loaded 2-core machine.
    },
    120_000,
  );
});
