// Bounded decompression of the compressors model files use (joblib writes all six: zlib, gzip, bz2,
// lzma-alone, xz, lz4; tarballs come as .tar.gz/.tar.bz2/.tar.xz). Every decoder stops at `maxOutput`
// (LimitExceeded) instead of allocating a decompression bomb, and returns what it decoded before
// corrupt or truncated input together with the reason: a streaming loader (joblib, tarfile) has
// already acted on that prefix when it meets the damage, so the prefix is scanned and the file refused.
//   gzip, zlib  node:zlib, maxOutputLength (partial output of truncated input via Z_SYNC_FLUSH)
//   bzip2       seek-bzip 2.0.0 (pure JavaScript; the output stream it writes to enforces the bound)
//   lzma, xz    lzma.ts;  lz4  lz4.ts  (no npm decoder bounds its output; see those files)
import Bunzip from 'seek-bzip';
import { constants, gunzipSync, inflateSync } from 'node:zlib';
import { decodeLz4Frames } from './lz4.ts';
import { decodeLzmaAlone, decodeXz, LzmaError, type Decoded, type DecodeOptions } from './lzma.ts';
import { LimitExceeded } from './types.ts';

export type Compression = 'gzip' | 'zlib' | 'bzip2' | 'xz' | 'lzma' | 'lz4';
export type { Decoded } from './lzma.ts';

export const COMPRESSION_NAMES: Record<Compression, string> = {
  gzip: 'gzip',
  zlib: 'zlib',
  bzip2: 'bzip2',
  xz: 'xz',
  lzma: 'LZMA-alone',
  lz4: 'LZ4 frame',
};

function zlibFamily(kind: 'gzip' | 'zlib', input: Uint8Array, max: number): Decoded {
  const fn = kind === 'gzip' ? gunzipSync : inflateSync;
  try {
    return { data: new Uint8Array(fn(input, { maxOutputLength: max })), consumed: input.length };
  } catch (e) {
    if (e instanceof RangeError || /maxOutputLength|larger than/i.test((e as Error).message))
      throw new LimitExceeded('maxPickleBytes', `${kind} content decompresses past ${max} bytes`);
    let partial = new Uint8Array(0);
    try {
      partial = new Uint8Array(fn(input, { maxOutputLength: max, finishFlush: constants.Z_SYNC_FLUSH }));
    } catch {
      // nothing decodable
    }
    return { data: partial, error: (e as Error).message, consumed: input.length };
  }
}

function bzip2(input: Uint8Array, max: number): Decoded {
  let buf = new Uint8Array(Math.max(64, Math.min(max, input.length * 4)));
  let n = 0;
  const out = {
    writeByte(b: number): void {
      if (n >= buf.length) {
        if (n >= max)
          throw new LimitExceeded('maxPickleBytes', `bzip2 content decompresses past ${max} bytes`);
        const next = new Uint8Array(Math.min(max, buf.length * 2));
        next.set(buf);
        buf = next;
      }
      buf[n++] = b;
    },
  };
  try {
    Bunzip.decode(input, out, true);
    return { data: buf.subarray(0, n), consumed: input.length };
  } catch (e) {
    if (e instanceof LimitExceeded) throw e;
    return { data: buf.subarray(0, n), error: (e as Error).message, consumed: input.length };
  }
}

export function decompress(kind: Compression, input: Uint8Array, opts: DecodeOptions): Decoded {
  switch (kind) {
    case 'gzip':
    case 'zlib':
      return zlibFamily(kind, input, opts.maxOutput);
    case 'bzip2':
      return bzip2(input, opts.maxOutput);
    case 'lz4':
      return decodeLz4Frames(input, opts);
    case 'xz':
      return decodeXz(input, opts);
    case 'lzma':
      try {
        return decodeLzmaAlone(input, opts);
      } catch (e) {
        if (e instanceof LzmaError) return { data: new Uint8Array(0), error: e.message, consumed: 0 };
        throw e;
      }
  }
}
