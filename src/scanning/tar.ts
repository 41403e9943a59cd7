// tar archives read the way Python's tarfile and GNU tar read them (ustar, GNU and pax headers), so that
// every member that extracts as a file is scanned: regular files ('0', NUL, '7'), GNU sparse files
// ('S'), and any type neither tool knows ('Z', 'A', '8', ...), which both extract as regular files.
// Pax records override the header (path, linkpath and size, globally for 'g'); GNU 'L'/'K' give long
// names. A link, directory or device entry that carries data is reported: tarfile reads the next header
// from inside that data while GNU tar skips it, so the two disagree on what the archive holds.
// https://www.gnu.org/software/tar/manual/html_node/Standard.html, Lib/tarfile.py
import { CachedReader, type ByteSource } from './source.ts';
import type { Finding } from './types.ts';

export interface TarEntry {
  name: string;
  type: string;
  /** Where the data starts, and how many bytes of it exist in the file. */
  offset: number;
  size: number;
  linkName: string;
  /** 'file': extracts as a regular file; 'link', 'dir', 'special'; 'data': a non-file entry carrying data. */
  kind: 'file' | 'link' | 'dir' | 'special' | 'data';
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

function field(b: Uint8Array, at: number, len: number): string {
  const s = b.subarray(at, at + len);
  const z = s.indexOf(0);
  return latin1.decode(z >= 0 ? s.subarray(0, z) : s);
}

/** tarfile.nti: base-256 (leading 0x80/0xff) or octal text, as Python's int(text.strip() or '0', 8). */
function number(b: Uint8Array, at: number, len: number): number {
  const first = b[at] ?? 0;
  if (first === 0x80 || first === 0xff) {
    let v = 0;
    for (let i = at + 1; i < at + len; i++) v = v * 256 + (b[i] ?? 0);
    return first === 0xff ? -(2 ** (8 * (len - 1)) - v) : v;
  }
  const s = field(b, at, len).trim();
  if (s === '') return 0;
  if (!/^[+-]?[0-7](?:_?[0-7])*$/.test(s)) return NaN;
  return parseInt(s.replace(/_/g, ''), 8);
}

export class TarError extends Error {}

const FILE_TYPES = new Set(['0', '\0', '7', 'S']);
const META_TYPES = new Set(['L', 'K', 'x', 'g', 'X']);
const LINK_TYPES = new Set(['1', '2']);
const SPECIAL_TYPES = new Set(['3', '4', '6']);

/** Pax extended header records: "<len> <key>=<value>\n", the length counting the whole record. */
function paxRecords(body: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  let p = 0;
  while (p < body.length) {
    const sp = body.indexOf(0x20, p);
    if (sp < 0) break;
    const len = Number(latin1.decode(body.subarray(p, sp)));
    if (!Number.isInteger(len) || len <= 0 || p + len > body.length)
      throw new TarError('malformed pax extended header');
    const rec = body.subarray(sp + 1, p + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw new TarError('pax record without "="');
    out.set(utf8.decode(rec.subarray(0, eq)), utf8.decode(rec.subarray(eq + 1)));
    p += len;
  }
  return out;
}

function checksumOk(h: Uint8Array): boolean {
  const stored = number(h, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const c = i >= 148 && i < 156 ? 32 : (h[i] ?? 0);
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  return stored === unsigned || stored === signed;
}

export async function readTarEntries(
  src: ByteSource,
  maxEntries: number,
): Promise<{ entries: TarEntry[]; findings: Finding[] }> {
  const r = new CachedReader(src);
  const entries: TarEntry[] = [];
  const findings: Finding[] = [];
  const globalPax = new Map<string, string>();
  let localPax = new Map<string, string>();
  let longName: string | undefined;
  let longLink: string | undefined;
  let pos = 0;
  while (pos + 512 <= src.size) {
    const h = await r.bytes(pos, 512);
    if (h.every((x) => x === 0)) return { entries, findings };
    if (!checksumOk(h)) throw new TarError(`header checksum mismatch at offset ${pos}`);
    const type = String.fromCharCode(h[156] ?? 0);
    const pax = new Map([...globalPax, ...localPax]);
    let size = number(h, 124, 12);
    if (pax.has('size')) size = Number(pax.get('size'));
    if (!Number.isSafeInteger(size) || size < 0) throw new TarError(`bad size field at offset ${pos}`);
    let dataAt = pos + 512;
    if (META_TYPES.has(type)) {
      if (dataAt + size > src.size) throw new TarError('extended header runs past the end of the archive');
      const body = await r.bytes(dataAt, Math.min(size, 1 << 20));
      if (type === 'L') longName = field(body, 0, body.length);
      else if (type === 'K') longLink = field(body, 0, body.length);
      else if (type === 'g') for (const [k, v] of paxRecords(body)) globalPax.set(k, v);
      else localPax = paxRecords(body);
      pos = dataAt + Math.ceil(size / 512) * 512;
      continue;
    }
    let name = field(h, 0, 100);
    const prefix = field(h, 345, 155);
    if (prefix && type !== 'S') name = `${prefix}/${name}`;
    name = pax.get('path') ?? longName ?? name;
    const linkName = pax.get('linkpath') ?? longLink ?? field(h, 157, 100);
    localPax = new Map();
    longName = longLink = undefined;
    if (type === 'S' && (h[482] ?? 0) !== 0) {
      // old GNU sparse: extension blocks of sparse entries follow the header
      for (;;) {
        if (dataAt + 512 > src.size) throw new TarError('sparse extension header truncated');
        const ext = await r.bytes(dataAt, 512);
        dataAt += 512;
        if ((ext[504] ?? 0) === 0) break;
      }
    }
    if ([...pax.keys()].some((k) => k.startsWith('GNU.sparse.'))) {
      findings.push({
        rule: 'tar-sparse',
        severity: 'rejected',
        detail: `member ${JSON.stringify(name)} is a pax sparse file whose data is laid out by a map; extract it with tar and scan the result`,
      });
    }
    const isDirName = (type === '0' || type === '\0') && name.endsWith('/');
    const kind: TarEntry['kind'] = isDirName
      ? 'dir'
      : FILE_TYPES.has(type)
        ? 'file'
        : LINK_TYPES.has(type)
          ? 'link'
          : type === '5'
            ? 'dir'
            : SPECIAL_TYPES.has(type)
              ? 'special'
              : 'file'; // any other type extracts as a regular file
    const available = Math.max(0, Math.min(size, src.size - dataAt));
    if (dataAt + size > src.size) {
      findings.push({
        rule: 'tar-truncated',
        severity: 'rejected',
        detail: `member ${JSON.stringify(name)} needs ${size} bytes but the archive ends after ${available}`,
        offset: pos,
      });
    }
    const carriesData = kind !== 'file' && size > 0;
    entries.push({
      name,
      type,
      offset: dataAt,
      size: available,
      linkName,
      kind: carriesData ? 'data' : kind,
    });
    if (entries.length > maxEntries) throw new TarError(`more than ${maxEntries} entries`);
    if (dataAt + size > src.size) return { entries, findings };
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
