// Hashing agrees with GNU sha256sum on files of many sizes: empty, one byte, around shard and read-chunk
// boundaries; shards agree with sha256sum of the same byte ranges.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CHUNK_BYTES } from './hash-range.ts';
import { hashModel } from './model.ts';

const tmp = mkdtempSync(join(tmpdir(), 'modelgate-sha256sum-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
/** GNU sha256sum of several files in one run. */
const sha256sum = (...paths: string[]) =>
  execFileSync('sha256sum', ['-b', ...paths], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((l) => l.slice(0, 64));

const SHARD = 4096;
const size = fc.oneof(
  fc.constantFrom(
    0,
    1,
    SHARD - 1,
    SHARD,
    SHARD + 1,
    2 * SHARD,
    CHUNK_BYTES - 1,
    CHUNK_BYTES,
    CHUNK_BYTES + 1,
  ),
  fc.integer({ min: 0, max: 3 * SHARD + 7 }),
);

describe('hashing equals sha256sum', () => {
  it('whole files and shards', async () => {
    let i = 0;
    await fc.assert(
      fc.asyncProperty(size, async (n) => {
        const path = join(tmp, `f${i++}`);
        const bytes = randomBytes(n);
        writeFileSync(path, bytes);
        const files = await hashModel(path, {
          method: 'files',
          hashType: 'sha256',
          ignorePaths: [],
          allowSymlinks: false,
          workers: 0,
        });
        const slices = [path];
        const shards = await hashModel(path, {
          method: 'shards',
          shardSize: SHARD,
          hashType: 'sha256',
          ignorePaths: [],
          allowSymlinks: false,
          workers: 0,
        });
        expect(shards.resources).toHaveLength(Math.ceil(n / SHARD));
        for (const r of shards.resources) {
          const [, start, end] = r.name.split(':').map(Number);
          const slice = join(tmp, `s${i++}`);
          writeFileSync(slice, bytes.subarray(start, end));
          slices.push(slice);
          expect(r.algorithm).toBe(`sha256-sharded-${SHARD}`);
        }
        const [whole, ...parts] = sha256sum(...slices);
        expect(files.resources).toEqual([{ name: '.', algorithm: 'sha256', digest: whole }]);
        expect(shards.resources.map((r) => r.digest)).toEqual(parts);
      }),
      { numRuns: 25 },
    );
  });

  it('a large file through the worker pool (several read chunks)', async () => {
    const path = join(tmp, 'large');
    writeFileSync(path, randomBytes(3 * CHUNK_BYTES + 123));
    const m = await hashModel(path, {
      method: 'files',
      hashType: 'sha256',
      ignorePaths: [],
      allowSymlinks: false,
      workers: 2,
    });
    expect(m.resources[0]?.digest).toBe(sha256sum(path)[0]);
  });
});
