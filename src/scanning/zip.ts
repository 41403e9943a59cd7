// Zip reading for scanners: the central directory (zip64 included), local headers checked against it,
// and member data read by range. Anything a lenient reader (PyTorch's miniz, Python's zipfile) would
// read differently from a strict one is reported, because that difference is where scanners get fooled.
import { inflateRawSync } from 'node:zlib';
import { decompress } from './decompress.ts';
import { decodeZipLzma } from './lzma.ts';
import { BufferSource, CachedReader, SliceSource, type ByteSource } from './source.ts';
import { LimitExceeded, type Finding, type ScanContext } from './types.ts';

export interface ZipEntry {
  name: string;
  flags: number;
  method: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

export interface ZipDirectory {
  entries: ZipEntry[];
  /** Bytes before the archive proper (a pickle or anything else prepended: a polyglot). */
  prefixBytes: number;
  zip64: boolean;
  findings: Finding[];
  /** Offset just past the end-of-central-directory record and its comment. */
  eocdEnd: number;
  /** File offset of the central directory. */
  cdStart: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

function decodeName(b: Uint8Array): string {
  try {
    return utf8.decode(b);
  } catch {
    return latin1.decode(b);
  }
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

class BadZip extends Error {}

/** Locate the end-of-central-directory record in the last 64 KiB of the file. */
export function findEocd(tail: Uint8Array): number {
  const v = view(tail);
  for (let at = tail.length - 22; at >= 0; at--) {
    if (v.getUint32(at, true) === SIG_EOCD) return at;
  }
  return -1;
}

/** Does the source end with a zip end-of-central-directory record? (zipfile.is_zipfile) */
export async function hasZipTrailer(src: ByteSource): Promise<boolean> {
  if (src.size < 22) return false;
  const tailLen = Math.min(src.size, 22 + 0xffff);
  const tail = await src.read(src.size - tailLen, tailLen);
  return findEocd(tail) >= 0;
}

function u64(v: DataView, at: number): number {
  const x = v.getBigUint64(at, true);
  if (x > BigInt(Number.MAX_SAFE_INTEGER)) throw new BadZip('zip64 field larger than 2**53');
  return Number(x);
}

export async function readZipDirectory(src: ByteSource, ctx: ScanContext): Promise<ZipDirectory> {
  const findings: Finding[] = [];
  const tailLen = Math.min(src.size, 22 + 0xffff);
  const tailStart = src.size - tailLen;
  const tail = await src.read(tailStart, tailLen);
  const eocdRel = findEocd(tail);
  if (eocdRel < 0) throw new BadZip('no end-of-central-directory record');
  const eocdAt = tailStart + eocdRel;
  const ev = view(tail.subarray(eocdRel));
  let entriesTotal = ev.getUint16(10, true);
  let cdSize = ev.getUint32(12, true);
  let cdOffset = ev.getUint32(16, true);
  const commentLen = ev.getUint16(20, true);
  if (eocdRel + 22 + commentLen !== tail.length) {
    findings.push({
      rule: 'zip-trailing-data',
      severity: 'rejected',
      detail: 'bytes after the end-of-central-directory record',
    });
  }
  let zip64 = false;
  let recordsSize = 0;
  // Like zipfile._EndRecData64: a zip64 locator right before the EOCD is used whenever present
  // (PyTorch always writes one), not only when the 32-bit fields overflow.
  const loc = eocdAt >= 20 ? view(await src.read(eocdAt - 20, 20)) : undefined;
  if (loc !== undefined && loc.byteLength === 20 && loc.getUint32(0, true) === SIG_EOCD64_LOCATOR) {
    const rec = eocdAt >= 76 ? view(await src.read(eocdAt - 76, 56)) : undefined;
    if (rec === undefined || rec.getUint32(0, true) !== SIG_EOCD64)
      throw new BadZip('zip64 end-of-central-directory record missing');
    entriesTotal = u64(rec, 32);
    cdSize = u64(rec, 40);
    cdOffset = u64(rec, 48);
    zip64 = true;
    recordsSize = 56 + 20;
  } else if (entriesTotal === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    throw new BadZip('zip64 locator missing');
  }
  const prefixBytes = eocdAt - recordsSize - cdSize - cdOffset;
  if (prefixBytes < 0) throw new BadZip('central directory offset points past its own end');
  if (entriesTotal > ctx.limits.maxArchiveMembers) {
    throw new LimitExceeded(
      'maxArchiveMembers',
      `archive lists ${entriesTotal} members (limit ${ctx.limits.maxArchiveMembers})`,
    );
  }
  if (cdSize > ctx.limits.maxHeaderBytes)
    throw new LimitExceeded('maxHeaderBytes', `central directory of ${cdSize} bytes`);
  ctx.chargeRead(cdSize);
  const cd = await src.read(prefixBytes + cdOffset, cdSize);
  if (cd.length !== cdSize) throw new BadZip('central directory runs past end of file');
  const cv = view(cd);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < entriesTotal; i++) {
    if (p + 46 > cd.length || cv.getUint32(p, true) !== SIG_CENTRAL)
      throw new BadZip(`central directory entry ${i} is malformed`);
    const nameLen = cv.getUint16(p + 28, true);
    const extraLen = cv.getUint16(p + 30, true);
    const cmtLen = cv.getUint16(p + 32, true);
    if (p + 46 + nameLen + extraLen + cmtLen > cd.length)
      throw new BadZip(`central directory entry ${i} runs past the directory`);
    const entry: ZipEntry = {
      name: decodeName(cd.subarray(p + 46, p + 46 + nameLen)),
      flags: cv.getUint16(p + 8, true),
      method: cv.getUint16(p + 10, true),
      crc32: cv.getUint32(p + 16, true),
      compressedSize: cv.getUint32(p + 20, true),
      uncompressedSize: cv.getUint32(p + 24, true),
      localHeaderOffset: cv.getUint32(p + 42, true),
    };
    applyZip64Extra(entry, cd.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen));
    entries.push(entry);
    p += 46 + nameLen + extraLen + cmtLen;
  }
  if (prefixBytes > 0) {
    findings.push({
      rule: 'zip-prepended-data',
      severity: 'suspicious',
      detail: `${prefixBytes} bytes precede the archive: the file is also something else (a pickle/zip polyglot loads differently in different tools)`,
      offset: 0,
    });
  }
  return {
    entries,
    prefixBytes,
    zip64,
    findings,
    eocdEnd: eocdAt + 22 + commentLen,
    cdStart: prefixBytes + cdOffset,
  };
}

function applyZip64Extra(e: ZipEntry, extra: Uint8Array): void {
  const v = view(extra);
  let p = 0;
  while (p + 4 <= extra.length) {
    const id = v.getUint16(p, true);
    const len = v.getUint16(p + 2, true);
    if (id === 0x0001) {
      let q = p + 4;
      const end = Math.min(extra.length, q + len);
      if (e.uncompressedSize === 0xffffffff && q + 8 <= end) {
        e.uncompressedSize = u64(v, q);
        q += 8;
      }
      if (e.compressedSize === 0xffffffff && q + 8 <= end) {
        e.compressedSize = u64(v, q);
        q += 8;
      }
      if (e.localHeaderOffset === 0xffffffff && q + 8 <= end) e.localHeaderOffset = u64(v, q);
      return;
    }
    p += 4 + len;
  }
}

/** Where an entry's data starts, after checking its local header agrees with the central directory. */
export async function locateMember(
  src: ByteSource,
  dir: ZipDirectory,
  e: ZipEntry,
): Promise<{ dataOffset: number; findings: Finding[] }> {
  const findings: Finding[] = [];
  const at = dir.prefixBytes + e.localHeaderOffset;
  const h = await src.read(at, 30);
  if (h.length < 30 || view(h).getUint32(0, true) !== SIG_LOCAL)
    throw new BadZip(`member ${e.name}: no local header at offset ${at}`);
  const hv = view(h);
  const nameLen = hv.getUint16(26, true);
  const extraLen = hv.getUint16(28, true);
  const localName = decodeName(await src.read(at + 30, nameLen));
  if (localName !== e.name) {
    findings.push({
      rule: 'zip-name-mismatch',
      severity: 'rejected',
      detail: `local header names the member ${JSON.stringify(localName)} but the central directory says ${JSON.stringify(e.name)}; tools disagree on what this member is`,
      offset: at,
    });
  }
  if (hv.getUint16(8, true) !== e.method) {
    findings.push({
      rule: 'zip-header-mismatch',
      severity: 'rejected',
      detail: `member ${e.name}: compression method differs between local and central headers`,
      offset: at,
    });
  }
  const dataOffset = at + 30 + nameLen + extraLen;
  if (dataOffset + e.compressedSize > src.size)
    throw new BadZip(`member ${e.name}: data runs past end of file`);
  return { dataOffset, findings };
}

let crcTable: Uint32Array | undefined;
export function crc32(b: Uint8Array): number {
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = (crcTable[(c ^ (b[i] ?? 0)) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Compression methods a reader of model zips meets: stored, deflate (PyTorch, numpy), bzip2 and LZMA (Python's zipfile). */
export const SUPPORTED_METHODS = new Set([0, 8, 12, 14]);

/**
 * Decompress a member into memory, bounded by `maxBytes`. Corrupt or truncated data yields what
 * decoded before the damage plus the reason (a streaming reader has already consumed that prefix).
 */
export function decompressMember(
  e: ZipEntry,
  raw: Uint8Array,
  maxBytes: number,
): { data: Uint8Array; error?: string } {
  const max = Math.max(1, maxBytes);
  switch (e.method) {
    case 0:
      return { data: raw };
    case 8:
      try {
        return { data: new Uint8Array(inflateRawSync(raw, { maxOutputLength: max })) };
      } catch (err) {
        if (err instanceof RangeError || /maxOutputLength|larger than/i.test((err as Error).message)) {
          throw new LimitExceeded('maxPickleBytes', `member ${e.name} inflates past ${max} bytes`);
        }
        throw new BadZip(`member ${e.name}: corrupt deflate data (${(err as Error).message})`);
      }
    case 12:
      return decompress('bzip2', raw, { maxOutput: max });
    case 14:
      return decodeZipLzma(raw, e.uncompressedSize, { maxOutput: max });
    default:
      throw new BadZip(`member ${e.name}: unsupported compression method ${e.method}`);
  }
}

export function isBadZip(e: unknown): e is Error {
  return e instanceof BadZip;
}

/** Member names that escape the extraction directory (zip slip). */
export function isTraversalName(name: string): boolean {
  const n = name.replace(/\\/g, '/');
  return n.startsWith('/') || /^[A-Za-z]:/.test(n) || n.split('/').includes('..');
}

/** The kind of zip, from its member names: a PyTorch checkpoint, TorchScript, .npz, .keras, or a plain zip. */
export function zipKind(entries: ZipEntry[]): string {
  const names = entries.map((e) => e.name);
  const files = names.filter((n) => !n.endsWith('/'));
  if (names.some((n) => /^(?:[^/]+\/)?data\.pkl$/.test(n))) {
    return names.some((n) => /^(?:[^/]+\/)?(?:code\/|constants\.pkl$)/.test(n))
      ? 'torchscript'
      : 'pytorch-zip';
  }
  if (files.length > 0 && files.every((n) => n.toLowerCase().endsWith('.npy'))) return 'npz';
  // Keras reads config.json at the root of a .keras archive, whatever else the archive holds
  if (
    names.includes('config.json') &&
    (names.includes('model.weights.h5') || names.includes('metadata.json') || files.length === 1)
  )
    return 'keras';
  return 'zip';
}

/** One member of a zip, ready to scan: its bytes (unless unreadable) and the zip-format findings about it. */
export interface ZipMember {
  entry: ZipEntry;
  findings: Finding[];
  /** Undefined when the member cannot be read at all (the findings say why). */
  source?: ByteSource;
}

/**
 * Every member of a zip with the checks a lenient reader (PyTorch's miniz, Python's zipfile) and a
 * strict one would disagree on: duplicate names, paths leaving the extraction directory, encryption and
 * patched-data flags, local/central header mismatches, sizes, CRC-32. `skipData(name)` marks members
 * never decoded by their loader (PyTorch tensor storages), which are not read.
 */
export async function* zipMembers(
  src: ByteSource,
  ctx: ScanContext,
  dir: ZipDirectory,
  skipData: (name: string) => boolean,
): AsyncGenerator<ZipMember> {
  const seen = new Set<string>();
  /** [local header, end of data) of every listed member, to find local headers no entry lists. */
  const covered: [number, number][] = [];
  const headers = new CachedReader(src);
  for (const e of dir.entries) {
    ctx.checkTime();
    const findings: Finding[] = [];
    const reject = (rule: string, detail: string): void =>
      void findings.push({ rule, severity: 'rejected', detail });
    if (seen.has(e.name))
      reject('zip-duplicate-member', 'two members have this name; readers differ on which one they load');
    seen.add(e.name);
    if (isTraversalName(e.name)) {
      findings.push({
        rule: 'archive-path-traversal',
        severity: 'dangerous',
        detail:
          'member path leaves the extraction directory (zip slip): extracting writes outside the model directory',
      });
    }
    if (e.name.endsWith('/')) {
      if (e.compressedSize === 0 && e.uncompressedSize === 0) {
        if (findings.length > 0) yield { entry: e, findings };
        continue;
      }
      // zipfile.open() returns a directory entry's data all the same; extraction drops it
      reject(
        'zip-entry-with-data',
        'a directory entry carries data: extractors drop it while zipfile.open() reads it, so tools disagree on the archive; its data is scanned',
      );
    }
    if ((e.flags & 0x41) !== 0)
      reject(
        'zip-encrypted',
        `member is flagged encrypted (flags 0x${e.flags.toString(16)}): its contents cannot be inspected, yet PyTorch ignores the flag and loads it`,
      );
    if ((e.flags & 0x20) !== 0)
      reject(
        'zip-patched-data',
        'member is flagged as compressed patched data (flag 0x20), which readers handle inconsistently',
      );
    if (!SUPPORTED_METHODS.has(e.method)) {
      reject('zip-unsupported-compression', `compression method ${e.method} cannot be inspected`);
      yield { entry: e, findings };
      continue;
    }
    if (skipData(e.name)) {
      // not read (tensor storages): only its local header, for the extent it covers
      const at = dir.prefixBytes + e.localHeaderOffset;
      const h = await headers.bytes(at, 30);
      if (h.length === 30 && view(h).getUint32(0, true) === SIG_LOCAL)
        covered.push([
          at,
          at + 30 + view(h).getUint16(26, true) + view(h).getUint16(28, true) + e.compressedSize,
        ]);
      if (findings.length > 0) yield { entry: e, findings };
      continue;
    }
    let loc;
    try {
      loc = await locateMember(src, dir, e);
    } catch (err) {
      if (!isBadZip(err)) throw err;
      reject('zip-malformed', err.message);
      yield { entry: e, findings };
      continue;
    }
    covered.push([dir.prefixBytes + e.localHeaderOffset, loc.dataOffset + e.compressedSize]);
    findings.push(...loc.findings);
    let source: ByteSource;
    let whole: Uint8Array | undefined;
    if (e.method === 0) {
      if (e.compressedSize !== e.uncompressedSize && (e.flags & 0x41) === 0)
        reject(
          'zip-size-mismatch',
          `stored member says ${e.uncompressedSize} bytes but holds ${e.compressedSize}`,
        );
      source = new SliceSource(src, loc.dataOffset, e.compressedSize);
      if (e.compressedSize <= 16 * 1024 * 1024) whole = await source.read(0, e.compressedSize);
    } else {
      if (e.compressedSize > ctx.limits.maxPickleBytes)
        throw new LimitExceeded('maxPickleBytes', `member ${e.name} is ${e.compressedSize} compressed bytes`);
      ctx.chargeRead(e.compressedSize);
      const raw = await src.read(loc.dataOffset, e.compressedSize);
      let out;
      try {
        out = decompressMember(e, raw, Math.min(ctx.limits.maxPickleBytes, e.uncompressedSize + 1));
      } catch (err) {
        if (err instanceof LimitExceeded) {
          reject(
            'zip-size-mismatch',
            `member decompresses to more than the ${e.uncompressedSize} bytes it declares`,
          );
          yield { entry: e, findings };
          continue;
        }
        if (!isBadZip(err)) throw err;
        reject('zip-malformed', err.message);
        yield { entry: e, findings };
        continue;
      }
      if (out.error !== undefined) reject('zip-malformed', `member ${e.name}: ${out.error}`);
      whole = out.data;
      if (out.error === undefined && whole.length !== e.uncompressedSize)
        reject(
          'zip-size-mismatch',
          `member decompresses to ${whole.length} bytes, not the declared ${e.uncompressedSize}`,
        );
      source = new BufferSource(whole);
    }
    if (
      whole !== undefined &&
      (e.flags & 0x41) === 0 &&
      whole.length === e.uncompressedSize &&
      crc32(whole) !== e.crc32
    )
      reject(
        'zip-crc-mismatch',
        'CRC-32 does not match the member data: the archive was altered after it was written',
      );
    yield { entry: e, findings, source };
  }
  yield* unlistedMembers(src, dir, covered);
}

/** Gaps larger than this between listed members are not searched (data descriptors are 12-24 bytes). */
const MAX_GAP_SEARCH = 16 * 1024 * 1024;

/**
 * Local headers in the bytes no listed member covers (before the first member, between members, before
 * the central directory). Python's zipfile and PyTorch read only what the central directory lists, but
 * streaming readers (`unzip -` on a pipe, Java's ZipInputStream, stream-unzip) walk the local headers and
 * extract these: each is reported and its data scanned.
 */
async function* unlistedMembers(
  src: ByteSource,
  dir: ZipDirectory,
  covered: [number, number][],
): AsyncGenerator<ZipMember> {
  const ranges = [...covered].sort((a, b) => a[0] - b[0]);
  let pos = dir.prefixBytes;
  const gaps: [number, number][] = [];
  for (const [start, end] of [...ranges, [dir.cdStart, dir.cdStart] as [number, number]]) {
    if (start > pos) gaps.push([pos, Math.min(start, dir.cdStart)]);
    pos = Math.max(pos, end);
  }
  for (const [start, end] of gaps) {
    if (end - start < 30 || end - start > MAX_GAP_SEARCH) continue;
    const b = await src.read(start, end - start);
    const v = view(b);
    for (let i = 0; i + 30 <= b.length; i++) {
      if (v.getUint32(i, true) !== SIG_LOCAL) continue;
      const nameLen = v.getUint16(i + 26, true);
      const extraLen = v.getUint16(i + 28, true);
      const size = v.getUint32(i + 18, true);
      const dataAt = i + 30 + nameLen + extraLen;
      const name = decodeName(b.subarray(i + 30, Math.min(b.length, i + 30 + nameLen)));
      const method = v.getUint16(i + 8, true);
      const entry: ZipEntry = {
        name: `(unlisted) ${name}`,
        flags: v.getUint16(i + 6, true),
        method,
        crc32: v.getUint32(i + 14, true),
        compressedSize: size,
        uncompressedSize: v.getUint32(i + 22, true),
        localHeaderOffset: start + i - dir.prefixBytes,
      };
      const finding: Finding = {
        rule: 'zip-unlisted-member',
        severity: 'suspicious',
        detail: `a local header for ${JSON.stringify(name)} at offset ${start + i} that the central directory does not list: Python and PyTorch ignore it, streaming unzip tools extract it`,
        offset: start + i,
      };
      const data = b.subarray(Math.min(dataAt, b.length), Math.min(b.length, dataAt + (size || b.length)));
      yield method === 0
        ? { entry, findings: [finding], source: new BufferSource(data) }
        : { entry, findings: [finding] };
      i = Math.max(i, dataAt + size - 1);
    }
  }
}
