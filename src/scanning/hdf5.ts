// HDF5 (.h5) Keras models keep the architecture as a JSON string attribute `model_config` on the root
// group. Rather than a full HDF5 object-header parser, the file is searched in bounded chunks:
//  - after each raw `model_config` (or `training_config`) attribute name, the inline (fixed-length
//    string) value is parsed as JSON the way Python's json.loads reads it (NaN and Infinity included),
//    so JSON escapes (`"\u004cambda"`) cannot hide a layer;
//  - variable-length string values live in global heap collections (`GCOL`); heap objects holding a
//    JSON object are parsed too;
//  - a plain-text search for `"class_name": "Lambda"` catches anything else readable.
// https://docs.hdfgroup.org/hdf5/develop/_f_m_t3.html (Attribute Message, Global Heap)
import { parsePythonJson } from './json.ts';
import { findLambdaInText, kerasConfigFindings } from './keras.ts';
import type { ByteSource } from './source.ts';
import type { Finding, ScanContext } from './types.ts';

const CHUNK = 4 * 1024 * 1024;
const OVERLAP = 64 * 1024;
const MAX_JSON = 64 * 1024 * 1024;
const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

/** End (exclusive) of the JSON object starting at `start` ('{'), or -1 if it does not close in `b`. */
export function jsonObjectEnd(b: Uint8Array, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < b.length; i++) {
    const c = b[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

function configFindings(bytes: Uint8Array, offset: number): Finding[] | undefined {
  let parsed: unknown;
  try {
    // Keras writes the config with Python's json.dumps, which emits NaN and Infinity.
    parsed = parsePythonJson(utf8.decode(bytes));
  } catch {
    return undefined;
  }
  return kerasConfigFindings(parsed).map((f) => ({ ...f, offset }));
}

async function jsonAt(src: ByteSource, ctx: ScanContext, offset: number): Promise<Finding[] | undefined> {
  const max = Math.min(MAX_JSON, ctx.limits.maxHeaderBytes, src.size - offset);
  let window = Math.min(max, 1 << 20);
  for (;;) {
    const b = await src.read(offset, window);
    const end = jsonObjectEnd(b, 0);
    if (end > 0) return configFindings(b.subarray(0, end), offset);
    if (window >= max) return undefined;
    window = Math.min(max, window * 8);
  }
}

/** Objects of a global heap collection at `at` (signature GCOL, version 1, 8-byte lengths assumed). */
async function heapJson(src: ByteSource, ctx: ScanContext, at: number): Promise<Finding[]> {
  const head = await src.read(at, 16);
  if (head.length < 16 || head[4] !== 1) return [];
  const size = Number(new DataView(head.buffer, head.byteOffset, 16).getBigUint64(8, true));
  if (size < 16 || size > Math.min(MAX_JSON, ctx.limits.maxHeaderBytes) || at + size > src.size) return [];
  const col = await src.read(at, size);
  const v = new DataView(col.buffer, col.byteOffset, col.byteLength);
  const out: Finding[] = [];
  for (let p = 16; p + 16 <= col.length;) {
    const index = v.getUint16(p, true);
    const len = Number(v.getBigUint64(p + 8, true));
    if (index === 0 || len > col.length - p - 16) break;
    const data = col.subarray(p + 16, p + 16 + len);
    let q = 0;
    while (q < data.length && (data[q] === 0x20 || data[q] === 0x0a || data[q] === 0x0d || data[q] === 0x09))
      q++;
    if (data[q] === 0x7b) out.push(...(configFindings(data.subarray(q), at + p + 16 + q) ?? []));
    p += 16 + Math.ceil(len / 8) * 8;
  }
  return out;
}

/** The next `model_config` or `training_config` attribute name at or after `from`. */
function nextConfig(text: string, from: number): number {
  const a = text.indexOf('model_config', from);
  const b = text.indexOf('training_config', from);
  return a < 0 ? b : b < 0 ? a : Math.min(a, b);
}

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Check the superblock (HDF5 file format spec, section II.A) the way the HDF5 library does on open: a
 * known version, sane offset and length sizes, an end-of-file address the file reaches (the library
 * refuses a truncated file) and a root group object header inside it. Returns why the file is not a
 * readable HDF5 file, or undefined.
 */
export async function hdf5Problem(src: ByteSource): Promise<string | undefined> {
  let at = -1;
  for (let o = 0; o + 8 <= src.size && o <= 1 << 30; o = o === 0 ? 512 : o * 2) {
    const b = await src.read(o, 8);
    if (SIGNATURE.every((x, i) => b[i] === x)) {
      at = o;
      break;
    }
  }
  if (at < 0) return 'no HDF5 superblock signature';
  const sb = await src.read(at, 128);
  if (sb.length < 48) return 'the superblock is cut off';
  const v = new DataView(sb.buffer, sb.byteOffset, sb.byteLength);
  const version = sb[8] ?? 255;
  if (version > 3) return `superblock version ${version} is not one HDF5 writes`;
  const offsets = version <= 1 ? (sb[13] ?? 0) : (sb[9] ?? 0);
  const lengths = version <= 1 ? (sb[14] ?? 0) : (sb[10] ?? 0);
  if (![2, 4, 8].includes(offsets) || ![2, 4, 8, 16].includes(lengths))
    return `superblock declares ${offsets}-byte offsets and ${lengths}-byte lengths`;
  const addr = (p: number): number | undefined => {
    if (p + offsets > sb.length) return undefined;
    let x = 0n;
    for (let i = offsets - 1; i >= 0; i--) x = (x << 8n) | BigInt(sb[p + i] ?? 0);
    return x === (1n << BigInt(8 * offsets)) - 1n
      ? -1
      : x > BigInt(Number.MAX_SAFE_INTEGER)
        ? undefined
        : Number(x);
  };
  let base: number | undefined;
  let eof: number | undefined;
  let root: number | undefined;
  if (version <= 1) {
    const p = version === 0 ? 24 : 28;
    base = addr(p);
    eof = addr(p + 2 * offsets);
    root = addr(p + 4 * offsets + offsets); // root symbol table entry: link name offset, then object header address
  } else {
    base = addr(12);
    eof = addr(12 + 2 * offsets);
    root = addr(12 + 3 * offsets);
  }
  void v;
  if (base === undefined || eof === undefined || root === undefined || base < 0 || eof < 0 || root < 0)
    return 'the superblock addresses are undefined or out of range';
  if (base + eof > src.size)
    return `the file is truncated: its superblock says it ends at ${base + eof}, it has ${src.size} bytes`;
  if (root >= eof) return 'the root group lies outside the file';
  const h = await src.read(base + root, 4);
  const ohdr = h[0] === 0x4f && h[1] === 0x48 && h[2] === 0x44 && h[3] === 0x52;
  if (!ohdr && h[0] !== 1) return 'no object header where the root group should be';
  return undefined;
}

export async function scanHdf5(
  src: ByteSource,
  ctx: ScanContext,
): Promise<{ findings: Finding[]; hasModelConfig: boolean }> {
  const problem = await hdf5Problem(src);
  // the configs are searched anyway: a damaged file can still carry a Lambda worth naming
  const structure: Finding[] =
    problem === undefined
      ? []
      : [
          {
            rule: 'hdf5-malformed',
            severity: 'rejected',
            detail: `${problem}; h5py cannot open it, and a file it reads differently cannot be judged`,
          },
        ];
  const parsed: Finding[] = [];
  const textual: Finding[] = [];
  let hasModelConfig = false;
  const seen = new Set<number>();
  for (let off = 0; off < src.size; off += CHUNK) {
    ctx.checkTime();
    const b = await src.read(off, CHUNK + OVERLAP);
    const text = latin1.decode(b);
    for (let at = nextConfig(text, 0); at >= 0 && at < CHUNK; at = nextConfig(text, at + 1)) {
      hasModelConfig = true;
      const brace = text.indexOf('{', at);
      if (brace < 0 || brace - at > 512 || seen.has(off + brace)) continue;
      seen.add(off + brace);
      parsed.push(...((await jsonAt(src, ctx, off + brace)) ?? []));
    }
    for (let at = text.indexOf('GCOL'); at >= 0 && at < CHUNK; at = text.indexOf('GCOL', at + 1)) {
      if (seen.has(off + at)) continue;
      seen.add(off + at);
      parsed.push(...(await heapJson(src, ctx, off + at)));
    }
    for (const f of findLambdaInText(text, off)) {
      if (f.offset !== undefined && (seen.has(-f.offset - 1) || f.offset >= off + CHUNK)) continue;
      if (f.offset !== undefined) seen.add(-f.offset - 1);
      textual.push(f);
    }
  }
  return { findings: [...structure, ...(parsed.length > 0 ? parsed : textual)], hasModelConfig };
}
