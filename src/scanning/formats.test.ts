import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { scanBuffer, scanPaths, scanWith } from './index.ts';
import { FileSource, type ByteSource } from './source.ts';
import {
  buildGguf,
  buildTar,
  buildZip,
  concat,
  enc,
  onnxWithExternalData,
  pbBytes,
  reducePickle,
  u16,
  u32,
  u64,
} from './testing.test-support.ts';
import { DEFAULT_LIMITS } from './types.ts';

const fixture = (p: string): Uint8Array =>
  readFileSync(fileURLToPath(new URL(`../../test/fixtures/model-scanning/${p}`, import.meta.url)));

function safetensors(header: object, dataBytes: number): Uint8Array {
  const h = enc.encode(JSON.stringify(header));
  return concat(u64(h.length), h, new Uint8Array(dataBytes));
}

/** A source that claims to be huge and fails the test if anything past its header is read. */
class HeaderOnlySource implements ByteSource {
  maxReadEnd = 0;
  constructor(
    private readonly head: Uint8Array,
    readonly size: number,
  ) {}
  read(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(this.size, offset + length);
    if (offset >= this.head.length && offset < this.size - 70_000)
      throw new Error(`read of tensor bytes at ${offset}`);
    this.maxReadEnd = Math.max(this.maxReadEnd, Math.min(end, this.head.length));
    const out = new Uint8Array(Math.max(0, end - offset));
    out.set(this.head.subarray(offset, Math.min(end, this.head.length)));
    return Promise.resolve(out);
  }
}

describe('safetensors', () => {
  it('reads only the header of a large file', async () => {
    const n = 4 * 1024 ** 3;
    const header = enc.encode(
      JSON.stringify({ w: { dtype: 'F32', shape: [1024, 1024, 1024], data_offsets: [0, n] } }),
    );
    const head = concat(u64(header.length), header);
    const src = new HeaderOnlySource(head, head.length + n);
    const r = await scanWith(src, 'big.safetensors', DEFAULT_LIMITS, new Set(), new Set());
    expect(r.verdict).toBe('clean');
  });

  it('validates dtypes, metadata and offsets like the reference reader', async () => {
    const ok = safetensors(
      {
        __metadata__: { format: 'pt' },
        a: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
        b: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] },
      },
      6,
    );
    expect((await scanBuffer(ok, 'm.safetensors')).verdict).toBe('clean');
    const badDtype = safetensors({ a: { dtype: 'X9', shape: [1], data_offsets: [0, 1] } }, 1);
    expect((await scanBuffer(badDtype, 'm.safetensors')).findings[0]?.rule).toBe(
      'safetensors-InvalidHeaderDeserialization',
    );
    const badMeta = safetensors({ __metadata__: { n: 1 } }, 0);
    expect((await scanBuffer(badMeta, 'm.safetensors')).verdict).toBe('rejected');
    const gap = safetensors({ a: { dtype: 'U8', shape: [1], data_offsets: [1, 2] } }, 2);
    expect((await scanBuffer(gap, 'm.safetensors')).findings[0]?.rule).toBe('safetensors-InvalidOffset');
  });

  it('rejects duplicate keys instead of keeping the last one', async () => {
    const h = enc.encode(
      '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}',
    );
    expect((await scanBuffer(concat(u64(h.length), h, [0]), 'm.safetensors')).verdict).toBe('rejected');
  });

  it('reports a pickle disguised as .safetensors as a format mismatch and scans it as a pickle', async () => {
    const r = await scanBuffer(reducePickle('os', 'system'), 'model.safetensors');
    expect(r.verdict).toBe('dangerous');
    expect(r.findings.map((f) => f.rule)).toContain('format-mismatch');
  });
});

describe('format mismatch', () => {
  it('only reports data disguised under another model extension', async () => {
    const st = safetensors({ a: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } }, 1);
    const r = await scanBuffer(st, 'model.pt');
    expect(r.verdict).toBe('clean');
    expect(r.findings.find((f) => f.rule === 'format-mismatch')?.severity).toBe('info');
  });
});

describe('GGUF', () => {
  it('accepts a well-formed file', async () => {
    expect((await scanBuffer(buildGguf(), 'm.gguf')).verdict).toBe('clean');
  });
  it('rejects tensor data past the end of the file', async () => {
    expect((await scanBuffer(buildGguf({ elements: 1024, dataBytes: 16 }), 'm.gguf')).findings[0]?.rule).toBe(
      'gguf-malformed',
    );
  });
  it('rejects a string length that runs past the file', async () => {
    const b = buildGguf();
    b.set(u64(1 << 30), 24);
    expect((await scanBuffer(b, 'm.gguf')).verdict).toBe('rejected');
  });
  it('flags a chat template that reaches Python internals', async () => {
    const tpl = "{{ ''.__class__.__mro__[1].__subclasses__() }}";
    const r = await scanBuffer(buildGguf({ kv: { 'tokenizer.chat_template': tpl } }), 'm.gguf');
    expect(r.verdict).toBe('dangerous');
    expect(r.findings[0]?.rule).toBe('chat-template-injection');
  });
});

describe('ONNX', () => {
  it('flags external data paths that leave the model directory', async () => {
    for (const loc of ['../../etc/passwd', '/etc/shadow', 'C:\\Windows\\win.ini', 'a/../../b']) {
      const r = await scanBuffer(onnxWithExternalData(loc), 'model.onnx');
      expect(r.verdict, loc).toBe('dangerous');
      expect(r.findings[0]?.rule).toBe('onnx-external-data-traversal');
    }
  });
  it('accepts a relative external data file', async () => {
    expect((await scanBuffer(onnxWithExternalData('weights.bin'), 'model.onnx')).verdict).toBe('clean');
  });
  it('rejects bytes that are not a protobuf', async () => {
    expect(
      (await scanBuffer(Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), 'model.onnx')).verdict,
    ).toBe('rejected');
  });
});

describe('Keras and TensorFlow', () => {
  const config = (layer: string) =>
    JSON.stringify({
      class_name: 'Sequential',
      config: { layers: [{ class_name: layer, config: { name: 'l1', function: 'lambda x: x' } }] },
    });
  it('finds a Lambda layer in a .keras archive', async () => {
    const zip = buildZip([
      { name: 'metadata.json', data: '{}' },
      { name: 'config.json', data: config('Lambda') },
      { name: 'model.weights.h5', data: '' },
    ]);
    const r = await scanBuffer(zip, 'model.keras');
    expect(r.format).toBe('keras');
    expect(r.verdict).toBe('dangerous');
    expect(
      (
        await scanBuffer(
          buildZip([
            { name: 'metadata.json', data: '{}' },
            { name: 'config.json', data: config('Dense') },
          ]),
          'm.keras',
        )
      ).verdict,
    ).toBe('clean');
  });
  const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
  it('parses the model_config attribute of an .h5 file as JSON, so escapes cannot hide a Lambda', async () => {
    const json =
      '{"class_name": "Sequential", "config": {"layers": [{"class_name": "\\u004cambda", "config": {"name": "x"}}]}}';
    const h5 = concat(
      HDF5_MAGIC,
      new Uint8Array(200),
      'model_config\0\0\0\0',
      new Uint8Array(24),
      json,
      new Uint8Array(100),
    );
    const r = await scanBuffer(h5, 'model.h5');
    expect(r.verdict).toBe('dangerous');
    expect(r.findings.map((f) => f.rule)).toContain('keras-lambda-layer');
  });
  it('reads model_config stored as a variable-length string in a global heap collection', async () => {
    const json = enc.encode(
      JSON.stringify({
        class_name: 'Functional',
        config: { layers: [{ class_name: 'Lambda', config: {} }] },
      }),
    );
    const padded = concat(json, new Uint8Array((8 - (json.length % 8)) % 8));
    const object = concat(u16(1), u16(1), u32(0), u64(json.length), padded);
    const gcol = concat('GCOL', [1, 0, 0, 0], u64(16 + object.length + 16), object, new Uint8Array(16));
    const h5 = concat(HDF5_MAGIC, new Uint8Array(300), 'model_config\0\0\0\0', new Uint8Array(600), gcol);
    expect((await scanBuffer(h5, 'model.h5')).verdict).toBe('dangerous');
  });

  it('finds PyFunc nodes in a GraphDef nested in a SavedModel', async () => {
    const node = concat(pbBytes(1, 'n'), pbBytes(2, 'EagerPyFunc'));
    const pb = pbBytes(2, pbBytes(2, pbBytes(1, node)));
    expect((await scanBuffer(pb, 'saved_model.pb')).verdict).toBe('dangerous');
  });
});

describe('archives', () => {
  it('scans pickles inside a tar and flags traversal and links', async () => {
    const tar = buildTar([
      { name: 'model/data.pkl', data: reducePickle('os', 'system') },
      { name: '../evil.txt', data: 'x' },
      { name: 'link', data: '', type: '2', linkName: '/etc/passwd' },
    ]);
    const r = await scanBuffer(tar, 'model.tar');
    expect(r.format).toBe('tar');
    expect(r.findings.map((f) => f.rule)).toEqual(
      expect.arrayContaining(['pickle-dangerous-import', 'archive-path-traversal', 'tar-link']),
    );
  });

  it('rejects duplicate zip members and unsupported compression', async () => {
    const dup = buildZip([
      { name: 'a.pkl', data: fixture('picklescan/data/benign0_v4.pkl') },
      { name: 'a.pkl', data: fixture('picklescan/data/benign0_v4.pkl') },
    ]);
    expect((await scanBuffer(dup, 'x.zip')).findings.map((f) => f.rule)).toContain('zip-duplicate-member');
  });

  it('reads zip64 archives (zip64 end records and per-member zip64 extra fields)', async () => {
    const members = [
      { name: 'archive/data.pkl', data: reducePickle('builtins', 'exec'), deflate: true },
      { name: 'archive/version', data: '3\n' },
    ];
    const r = await scanBuffer(buildZip(members, new Uint8Array(0), true), 'model.pt');
    expect(r.format).toBe('pytorch-zip');
    expect(r.verdict).toBe('dangerous');
    expect(r.findings.filter((f) => f.severity === 'rejected')).toEqual([]);
  });

  it('scans a gzipped pickle', async () => {
    const { gzipSync } = await import('node:zlib');
    const r = await scanBuffer(new Uint8Array(gzipSync(reducePickle('os', 'system'))), 'model.joblib');
    expect(r.verdict).toBe('dangerous');
  });
});

describe('files on disk', () => {
  it('walks directories, reads a multi-GB sparse safetensors file by its header only, and reports unreadable paths', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'modelgate-scan-'));
    try {
      const n = 3 * 1024 ** 3;
      const header = enc.encode(JSON.stringify({ w: { dtype: 'U8', shape: [n], data_offsets: [0, n] } }));
      const fh = await open(join(dir, 'big.safetensors'), 'w');
      await fh.write(concat(u64(header.length), header));
      await fh.truncate(8 + header.length + n);
      await fh.close();
      await writeFile(join(dir, 'evil.pkl'), reducePickle('os', 'system'));
      // Header only: count the bytes the scanner asks the file for (a full read would be 3 GiB).
      const reads = vi.spyOn(FileSource.prototype, 'read');
      const reports = await scanPaths([dir, join(dir, 'missing.pt')]);
      const requested = reads.mock.calls.reduce((sum, [, length]) => sum + length, 0);
      reads.mockRestore();
      expect(requested).toBeGreaterThan(0);
      expect(requested).toBeLessThan(1024 * 1024);
      expect(reports.map((r) => [r.path.replace(dir, ''), r.verdict])).toEqual([
        ['/big.safetensors', 'clean'],
        ['/evil.pkl', 'dangerous'],
        ['/missing.pt', 'rejected'],
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
