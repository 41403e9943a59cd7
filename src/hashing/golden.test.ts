// model_signing's own golden statements and manifests (SOURCES.md §2) reproduced exactly.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildStatement } from '../signing/statement.ts';
import { hashModel, type HashModelOptions } from './model.ts';

const GOLDEN = fileURLToPath(
  new URL('../../test/fixtures/model-signing/model-transparency-golden-statements/', import.meta.url),
);
const tmp = mkdtempSync(join(tmpdir(), 'modelgate-golden-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Models that cannot live in git are made here, following model_signing's tests/conftest.py.
mkdirSync(join(tmp, 'empty_folder_model'));
writeFileSync(join(tmp, 'outside_file'), 'This is a simple model');
mkdirSync(join(tmp, 'symlink_model'));
symlinkSync(join(tmp, 'outside_file'), join(tmp, 'symlink_model', 'symlink_file'));

const MODELS: Record<string, string> = {
  sample_model_file: join(GOLDEN, 'models/sample_model_file/file_model'),
  empty_model_file: join(GOLDEN, 'models/empty_model_file/empty_file_model'),
  sample_model_folder: join(GOLDEN, 'models/sample_model_folder/sample_model'),
  model_folder_with_empty_file: join(GOLDEN, 'models/model_folder_with_empty_file/empty_file_inside_model'),
  deep_model_folder: join(GOLDEN, 'models/deep_model_folder/deep_model'),
  empty_model_folder: join(tmp, 'empty_folder_model'),
  symlink_model_folder: join(tmp, 'symlink_model'),
};

const VARIANTS = [
  { suffix: '', method: 'files', shardSize: undefined, manifestDir: 'file', manifestSuffix: '' },
  {
    suffix: '_shard',
    method: 'shards',
    shardSize: 1_000_000_000,
    manifestDir: 'file_shard',
    manifestSuffix: '',
  },
  {
    suffix: '_small_shards',
    method: 'shards',
    shardSize: 8,
    manifestDir: 'file_shard',
    manifestSuffix: '_small_shards',
  },
] as const;

const cases = Object.entries(MODELS).flatMap(([model, path]) =>
  VARIANTS.map((v) => ({ name: `${model}${v.suffix}`, model, path, ...v })),
);

describe('golden statements of model_signing', () => {
  it.each(cases)('$name', async ({ model, path, method, shardSize, suffix, manifestDir, manifestSuffix }) => {
    const options: HashModelOptions = {
      method,
      hashType: 'sha256',
      ignorePaths: [],
      allowSymlinks: true,
      workers: 0,
    };
    if (shardSize !== undefined) options.shardSize = shardSize;
    const manifest = await hashModel(path, options);
    const serialization = {
      method,
      hashType: 'sha256',
      allowSymlinks: true,
      ...(shardSize !== undefined ? { shardSize } : {}),
    } as const;
    const expected: unknown = JSON.parse(
      readFileSync(join(GOLDEN, 'tests/_signing/testdata/signing/TestPayload', `${model}${suffix}`), 'utf8'),
    );
    expect(buildStatement(manifest, serialization)).toEqual(expected);
    // The serializer goldens exist for files, 1e9 shards and 8-byte shards (file_shard/<m>[_small_shards]).
    const text = readFileSync(
      join(
        GOLDEN,
        'tests/_serialization/testdata',
        manifestDir,
        'TestSerializer',
        `${model}${manifestSuffix}`,
      ),
      'utf8',
    );
    const lines = manifest.resources.map((r) => `${r.name}:${r.digest}`);
    expect(lines.join('\n')).toBe(text.trimEnd());
  });

  it('gives the same manifest through the worker pool', async () => {
    const inline = await hashModel(MODELS.sample_model_folder ?? '', {
      method: 'shards',
      shardSize: 8,
      hashType: 'sha256',
      ignorePaths: [],
      allowSymlinks: true,
      workers: 0,
    });
    const pooled = await hashModel(MODELS.sample_model_folder ?? '', {
      method: 'shards',
      shardSize: 8,
      hashType: 'sha256',
      ignorePaths: [],
      allowSymlinks: true,
      workers: 2,
    });
    expect(pooled).toEqual(inline);
  });
});
