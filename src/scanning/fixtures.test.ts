// Every fixture of the shared corpus gets the verdict SOURCES.md expects. The table is read from
// SOURCES.md itself, so a fixture added there is tested here without editing this file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCorpusTable, type CorpusRow } from './corpus.test-support.ts';
import { scanPaths } from './index.ts';

const root = fileURLToPath(new URL('../../test/fixtures/model-scanning/', import.meta.url));

function rows(): CorpusRow[] {
  return parseCorpusTable(readFileSync(join(root, 'SOURCES.md'), 'utf8'));
}

const table = rows();

describe('fixture corpus (test/fixtures/model-scanning/SOURCES.md)', () => {
  it('reads the whole table', () => {
    expect(table.length).toBeGreaterThanOrEqual(160);
    expect(table.filter((r) => r.expected === 'dangerous' && r.names.length > 0).length).toBeGreaterThan(100);
  });

  it('gives every fixture its expected verdict', async () => {
    const reports = await scanPaths(table.map((r) => join(root, r.fixture)));
    const failures: string[] = [];
    table.forEach((row, i) => {
      const rep = reports[i];
      if (rep === undefined) return failures.push(`${row.fixture}: no report`);
      if (!row.accepts.includes(rep.verdict)) {
        failures.push(
          `${row.fixture}: expected ${row.accepts.join('|')} (${row.text.slice(0, 60)}), got ${rep.verdict}: ${rep.findings.map((f) => f.rule).join(', ')}`,
        );
      }
      if (rep.verdict === 'dangerous' && row.names.length > 0) {
        const text = rep.findings.map((f) => `${f.detail} ${f.member ?? ''}`).join('\n');
        if (!row.names.some((n) => text.includes(n)))
          failures.push(`${row.fixture}: findings name none of ${row.names.join(', ')}`);
      }
      return undefined;
    });
    expect(failures).toEqual([]);
  });
});

describe('generated corpus (corpus/CORPUS.md, scripts/scan-corpus/generate.py)', () => {
  const corpus = parseCorpusTable(readFileSync(join(root, 'corpus/CORPUS.md'), 'utf8'), 'corpus/');
  const kind = (r: CorpusRow): string => r.fixture.split('/')[1] ?? '';

  it('has every class of issue 15 and enough real benign models', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(300);
    expect(corpus.filter((r) => kind(r) === 'benign').length).toBeGreaterThanOrEqual(60);
    const classes = new Set(
      readFileSync(join(root, 'corpus/CORPUS.md'), 'utf8')
        .split('\n')
        .map((l) => l.split('|')[2]?.trim()),
    );
    for (const c of [
      'joblib',
      'npy',
      'pickle-content',
      'compression',
      'tar',
      'keras',
      'tf',
      'gguf',
      'onnx',
      'advisory',
      'evasion',
      'shape',
      'sklearn',
      'torch',
      'text',
    ])
      expect(classes, c).toContain(c);
  });

  it('gives every file its expected verdict: malicious caught, benign clean, invalid refused', async () => {
    const reports = await scanPaths(corpus.map((r) => join(root, r.fixture)));
    const failures: string[] = [];
    corpus.forEach((row, i) => {
      const rep = reports[i];
      if (rep === undefined) return failures.push(`${row.fixture}: no report`);
      if (!row.accepts.includes(rep.verdict))
        failures.push(
          `${row.fixture}: expected ${row.accepts.join('|')}, got ${rep.verdict}: ${rep.findings.map((f) => f.rule).join(', ')}`,
        );
      if (rep.verdict === 'dangerous' && row.names.length > 0) {
        const text = rep.findings.map((f) => f.detail).join('\n');
        if (!row.names.some((n) => text.includes(n)))
          failures.push(`${row.fixture}: findings name none of ${row.names.join(', ')}`);
      }
      return undefined;
    });
    expect(failures).toEqual([]);
    const invalidClean = corpus.filter((r, i) => kind(r) === 'invalid' && reports[i]?.verdict === 'clean');
    expect(invalidClean).toEqual([]);
  });
});

describe('generated fixtures (generated/GENERATED.md)', () => {
  it.each([
    ['generated/clean_arrays.joblib', 'clean', 'joblib'],
    ['generated/clean_arrays_compressed.joblib', 'clean', 'zlib'],
    ['generated/malicious_after_array.joblib', 'dangerous', 'joblib'],
    ['generated/malicious_object_array.joblib', 'dangerous', 'joblib'],
    ['generated/bypass_int_base0.pkl', 'dangerous', 'pickle'],
    ['generated/bypass_pickle_then_zip.pt', 'dangerous', 'pickle'],
    ['generated/bypass_ext_code.pkl', 'dangerous', 'pickle'],
    ['generated/bypass_dotted_builtins.pkl', 'dangerous', 'pickle'],
  ])('%s is %s', async (f, verdict, format) => {
    const [r] = await scanPaths([join(root, f)]);
    expect(r?.verdict).toBe(verdict);
    expect(r?.format).toBe(format);
  });
});

describe('specific fixture behaviour', () => {
  const scan = async (f: string) => (await scanPaths([join(root, f)]))[0];

  it('reports both the exec import and the truncation of broken_model.pkl', async () => {
    const r = await scan('picklescan/data/broken_model.pkl');
    expect(r?.findings.map((f) => f.rule)).toEqual(
      expect.arrayContaining(['pickle-dangerous-import', 'pickle-truncated']),
    );
  });

  it('scans the second of two back-to-back pickles', async () => {
    const r = await scan('picklescan/data/malicious6.pkl');
    expect(r?.findings.some((f) => f.detail.includes('requests.api.get'))).toBe(true);
  });

  it('scans all five pickles of a legacy torch file and stops before the storages', async () => {
    expect((await scan('picklescan/data/pytorch_model.bin'))?.format).toBe('pytorch-legacy');
    const bypass = await scan('picklescan/data/pytorch_magic_bypass.pt');
    const text = bypass?.findings.map((f) => f.detail).join('\n') ?? '';
    expect(text).toContain('builtins.eval');
    expect(text).toContain('posix.system');
  });

  it('rejects a zip whose local and central names differ, and still finds the payload', async () => {
    const r = await scan('picklescan/data/malicious1_central_directory.zip');
    expect(r?.findings.map((f) => f.rule)).toEqual(
      expect.arrayContaining(['zip-name-mismatch', 'pickle-dangerous-import']),
    );
  });

  it('reads members flagged encrypted (CVE-2025-1945) and reports the flag', async () => {
    for (const f of ['malicious1_0x1.zip', 'malicious1_0x40.zip']) {
      const r = await scan(`picklescan/data/${f}`);
      expect(r?.verdict).toBe('dangerous');
      expect(r?.findings.map((x) => x.rule)).toContain('zip-encrypted');
    }
  });

  it('flags the CRC mismatch of malicious1_crc.zip', async () => {
    expect((await scan('picklescan/data2/malicious1_crc.zip'))?.findings.map((f) => f.rule)).toContain(
      'zip-crc-mismatch',
    );
  });

  it('reports the zip-slip member of path_traversal.zip', async () => {
    const r = await scan('modelaudit/samples/archives/path_traversal.zip');
    expect(r?.findings.find((f) => f.rule === 'archive-path-traversal')?.member).toContain('../');
  });

  it('marks pickle-carrying containers so --deny-format pickle refuses them', async () => {
    const [pt, npy, st] = await scanPaths(
      [
        join(root, 'picklescan/data/new_pytorch_model.bin'),
        join(root, 'picklescan/data2/object_array.npy'),
        join(root, 'safetensors-vectors/valid_i32_2x2.safetensors'),
      ],
      { denyFormats: ['pickle'] },
    );
    expect(pt?.verdict).toBe('suspicious');
    expect(pt?.findings.map((f) => f.rule)).toContain('format-denied');
    expect(npy?.verdict).toBe('suspicious');
    expect(st?.verdict).toBe('clean');
  });
});
