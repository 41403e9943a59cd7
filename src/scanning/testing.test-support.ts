// Builders for scanner tests: small zips, tars, protobufs, GGUF and pickles written byte by byte, so
// each test states exactly the structure it exercises.
import { deflateRawSync } from 'node:zlib';
import { crc32 } from './zip.ts';

export const enc = new TextEncoder();

export function concat(...parts: (Uint8Array | number[] | string)[]): Uint8Array {
  const bufs = parts.map((p) =>
    typeof p === 'string' ? enc.encode(p) : p instanceof Uint8Array ? p : Uint8Array.from(p),
  );
  const out = new Uint8Array(bufs.reduce((n, b) => n + b.length, 0));
  let o = 0;
  for (const b of bufs) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

function le(n: number, bytes: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  for (let i = 0; i < bytes; i++) {
    out.push(Number(v & 0xffn));
    v >>= 8n;
  }
  return out;
}
export const u16 = (n: number): number[] => le(n, 2);
export const u32 = (n: number): number[] => le(n, 4);
export const u64 = (n: number): number[] => le(n, 8);

export interface ZipMember {
  name: string;
  data: Uint8Array | string;
  deflate?: boolean;
  flags?: number;
  /** Name written in the local header when it should differ from the central directory's. */
  localName?: string;
  crc?: number;
}

/** A zip; with `zip64`, sizes/offsets go to zip64 extra fields and zip64 end records. */
export function buildZip(
  members: ZipMember[],
  prefix: Uint8Array = new Uint8Array(0),
  zip64 = false,
): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const m of members) {
    const raw = typeof m.data === 'string' ? enc.encode(m.data) : m.data;
    const body = m.deflate ? new Uint8Array(deflateRawSync(raw)) : raw;
    const method = m.deflate ? 8 : 0;
    const crc = m.crc ?? crc32(raw);
    const name = enc.encode(m.name);
    const lname = enc.encode(m.localName ?? m.name);
    const flags = m.flags ?? 0;
    const local = concat(
      u32(0x04034b50),
      u16(20),
      u16(flags),
      u16(method),
      u16(0),
      u16(0),
      u32(crc),
      u32(body.length),
      u32(raw.length),
      u16(lname.length),
      u16(0),
      lname,
      body,
    );
    const big = 0xffffffff;
    const extra = zip64
      ? concat(u16(1), u16(24), u64(raw.length), u64(body.length), u64(offset))
      : new Uint8Array(0);
    centrals.push(
      concat(
        u32(0x02014b50),
        u16(45),
        u16(45),
        u16(flags),
        u16(method),
        u16(0),
        u16(0),
        u32(crc),
        u32(zip64 ? big : body.length),
        u32(zip64 ? big : raw.length),
        u16(name.length),
        u16(extra.length),
        u16(0),
        u16(0),
        u16(0),
        u32(0),
        u32(zip64 ? big : offset),
        name,
        extra,
      ),
    );
    locals.push(local);
    offset += local.length;
  }
  const cd = concat(...centrals);
  if (zip64) {
    const rec = concat(
      u32(0x06064b50),
      u64(44),
      u16(45),
      u16(45),
      u32(0),
      u32(0),
      u64(members.length),
      u64(members.length),
      u64(cd.length),
      u64(offset),
    );
    const loc = concat(u32(0x07064b50), u32(0), u64(offset + cd.length), u32(1));
    const eocd = concat(
      u32(0x06054b50),
      u16(0),
      u16(0),
      u16(0xffff),
      u16(0xffff),
      u32(0xffffffff),
      u32(0xffffffff),
      u16(0),
    );
    return concat(prefix, ...locals, cd, rec, loc, eocd);
  }
  const eocd = concat(
    u32(0x06054b50),
    u16(0),
    u16(0),
    u16(members.length),
    u16(members.length),
    u32(cd.length),
    u32(offset),
    u16(0),
  );
  return concat(prefix, ...locals, cd, eocd);
}

export function buildTar(
  members: { name: string; data: Uint8Array | string; type?: string; linkName?: string }[],
): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const m of members) {
    const data = typeof m.data === 'string' ? enc.encode(m.data) : m.data;
    const h = new Uint8Array(512);
    h.set(enc.encode(m.name).subarray(0, 100), 0);
    h.set(enc.encode('0000644\0'), 100);
    h.set(enc.encode('0000000\0'), 108);
    h.set(enc.encode('0000000\0'), 116);
    h.set(enc.encode(data.length.toString(8).padStart(11, '0') + '\0'), 124);
    h.set(enc.encode('00000000000\0'), 136);
    h.set(enc.encode(m.type ?? '0'), 156);
    if (m.linkName) h.set(enc.encode(m.linkName), 157);
    h.set(enc.encode('ustar\x0000'), 257);
    h.fill(0x20, 148, 156);
    const sum = h.reduce((a, b) => a + b, 0);
    h.set(enc.encode(sum.toString(8).padStart(6, '0') + '\0 '), 148);
    parts.push(h, data, new Uint8Array((512 - (data.length % 512)) % 512));
  }
  parts.push(new Uint8Array(1024));
  return concat(...parts);
}

// --- protobuf ---------------------------------------------------------------------------------
export function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}
export function pbBytes(field: number, payload: Uint8Array | string): Uint8Array {
  const p = typeof payload === 'string' ? enc.encode(payload) : payload;
  return concat(varint((field << 3) | 2), varint(p.length), p);
}
export function pbVarint(field: number, v: number): Uint8Array {
  return concat(varint(field << 3), varint(v));
}

/** An ONNX ModelProto with one initializer whose bytes live in an external file at `location`. */
export function onnxWithExternalData(location: string): Uint8Array {
  const entry = concat(pbBytes(1, 'location'), pbBytes(2, location));
  const tensor = concat(pbVarint(1, 4), pbVarint(2, 1), pbBytes(8, 'w'), pbBytes(13, entry), pbVarint(14, 1));
  const node = concat(pbBytes(1, 'x'), pbBytes(2, 'y'), pbBytes(4, 'Relu'));
  const graph = concat(pbBytes(1, node), pbBytes(2, 'g'), pbBytes(5, tensor));
  return concat(
    pbVarint(1, 8),
    pbBytes(2, 'pytorch'),
    pbBytes(7, graph),
    pbBytes(8, concat(pbVarint(2, 17))),
  );
}

// --- GGUF -------------------------------------------------------------------------------------
function ggufString(s: string): Uint8Array {
  const b = enc.encode(s);
  return concat(u64(b.length), b);
}

/** A GGUF v3 file with string metadata and one F32 tensor of `elements` values. */
export function buildGguf(
  opts: { kv?: Record<string, string>; elements?: number; tensorOffset?: number; dataBytes?: number } = {},
): Uint8Array {
  const kv = opts.kv ?? { 'general.architecture': 'llama' };
  const elements = opts.elements ?? 4;
  const kvs = Object.entries(kv).map(([k, v]) => concat(ggufString(k), u32(8), ggufString(v)));
  const tensor = concat(ggufString('w'), u32(1), u64(elements), u32(0), u64(opts.tensorOffset ?? 0));
  const head = concat('GGUF', u32(3), u64(1), u64(kvs.length), ...kvs, tensor);
  const pad = new Uint8Array((32 - (head.length % 32)) % 32);
  return concat(head, pad, new Uint8Array(opts.dataBytes ?? elements * 4));
}

// --- pickles ----------------------------------------------------------------------------------
/** Protocol-2 pickle calling module.name('x'): GLOBAL + REDUCE. */
export function reducePickle(module: string, name: string, proto = 2): Uint8Array {
  return concat([0x80, proto], `c${module}\n${name}\n`, 'X', u32(1), 'x', [0x85], 'R.');
}

/** Protocol-4 pickle importing module.name with STACK_GLOBAL (no call). */
export function stackGlobalPickle(module: string, name: string): Uint8Array {
  const m = enc.encode(module);
  const n = enc.encode(name);
  return concat([0x80, 0x04, 0x8c, m.length], m, [0x94, 0x8c, n.length], n, [0x94, 0x93, 0x94], '.');
}

/** Protocol-2 pickle of an instance of module.name built without __init__ and given a dict state (data-only). */
export function dataClassPickle(module: string, name: string): Uint8Array {
  return concat([0x80, 0x02], `c${module}\n${name}\n`, ')', [0x81], '}b.');
}
