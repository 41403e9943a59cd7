// numpy .npy: a magic string, a header that is a Python literal dict, then the array data, which is a
// pickle when the dtype holds objects (np.load(allow_pickle=True) unpickles it). The header is read as
// numpy/lib/format.py `_read_array_header` reads it: decoded (latin-1, or UTF-8 for format 3),
// `ast.literal_eval`-ed (with the Python 2 `L` filter for formats 1 and 2), exactly the keys descr,
// fortran_order and shape, and the descr turned into a dtype as `descr_to_dtype` does.
// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
import { dtypeFromDescr } from './numpy-dtype.ts';
import { dictGet, dictKeys, parsePyLiteral, PyLiteralError, type PyValue } from './python-literal.ts';
import type { Finding } from './types.ts';

export interface NpyHeader {
  /** Offset of the array data (or the pickle, for object arrays). */
  dataOffset: number;
  objectDtype: boolean;
  /** Bytes the array data takes (plain dtypes). */
  dataBytes?: number;
  /** The descr, as written. */
  descr: string;
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes of the preamble (magic, version, header length) and the header length, from the first 12 bytes. */
export function npyHeaderExtent(head: Uint8Array): { start: number; length: number } | undefined {
  if (head.length < 10) return undefined;
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const major = head[6];
  if (major === 1) return { start: 10, length: v.getUint16(8, true) };
  if ((major === 2 || major === 3) && head.length >= 12) return { start: 12, length: v.getUint32(8, true) };
  return undefined;
}

export function parseNpyHeader(head: Uint8Array): NpyHeader | Finding {
  const bad = (detail: string): Finding => ({
    rule: 'numpy-malformed-header',
    severity: 'rejected',
    detail: `${detail}; numpy refuses this file, and a file numpy and modelgate read differently cannot be judged`,
  });
  if (head.length < 10) return bad('file ends inside the .npy preamble');
  const major = head[6] ?? 0;
  const minor = head[7] ?? 0;
  if (major < 1 || major > 3 || minor !== 0) return bad(`unsupported .npy format version ${major}.${minor}`);
  const ext = npyHeaderExtent(head);
  if (ext === undefined) return bad('file ends inside the .npy preamble');
  if (ext.start + ext.length > head.length)
    return bad(`header of ${ext.length} bytes runs past the end of the file`);
  const raw = head.subarray(ext.start, ext.start + ext.length);
  let text: string;
  try {
    text = major === 3 ? utf8.decode(raw) : latin1.decode(raw);
  } catch {
    return bad('format 3.0 header is not valid UTF-8');
  }
  let d: PyValue;
  try {
    d = parsePyLiteral(text.replace(/^[ \t]+/, ''));
  } catch (e) {
    if (!(e instanceof PyLiteralError) || major > 2)
      return bad(`header is not a Python literal (${(e as Error).message})`);
    try {
      d = parsePyLiteral(text.replace(/^[ \t]+/, ''), { longSuffix: true });
    } catch (e2) {
      return bad(`header is not a Python literal (${(e2 as Error).message})`);
    }
  }
  if (d.t !== 'dict') return bad('header is not a dict');
  const keys = dictKeys(d).sort();
  if (keys.join(',') !== 'descr,fortran_order,shape')
    return bad(`header keys are ${keys.join(', ')}, not exactly descr, fortran_order, shape`);
  const shape = dictGet(d, 'shape');
  const fortran = dictGet(d, 'fortran_order');
  const descr = dictGet(d, 'descr') as PyValue;
  if (shape?.t !== 'tuple' || !shape.items.every((x) => x.t === 'int' || x.t === 'bool'))
    return bad('shape is not a tuple of integers');
  if (fortran?.t !== 'bool') return bad('fortran_order is not a bool');
  const dtype = dtypeFromDescr(descr);
  if (dtype === undefined) return bad(`descr ${describeDescr(descr)} is not a dtype modelgate can read`);
  let count = 1;
  for (const x of shape.items) {
    const n = x.t === 'int' ? Number(x.v) : x.t === 'bool' && x.v ? 1 : 0;
    if (!Number.isSafeInteger(n) || n < 0) return bad('shape has a negative or huge dimension');
    count *= n;
  }
  const dataBytes = count * dtype.itemsize;
  return {
    dataOffset: ext.start + ext.length,
    objectDtype: dtype.hasObject,
    descr: describeDescr(descr),
    ...(dtype.hasObject || !Number.isSafeInteger(dataBytes) ? {} : { dataBytes }),
  };
}

function describeDescr(v: PyValue): string {
  if (v.t === 'str') return JSON.stringify(v.v);
  if (v.t === 'tuple' || v.t === 'list')
    return `${v.t === 'tuple' ? '(' : '['}${v.items.map(describeDescr).join(', ')}${v.t === 'tuple' ? ')' : ']'}`;
  if (v.t === 'int') return v.v.toString();
  return v.t;
}
