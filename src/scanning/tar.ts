// tar (ustar, pax and GNU long names): entries located by range, so members are scanned in place.
import { CachedReader, type ByteSource } from './source.ts';
import type { Finding } from './types.ts';

export interface TarEntry {
  name: string;
  type: string;
  offset: number;
  size: number;
  linkName: string;
}

const latin1 = new TextDecoder('latin1');

function field(b: Uint8Array, at: number, len: number): string {
  const s = b.subarray(at, at + len);
  const z = s.indexOf(0);
  return latin1.decode(z >= 0 ? s.subarray(0, z) : s);
}

function octal(b: Uint8Array, at: number, len: number): number {
  if (((b[at] ?? 0) & 0x80) !== 0) {
    let v = 0;
    for (let i = at + 1; i < at + len; i++) v = v * 256 + (b[i] ?? 0);
    return v;
  }
  const s = field(b, at, len).trim();
  if (!/^[0-7]*$/.test(s)) return NaN;
  return s === '' ? 0 : parseInt(s, 8);
}

export class TarError extends Error {}

export async function readTarEntries(
  src: ByteSource,
  maxEntries: number,
): Promise<{ entries: TarEntry[]; findings: Finding[] }> {
  const r = new CachedReader(src);
  const entries: TarEntry[] = [];
  const findings: Finding[] = [];
  let pos = 0;
  let longName: string | undefined;
  let paxPath: string | undefined;
  while (pos + 512 <= src.size) {
    const h = await r.bytes(pos, 512);
    if (h.every((x) => x === 0)) return { entries, findings };
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (h[i] ?? 0);
    if (octal(h, 148, 8) !== sum) throw new TarError(`header checksum mismatch at offset ${pos}`);
    const size = octal(h, 124, 12);
    if (!Number.isSafeInteger(size) || size < 0) throw new TarError(`bad size field at offset ${pos}`);
    const type = String.fromCharCode(h[156] || 0x30);
    const prefix = field(h, 257, 6).startsWith('ustar') ? field(h, 345, 155) : '';
    let name = (prefix ? prefix + '/' : '') + field(h, 0, 100);
    const dataAt = pos + 512;
    if (dataAt + size > src.size) throw new TarError(`entry ${name} runs past the end of the archive`);
    if (type === 'L' || type === 'x') {
      const body = latin1.decode(await r.bytes(dataAt, Math.min(size, 1 << 20)));
      if (type === 'L') longName = body.replace(/\0.*$/s, '');
      else paxPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body)?.[1];
    } else if (type !== 'g') {
      if (paxPath !== undefined) name = paxPath;
      else if (longName !== undefined) name = longName;
      paxPath = longName = undefined;
      entries.push({ name, type, offset: dataAt, size, linkName: field(h, 157, 100) });
      if (entries.length > maxEntries) throw new TarError(`more than ${maxEntries} entries`);
    }
    pos = dataAt + Math.ceil(size / 512) * 512;
  }
  findings.push({
    rule: 'tar-truncated',
    severity: 'rejected',
    detail: 'archive ends without its end-of-archive blocks',
    offset: pos,
  });
  return { entries, findings };
}
