// LZ4 frames (joblib's compress='lz4', python-lz4's lz4.frame), decoded with a hard bound on the
// output. The frame format is small (a header, blocks with a size word, an end mark, optional
// checksums) and the block format is one loop; the npm LZ4 packages either wrap native code or decode
// into a caller-sized buffer and keep going past it, so this is written here from the specification:
// https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md and lz4_Block_format.md
import type { Decoded, DecodeOptions } from './lzma.ts';
import { LimitExceeded } from './types.ts';

export class Lz4Error extends Error {}

const MAGIC = 0x184d2204;
const LEGACY_MAGIC = 0x184c2102;

class Out {
  buf: Uint8Array;
  pos = 0;
  constructor(
    private readonly max: number,
    hint: number,
  ) {
    this.buf = new Uint8Array(Math.max(64, Math.min(max, hint)));
  }
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    if (need > this.max)
      throw new LimitExceeded('maxPickleBytes', `LZ4 content decompresses past ${this.max} bytes`);
    let size = this.buf.length;
    while (size < need) size = Math.min(this.max, size * 2);
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.pos));
    this.buf = b;
  }
}

/** One LZ4 block; matches may reach back into earlier blocks (linked blocks) but not before `floor`. */
function decodeBlock(src: Uint8Array, start: number, end: number, out: Out, floor: number): void {
  let p = start;
  for (;;) {
    if (p >= end) throw new Lz4Error('LZ4 block ends inside a sequence');
    const token = src[p++] ?? 0;
    let lit = token >>> 4;
    if (lit === 15) {
      for (;;) {
        if (p >= end) throw new Lz4Error('LZ4 literal length truncated');
        const b = src[p++] ?? 0;
        lit += b;
        if (b !== 255) break;
      }
    }
    if (p + lit > end) throw new Lz4Error('LZ4 literals run past the block');
    out.ensure(lit);
    out.buf.set(src.subarray(p, p + lit), out.pos);
    out.pos += lit;
    p += lit;
    if (p === end) return; // the last sequence has literals only
    if (p + 2 > end) throw new Lz4Error('LZ4 match offset truncated');
    const offset = (src[p] ?? 0) | ((src[p + 1] ?? 0) << 8);
    p += 2;
    if (offset === 0 || offset > out.pos - floor)
      throw new Lz4Error('LZ4 match offset points outside the output');
    let len = (token & 15) + 4;
    if ((token & 15) === 15) {
      for (;;) {
        if (p >= end) throw new Lz4Error('LZ4 match length truncated');
        const b = src[p++] ?? 0;
        len += b;
        if (b !== 255) break;
      }
    }
    out.ensure(len);
    const buf = out.buf;
    let from = out.pos - offset;
    for (let i = 0; i < len; i++) buf[out.pos++] = buf[from++] ?? 0;
  }
}

/** Every frame in `input` (concatenated frames and skippable frames, as python-lz4 reads them). */
export function decodeLz4Frames(input: Uint8Array, opts: DecodeOptions): Decoded {
  const out = new Out(opts.maxOutput, input.length * 4);
  const dv = new DataView(input.buffer, input.byteOffset, input.byteLength);
  let pos = 0;
  try {
    while (pos < input.length) {
      opts.tick?.();
      if (pos + 4 > input.length) throw new Lz4Error('bytes after the last LZ4 frame');
      const magic = dv.getUint32(pos, true);
      if ((magic & 0xfffffff0) === 0x184d2a50) {
        if (pos + 8 > input.length) throw new Lz4Error('skippable frame truncated');
        pos += 8 + dv.getUint32(pos + 4, true);
        continue;
      }
      if (magic === LEGACY_MAGIC) throw new Lz4Error('legacy LZ4 frames are not supported');
      if (magic !== MAGIC) throw new Lz4Error(pos === 0 ? 'not an LZ4 frame' : 'garbage after an LZ4 frame');
      if (pos + 7 > input.length) throw new Lz4Error('LZ4 frame header truncated');
      const flg = input[pos + 4] ?? 0;
      if (flg >> 6 !== 1) throw new Lz4Error('unsupported LZ4 frame version');
      const independent = (flg & 0x20) !== 0;
      const blockChecksum = (flg & 0x10) !== 0;
      const contentSize = (flg & 0x08) !== 0;
      const contentChecksum = (flg & 0x04) !== 0;
      const dictId = (flg & 0x01) !== 0;
      if (dictId) throw new Lz4Error('LZ4 frames with a dictionary id are not supported');
      const bd = input[pos + 5] ?? 0;
      const maxBlock = [0, 0, 0, 0, 1 << 16, 1 << 18, 1 << 20, 1 << 22][(bd >> 4) & 7] ?? 0;
      if (maxBlock === 0) throw new Lz4Error('invalid LZ4 block size code');
      pos += 6;
      if (contentSize) {
        if (pos + 8 > input.length) throw new Lz4Error('LZ4 frame header truncated');
        const size = dv.getBigUint64(pos, true);
        if (size > BigInt(opts.maxOutput))
          throw new LimitExceeded(
            'maxPickleBytes',
            `LZ4 frame declares ${size} bytes, more than ${opts.maxOutput}`,
          );
        pos += 8;
      }
      pos += 1; // header checksum
      const frameStart = out.pos;
      for (;;) {
        if (pos + 4 > input.length) throw new Lz4Error('LZ4 frame ends without its end mark');
        const word = dv.getUint32(pos, true);
        pos += 4;
        if (word === 0) break;
        const size = word & 0x7fffffff;
        if (size > maxBlock) throw new Lz4Error('LZ4 block larger than the frame allows');
        if (pos + size > input.length) throw new Lz4Error('LZ4 block runs past the data');
        if (word & 0x80000000) {
          out.ensure(size);
          out.buf.set(input.subarray(pos, pos + size), out.pos);
          out.pos += size;
        } else decodeBlock(input, pos, pos + size, out, independent ? out.pos : frameStart);
        pos += size + (blockChecksum ? 4 : 0);
      }
      if (contentChecksum) pos += 4;
      if (pos > input.length) throw new Lz4Error('LZ4 content checksum truncated');
    }
    return { data: out.buf.subarray(0, out.pos), consumed: pos };
  } catch (e) {
    if (!(e instanceof Lz4Error)) throw e;
    return { data: out.buf.subarray(0, out.pos), error: e.message, consumed: pos };
  }
}
