// LZMA and LZMA2 decoding with a hard bound on the output, for the .lzma ("LZMA-alone", joblib's
// compress='lzma') and .xz (joblib's 'xz', tar.xz, zip method 14) containers. Written from the format
// descriptions (the LZMA SDK's lzma-specification.txt, xz-file-format.txt): no maintained pure-JS
// package decodes LZMA with a bounded output — lzma1 and LZMA-JS decode into a buffer that grows
// without limit, and xz-decompress is WebAssembly for .xz only — and a decompression bomb must stop at
// the limit, not after allocating it. Decoding stops at `maxOutput` bytes with LimitExceeded.
import { LimitExceeded } from './types.ts';

export class LzmaError extends Error {}

/** Output window: the whole (bounded) output is kept, so distances index into it directly. */
class OutWindow {
  buf: Uint8Array;
  pos = 0;
  /** Start of the current dictionary (LZMA2 dictionary resets). */
  dictStart = 0;
  constructor(
    private readonly max: number,
    sizeHint: number,
  ) {
    this.buf = new Uint8Array(Math.max(64, Math.min(max, sizeHint)));
  }
  private grow(need: number): void {
    if (need > this.max)
      throw new LimitExceeded('maxPickleBytes', `compressed content decompresses past ${this.max} bytes`);
    let n = this.buf.length;
    while (n < need) n = Math.min(this.max, n * 2);
    const b = new Uint8Array(n);
    b.set(this.buf.subarray(0, this.pos));
    this.buf = b;
  }
  put(b: number): void {
    if (this.pos >= this.buf.length) this.grow(this.pos + 1);
    this.buf[this.pos++] = b;
  }
  getBack(dist: number): number {
    return this.buf[this.pos - dist - 1] ?? 0;
  }
  copyMatch(dist: number, len: number): void {
    if (dist + 1 > this.pos - this.dictStart)
      throw new LzmaError('match distance points before the dictionary');
    if (this.pos + len > this.buf.length) this.grow(this.pos + len);
    const buf = this.buf;
    let src = this.pos - dist - 1;
    for (let i = 0; i < len; i++) buf[this.pos++] = buf[src++] ?? 0;
  }
  append(data: Uint8Array): void {
    if (this.pos + data.length > this.buf.length) this.grow(this.pos + data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }
  isEmpty(): boolean {
    return this.pos === this.dictStart;
  }
}

class RangeDecoder {
  range = 0xffffffff;
  code = 0;
  constructor(
    private readonly input: Uint8Array,
    public pos: number,
    private readonly end: number,
  ) {
    if (this.byte() !== 0) throw new LzmaError('range coder does not start with a zero byte');
    for (let i = 0; i < 4; i++) this.code = ((this.code << 8) | this.byte()) >>> 0;
    if (this.code === this.range) throw new LzmaError('corrupt range coder state');
  }
  private byte(): number {
    if (this.pos >= this.end) throw new LzmaError('compressed data ends early');
    return this.input[this.pos++] ?? 0;
  }
  private normalize(): void {
    if (this.range < 0x1000000) {
      this.range = (this.range << 8) >>> 0;
      this.code = ((this.code << 8) | this.byte()) >>> 0;
    }
  }
  bit(probs: Uint16Array, i: number): number {
    const p = probs[i] ?? 1024;
    const bound = (this.range >>> 11) * p;
    let b: number;
    if (this.code < bound) {
      this.range = bound;
      probs[i] = p + ((2048 - p) >>> 5);
      b = 0;
    } else {
      this.range = (this.range - bound) >>> 0;
      this.code = (this.code - bound) >>> 0;
      probs[i] = p - (p >>> 5);
      b = 1;
    }
    this.normalize();
    return b;
  }
  direct(n: number): number {
    let res = 0;
    for (let i = 0; i < n; i++) {
      this.range >>>= 1;
      let b = 0;
      if (this.code >= this.range) {
        this.code = (this.code - this.range) >>> 0;
        b = 1;
      }
      res = ((res << 1) | b) >>> 0;
      this.normalize();
    }
    return res;
  }
  tree(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    for (let i = 0; i < bits; i++) m = (m << 1) | this.bit(probs, base + m);
    return m - (1 << bits);
  }
  reverseTree(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    let sym = 0;
    for (let i = 0; i < bits; i++) {
      const b = this.bit(probs, base + m);
      m = (m << 1) | b;
      sym |= b << i;
    }
    return sym;
  }
  finishedOk(): boolean {
    return this.code === 0;
  }
}

const N_STATES = 12;
const POS_STATES_MAX = 16;
const LEN_LOW = 8;
const LEN_MID = 8;
const LEN_HIGH = 256;

class LenDecoder {
  choice = new Uint16Array(2).fill(1024);
  low = new Uint16Array(POS_STATES_MAX * LEN_LOW).fill(1024);
  mid = new Uint16Array(POS_STATES_MAX * LEN_MID).fill(1024);
  high = new Uint16Array(LEN_HIGH).fill(1024);
  decode(rc: RangeDecoder, posState: number): number {
    if (rc.bit(this.choice, 0) === 0) return rc.tree(this.low, posState * LEN_LOW, 3);
    if (rc.bit(this.choice, 1) === 0) return 8 + rc.tree(this.mid, posState * LEN_MID, 3);
    return 16 + rc.tree(this.high, 0, 8);
  }
}

export interface LzmaProps {
  lc: number;
  lp: number;
  pb: number;
}

export function decodeProps(b: number): LzmaProps {
  if (b >= 9 * 5 * 5) throw new LzmaError(`invalid LZMA properties byte ${b}`);
  return { lc: b % 9, lp: Math.floor(b / 9) % 5, pb: Math.floor(b / 45) };
}

/** The LZMA decoder state (probabilities, reps), reusable across LZMA2 chunks. */
class LzmaDecoder {
  props!: LzmaProps;
  literal!: Uint16Array;
  isMatch = new Uint16Array(N_STATES * POS_STATES_MAX);
  isRep = new Uint16Array(N_STATES);
  isRepG0 = new Uint16Array(N_STATES);
  isRepG1 = new Uint16Array(N_STATES);
  isRepG2 = new Uint16Array(N_STATES);
  isRep0Long = new Uint16Array(N_STATES * POS_STATES_MAX);
  posSlot = new Uint16Array(4 * 64);
  posDecoders = new Uint16Array(1 + 114);
  align = new Uint16Array(16);
  lenDec = new LenDecoder();
  repLenDec = new LenDecoder();
  state = 0;
  reps = [0, 0, 0, 0];

  constructor(readonly out: OutWindow) {}

  setProps(p: LzmaProps): void {
    if (p.lc + p.lp > 12) throw new LzmaError('lc + lp too large');
    this.props = p;
    this.literal = new Uint16Array(0x300 << (p.lc + p.lp));
    this.reset();
  }

  reset(): void {
    this.literal.fill(1024);
    for (const a of [
      this.isMatch,
      this.isRep,
      this.isRepG0,
      this.isRepG1,
      this.isRepG2,
      this.isRep0Long,
      this.posSlot,
      this.posDecoders,
      this.align,
    ])
      a.fill(1024);
    this.lenDec = new LenDecoder();
    this.repLenDec = new LenDecoder();
    this.state = 0;
    this.reps = [0, 0, 0, 0];
  }

  private literalByte(rc: RangeDecoder): void {
    const { lc, lp } = this.props;
    const out = this.out;
    const prev = out.isEmpty() ? 0 : out.getBack(0);
    const litState = ((out.pos & ((1 << lp) - 1)) << lc) + (prev >>> (8 - lc));
    const base = 0x300 * litState;
    let sym = 1;
    if (this.state >= 7) {
      let matchByte = out.getBack(this.reps[0] ?? 0);
      do {
        const matchBit = (matchByte >>> 7) & 1;
        matchByte <<= 1;
        const bit = rc.bit(this.literal, base + ((1 + matchBit) << 8) + sym);
        sym = (sym << 1) | bit;
        if (matchBit !== bit) break;
      } while (sym < 0x100);
    }
    while (sym < 0x100) sym = (sym << 1) | rc.bit(this.literal, base + sym);
    out.put(sym - 0x100);
    this.state = this.state < 4 ? 0 : this.state < 10 ? this.state - 3 : this.state - 6;
  }

  private distance(rc: RangeDecoder, len: number): number {
    const lenState = Math.min(len, 3);
    const slot = rc.tree(this.posSlot, lenState * 64, 6);
    if (slot < 4) return slot;
    const numDirect = (slot >>> 1) - 1;
    let dist = ((2 | (slot & 1)) << numDirect) >>> 0;
    if (slot < 14) {
      dist = (dist + rc.reverseTree(this.posDecoders, dist - slot, numDirect)) >>> 0;
    } else {
      dist = (dist + (rc.direct(numDirect - 4) << 4)) >>> 0;
      dist = (dist + rc.reverseTree(this.align, 0, 4)) >>> 0;
    }
    return dist;
  }

  /**
   * Decode until `outLimit` bytes have been produced (known size) or the end marker; returns true when
   * the end marker was read.
   */
  decode(rc: RangeDecoder, outLimit: number, allowEndMarker: boolean, tick: () => void): boolean {
    const out = this.out;
    const pbMask = (1 << this.props.pb) - 1;
    let n = 0;
    while (out.pos < outLimit) {
      if ((++n & 0xffff) === 0) tick();
      const posState = out.pos & pbMask;
      const s = this.state;
      if (rc.bit(this.isMatch, (s << 4) + posState) === 0) {
        this.literalByte(rc);
        continue;
      }
      let len: number;
      if (rc.bit(this.isRep, s) !== 0) {
        if (out.isEmpty()) throw new LzmaError('repeated match in an empty dictionary');
        if (rc.bit(this.isRepG0, s) === 0) {
          if (rc.bit(this.isRep0Long, (s << 4) + posState) === 0) {
            this.state = s < 7 ? 9 : 11;
            out.put(out.getBack(this.reps[0] ?? 0));
            continue;
          }
        } else {
          let dist: number;
          if (rc.bit(this.isRepG1, s) === 0) dist = this.reps[1] ?? 0;
          else {
            if (rc.bit(this.isRepG2, s) === 0) dist = this.reps[2] ?? 0;
            else {
              dist = this.reps[3] ?? 0;
              this.reps[3] = this.reps[2] ?? 0;
            }
            this.reps[2] = this.reps[1] ?? 0;
          }
          this.reps[1] = this.reps[0] ?? 0;
          this.reps[0] = dist;
        }
        len = this.repLenDec.decode(rc, posState);
        this.state = s < 7 ? 8 : 11;
      } else {
        this.reps[3] = this.reps[2] ?? 0;
        this.reps[2] = this.reps[1] ?? 0;
        this.reps[1] = this.reps[0] ?? 0;
        len = this.lenDec.decode(rc, posState);
        this.state = s < 7 ? 7 : 10;
        const dist = this.distance(rc, len);
        if (dist === 0xffffffff) {
          if (!allowEndMarker) throw new LzmaError('unexpected end marker');
          return true;
        }
        this.reps[0] = dist;
      }
      len += 2;
      const rep0 = this.reps[0] ?? 0;
      out.copyMatch(rep0, Math.min(len, outLimit - out.pos));
    }
    return false;
  }
}

export interface DecodeOptions {
  maxOutput: number;
  tick?: () => void;
}

/** Result of a decode that may have stopped at corrupt or truncated input: what came out before. */
export interface Decoded {
  data: Uint8Array;
  /** Why decoding stopped early (the output is a prefix of what a tolerant reader would get). */
  error?: string;
  /** Bytes of input consumed. */
  consumed: number;
}

function dictSizeOk(d: number): boolean {
  return d >= 0 && d <= 0xffffffff;
}

/** .lzma ("LZMA-alone"): 5 property bytes, 8-byte size (all ones: unknown, then an end marker). */
export function decodeLzmaAlone(input: Uint8Array, opts: DecodeOptions): Decoded {
  if (input.length < 13)
    return { data: new Uint8Array(0), error: 'LZMA header truncated', consumed: input.length };
  const dv = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const props = decodeProps(input[0] ?? 0);
  const dict = dv.getUint32(1, true);
  if (!dictSizeOk(dict)) throw new LzmaError('bad dictionary size');
  const size = dv.getBigUint64(5, true);
  const known = size !== 0xffffffffffffffffn;
  if (known && size > BigInt(opts.maxOutput))
    throw new LimitExceeded(
      'maxPickleBytes',
      `LZMA stream declares ${size} bytes, more than ${opts.maxOutput}`,
    );
  const out = new OutWindow(opts.maxOutput, known ? Number(size) : input.length * 4);
  const dec = new LzmaDecoder(out);
  dec.setProps(props);
  let rc: RangeDecoder | undefined;
  try {
    rc = new RangeDecoder(input, 13, input.length);
    dec.decode(rc, known ? Number(size) : Number.MAX_SAFE_INTEGER, true, opts.tick ?? (() => undefined));
    return { data: out.buf.subarray(0, out.pos), consumed: rc.pos };
  } catch (e) {
    if (!(e instanceof LzmaError)) throw e;
    return { data: out.buf.subarray(0, out.pos), error: e.message, consumed: rc?.pos ?? 13 };
  }
}

/** Raw LZMA2 chunks (the xz filter 0x21). */
function decodeLzma2(
  input: Uint8Array,
  start: number,
  end: number,
  out: OutWindow,
  tick: () => void,
): number {
  const dec = new LzmaDecoder(out);
  let pos = start;
  let needProps = true;
  let needDictReset = true;
  for (;;) {
    if (pos >= end) throw new LzmaError('LZMA2 data ends without its end chunk');
    const control = input[pos++] ?? 0;
    if (control === 0) return pos;
    if (control === 1 || control === 2) {
      if (control === 1) {
        out.dictStart = out.pos;
        needDictReset = false;
      } else if (needDictReset) throw new LzmaError('LZMA2 chunk without a dictionary reset');
      if (pos + 2 > end) throw new LzmaError('LZMA2 chunk header truncated');
      const size = (((input[pos] ?? 0) << 8) | (input[pos + 1] ?? 0)) + 1;
      pos += 2;
      if (pos + size > end) throw new LzmaError('LZMA2 uncompressed chunk runs past the data');
      out.append(input.subarray(pos, pos + size));
      pos += size;
      continue;
    }
    if (control < 0x80) throw new LzmaError(`invalid LZMA2 control byte 0x${control.toString(16)}`);
    if (pos + 4 > end) throw new LzmaError('LZMA2 chunk header truncated');
    const unpacked = ((control & 0x1f) << 16) + ((input[pos] ?? 0) << 8) + (input[pos + 1] ?? 0) + 1;
    const packed = ((input[pos + 2] ?? 0) << 8) + (input[pos + 3] ?? 0) + 1;
    pos += 4;
    const reset = (control >>> 5) & 3;
    if (reset === 3) {
      out.dictStart = out.pos;
      needDictReset = false;
    } else if (needDictReset) throw new LzmaError('LZMA2 chunk without a dictionary reset');
    if (reset >= 2) {
      if (pos >= end) throw new LzmaError('LZMA2 properties missing');
      dec.setProps(decodeProps(input[pos++] ?? 0));
      needProps = false;
    } else if (needProps) throw new LzmaError('LZMA2 chunk before its properties');
    else if (reset === 1) dec.reset();
    if (pos + packed > end) throw new LzmaError('LZMA2 chunk runs past the data');
    const rc = new RangeDecoder(input, pos, pos + packed);
    dec.decode(rc, out.pos + unpacked, false, tick);
    pos += packed;
  }
}

function readVarint(b: Uint8Array, pos: number, end: number): [number, number] {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 9; i++) {
    if (pos >= end) throw new LzmaError('xz header truncated');
    const c = b[pos++] ?? 0;
    v += (c & 0x7f) * mul;
    if ((c & 0x80) === 0) return [v, pos];
    mul *= 128;
  }
  throw new LzmaError('xz varint too long');
}

const CHECK_SIZES = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];

/** .xz: streams of blocks whose only filter is LZMA2 (what xz and Python's lzma write by default). */
export function decodeXz(input: Uint8Array, opts: DecodeOptions): Decoded {
  const out = new OutWindow(opts.maxOutput, input.length * 4);
  const tick = opts.tick ?? (() => undefined);
  let pos = 0;
  try {
    for (let stream = 0; ; stream++) {
      while (
        stream > 0 &&
        pos + 4 <= input.length &&
        input[pos] === 0 &&
        input[pos + 1] === 0 &&
        input[pos + 2] === 0 &&
        input[pos + 3] === 0
      )
        pos += 4; // stream padding
      if (stream > 0 && pos >= input.length) break;
      const magic = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
      if (!magic.every((m, i) => input[pos + i] === m))
        throw new LzmaError(stream === 0 ? 'not an xz stream' : 'garbage after an xz stream');
      if (pos + 12 > input.length) throw new LzmaError('xz stream header truncated');
      const check = (input[pos + 7] ?? 0) & 0x0f;
      pos += 12;
      for (;;) {
        if (pos >= input.length) throw new LzmaError('xz stream ends inside its blocks');
        const sizeByte = input[pos] ?? 0;
        if (sizeByte === 0) break; // index indicator
        const headerSize = (sizeByte + 1) * 4;
        const hEnd = pos + headerSize;
        if (hEnd > input.length) throw new LzmaError('xz block header truncated');
        const flags = input[pos + 1] ?? 0;
        let p = pos + 2;
        if (flags & 0x40) [, p] = readVarint(input, p, hEnd);
        if (flags & 0x80) [, p] = readVarint(input, p, hEnd);
        const filters = (flags & 3) + 1;
        for (let f = 0; f < filters; f++) {
          let id: number;
          let propSize: number;
          [id, p] = readVarint(input, p, hEnd);
          [propSize, p] = readVarint(input, p, hEnd);
          if (f !== filters - 1 || id !== 0x21)
            throw new LzmaError(`xz filter 0x${id.toString(16)} is not supported (only LZMA2)`);
          p += propSize;
        }
        const dataStart = hEnd;
        const dataEnd = decodeLzma2(input, dataStart, input.length, out, tick);
        pos = dataEnd;
        while ((pos - dataStart) % 4 !== 0) pos++;
        pos += CHECK_SIZES[check] ?? 0;
      }
      // index: indicator, record count, records, padding, CRC32; then the 12-byte footer
      let p = pos + 1;
      const [records, afterCount] = readVarint(input, p, input.length);
      p = afterCount;
      for (let r = 0; r < records; r++) {
        [, p] = readVarint(input, p, input.length);
        [, p] = readVarint(input, p, input.length);
      }
      while ((p - pos) % 4 !== 0) p++;
      p += 4 + 12;
      if (p > input.length) throw new LzmaError('xz index or footer truncated');
      if (input[p - 2] !== 0x59 || input[p - 1] !== 0x5a) throw new LzmaError('xz stream footer is damaged');
      pos = p;
    }
    return { data: out.buf.subarray(0, out.pos), consumed: pos };
  } catch (e) {
    if (!(e instanceof LzmaError)) throw e;
    return { data: out.buf.subarray(0, out.pos), error: e.message, consumed: pos };
  }
}

/** Zip method 14: a 2-byte version, a 2-byte property length, the 5 property bytes, then LZMA data. */
export function decodeZipLzma(input: Uint8Array, uncompressed: number, opts: DecodeOptions): Decoded {
  if (input.length < 9)
    return { data: new Uint8Array(0), error: 'zip LZMA header truncated', consumed: input.length };
  const propLen = (input[2] ?? 0) | ((input[3] ?? 0) << 8);
  if (propLen !== 5) throw new LzmaError(`zip LZMA property length ${propLen}`);
  const header = new Uint8Array(13);
  header.set(input.subarray(4, 9), 0);
  new DataView(header.buffer).setBigUint64(5, BigInt(uncompressed), true);
  const joined = new Uint8Array(13 + input.length - 9);
  joined.set(header, 0);
  joined.set(input.subarray(9), 13);
  return decodeLzmaAlone(joined, opts);
}
