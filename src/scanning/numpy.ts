// numpy .npy: a magic string, a Python-literal header, then raw array bytes, except for object arrays
// (dtype 'O'), where a pickle follows the header and np.load(allow_pickle=True) unpickles it.
// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
import type { Finding } from './types.ts';

export interface NpyHeader {
  /** Offset of the array data (or the pickle, for object arrays). */
  dataOffset: number;
  objectDtype: boolean;
  /** Bytes the array data takes, when computable (plain dtypes). */
  dataBytes?: number;
  descr: string;
}

const latin1 = new TextDecoder('latin1');

export function parseNpyHeader(head: Uint8Array): NpyHeader | Finding {
  const bad = (detail: string): Finding => ({ rule: 'numpy-malformed-header', severity: 'rejected', detail });
  if (head.length < 10) return bad('file ends inside the .npy preamble');
  const major = head[6] ?? 0;
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let hlen: number;
  let hstart: number;
  if (major === 1) {
    hlen = v.getUint16(8, true);
    hstart = 10;
  } else if (major === 2 || major === 3) {
    if (head.length < 12) return bad('file ends inside the .npy preamble');
    hlen = v.getUint32(8, true);
    hstart = 12;
  } else return bad(`unsupported .npy format version ${major}`);
  if (hstart + hlen > head.length) return bad(`header of ${hlen} bytes runs past the data read`);
  const text = latin1.decode(head.subarray(hstart, hstart + hlen));
  const descrMatch = /['"]descr['"]\s*:\s*(\[.*\]|'[^']*'|"[^"]*")/s.exec(text);
  const shapeMatch = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descrMatch || !shapeMatch) return bad('header lacks descr or shape');
  const descr = descrMatch[1] ?? '';
  const objectDtype = /['"][<>|=]?O\d*['"]/.test(descr);
  const dims = (shapeMatch[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (!dims.every((d) => /^\d+L?$/.test(d)))
    return bad(`shape (${shapeMatch[1]}) is not a tuple of integers`);
  const simple = /^['"][<>|=]?([biufcmMSUVa])(\d+)['"]$/.exec(descr);
  let dataBytes: number | undefined;
  if (simple && !objectDtype) {
    const per = Number(simple[2]) * (simple[1] === 'U' ? 4 : 1);
    dataBytes = dims.reduce((acc, d) => acc * Number(d.replace('L', '')), per);
  }
  return { dataOffset: hstart + hlen, objectDtype, descr, ...(dataBytes === undefined ? {} : { dataBytes }) };
}
