import { describe, expect, it } from 'vitest';
import { scanBuffer } from './index.ts';
import { BufferSource } from './source.ts';
import { readTarEntries } from './tar.ts';
import { buildTar, concat, enc, reducePickle } from './testing.test-support.ts';

/** A ustar header with its checksum; `sizeField` may lie about the data size. */
function header(name: string, type: string, size: number, sizeField = size): Uint8Array {
  const h = new Uint8Array(512);
  h.set(enc.encode(name).subarray(0, 100), 0);
  h.set(enc.encode('0000644\0'), 100);
  h.set(enc.encode(sizeField.toString(8).padStart(11, '0') + '\0'), 124);
  h.set(enc.encode(type), 156);
  h.set(enc.encode('ustar\x0000'), 257);
  h.fill(0x20, 148, 156);
  h.set(
    enc.encode(
      h
        .reduce((a, b) => a + b, 0)
        .toString(8)
        .padStart(6, '0') + '\0 ',
    ),
    148,
  );
  void size;
  return h;
}
const pad = (b: Uint8Array) => concat(b, new Uint8Array((512 - (b.length % 512)) % 512));
const END = new Uint8Array(1024);

describe('tar members that extract as files', () => {
  it.each(['Z', 'A', '8', 'V', 'M', 'N', 'D', '7', 'S'])('scans a member of type %s', async (type) => {
    const tar = buildTar([{ name: `m/data-${type}.pkl`, data: reducePickle('os', 'system'), type }]);
    const r = await scanBuffer(tar, 'model.tar');
    expect(r.verdict).toBe('dangerous');
  });

  it('honours pax size and path records (global ones too)', async () => {
    const payload = reducePickle('os', 'system');
    const rec = (k: string, v: string) => {
      const body = ` ${k}=${v}\n`;
      let n = body.length + 2;
      while (String(n).length + body.length !== n) n = String(n).length + body.length;
      return `${n}${body}`;
    };
    const pax = enc.encode(rec('size', String(payload.length)) + rec('path', 'model/data.pkl'));
    const tar = concat(
      header('pax', 'x', pax.length),
      pad(pax),
      header('model/x', '0', payload.length, 0),
      pad(payload),
      END,
    );
    const { entries } = await readTarEntries(new BufferSource(tar), 100);
    expect(entries[0]).toMatchObject({ name: 'model/data.pkl', size: payload.length, kind: 'file' });
    expect((await scanBuffer(tar, 'm.tar')).verdict).toBe('dangerous');
    const g = enc.encode(rec('size', String(payload.length)));
    const tar2 = concat(
      header('g', 'g', g.length),
      pad(g),
      header('a.pkl', '0', payload.length, 0),
      pad(payload),
      END,
    );
    expect((await scanBuffer(tar2, 'm.tar')).verdict).toBe('dangerous');
  });

  it('refuses a non-file entry that carries data, and scans that data', async () => {
    const hidden = concat(header('model/evil.pkl', '0', 21), pad(reducePickle('os', 'system')));
    const tar = concat(header('model/', '5', hidden.length), hidden, END);
    const r = await scanBuffer(tar, 'model.tar');
    expect(r.findings.map((f) => f.rule)).toContain('tar-entry-with-data');
    expect(r.verdict).toBe('dangerous');
  });

  it('does not call a tar ending in a checkpoint a polyglot', async () => {
    const { buildZip } = await import('./testing.test-support.ts');
    const pt = buildZip([
      { name: 'archive/data.pkl', data: Uint8Array.from([0x80, 0x02, 0x7d, 0x2e]) },
      { name: 'archive/version', data: '3\n' },
    ]);
    const r = await scanBuffer(
      buildTar([
        { name: 'm/config.json', data: '{}' },
        { name: 'm/model.pt', data: pt },
      ]),
      'm.tar',
    );
    expect(r.verdict).toBe('clean');
    expect(r.findings.map((f) => f.rule)).not.toContain('polyglot-zip');
  });

  it('accepts signed checksums and base-256 sizes as Python does', async () => {
    const data = enc.encode('hello');
    const h = header('a.txt', '0', data.length);
    h[124] = 0x80;
    h.fill(0, 125, 136);
    h[135] = data.length;
    h.fill(0x20, 148, 156);
    let signed = 0;
    for (const c of h) signed += c > 127 ? c - 256 : c;
    h.set(enc.encode(signed.toString(8).padStart(6, '0') + '\0 '), 148);
    const { entries } = await readTarEntries(new BufferSource(concat(h, pad(data), END)), 10);
    expect(entries[0]?.size).toBe(5);
  });
});
