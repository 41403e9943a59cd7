// numpy data types as numpy itself reads them: whether an array of this dtype holds Python objects
// (`dtype.hasobject`: then np.load and joblib unpickle the array data) and how many bytes an element
// takes (so plain array data can be skipped exactly). A substring test on the type code is not enough:
// 'object', 'i4,O', '(2,)O', 'T' (StringDType) and structured dtypes with an object field are all
// object dtypes; numpy ignores the flags a pickled dtype state claims and recomputes them from the
// base type, the fields and the subarray, and so does this module.
// https://numpy.org/doc/stable/reference/arrays.dtypes.html
import type { PyValue } from './python-literal.ts';

export interface DtypeInfo {
  hasObject: boolean;
  itemsize: number;
}

/** Fixed-size type characters (numpy.dtype(char)). */
const CHAR_SIZES: Record<string, number> = {
  '?': 1,
  b: 1,
  B: 1,
  h: 2,
  H: 2,
  i: 4,
  I: 4,
  l: 8,
  L: 8,
  q: 8,
  Q: 8,
  p: 8,
  P: 8,
  n: 8,
  N: 8,
  e: 2,
  f: 4,
  d: 8,
  g: 16,
  F: 8,
  D: 16,
  G: 32,
  c: 1,
  M: 8,
  m: 8,
};
/** Sizes a kind character accepts with an explicit width (`f8`, `i2`, `c16`, `b1`). */
const KIND_WIDTHS: Record<string, number[]> = {
  b: [1],
  i: [1, 2, 4, 8],
  u: [1, 2, 4, 8],
  f: [2, 4, 8, 12, 16],
  c: [8, 16, 24, 32],
  M: [8],
  m: [8],
  O: [4, 8],
};

/**
 * Type names numpy accepts (numpy 2's sctypeDict, dumped from numpy 2.4, plus the numpy 1.x aliases a
 * file written by an older numpy may carry). Size 0 = flexible (length given elsewhere).
 */
const NAMES: Record<string, DtypeInfo> = Object.fromEntries([
  ...[
    ['bool', 1],
    ['bool_', 1],
    ['bool8', 1],
    ['byte', 1],
    ['ubyte', 1],
    ['short', 2],
    ['ushort', 2],
    ['intc', 4],
    ['uintc', 4],
    ['int', 8],
    ['int_', 8],
    ['uint', 8],
    ['intp', 8],
    ['uintp', 8],
    ['int0', 8],
    ['uint0', 8],
    ['long', 8],
    ['ulong', 8],
    ['longlong', 8],
    ['ulonglong', 8],
    ['int8', 1],
    ['int16', 2],
    ['int32', 4],
    ['int64', 8],
    ['uint8', 1],
    ['uint16', 2],
    ['uint32', 4],
    ['uint64', 8],
    ['half', 2],
    ['single', 4],
    ['double', 8],
    ['float', 8],
    ['longdouble', 16],
    ['longfloat', 16],
    ['float16', 2],
    ['float32', 4],
    ['float64', 8],
    ['float96', 12],
    ['float128', 16],
    ['csingle', 8],
    ['singlecomplex', 8],
    ['cdouble', 16],
    ['cfloat', 16],
    ['complex_', 16],
    ['complex', 16],
    ['clongdouble', 32],
    ['clongfloat', 32],
    ['longcomplex', 32],
    ['complex64', 8],
    ['complex128', 16],
    ['complex192', 24],
    ['complex256', 32],
    ['datetime64', 8],
    ['timedelta64', 8],
    ['a', 0],
    ['bytes', 0],
    ['bytes_', 0],
    ['bytes0', 0],
    ['string_', 0],
    ['str', 0],
    ['str_', 0],
    ['str0', 0],
    ['unicode', 0],
    ['unicode_', 0],
    ['void', 0],
    ['void0', 0],
  ].map(([n, size]) => [n, { hasObject: false, itemsize: size as number }]),
  ...['object', 'object_', 'object0', 'O', 'T'].map((n) => [n, { hasObject: true, itemsize: 8 }]),
]);

/** Numbers (of a shape tuple) as numpy reads them; undefined for anything numpy would refuse. */
function shapeCount(dims: readonly (number | bigint)[]): number | undefined {
  let n = 1;
  for (const d of dims) {
    const x = Number(d);
    if (!Number.isSafeInteger(x) || x < 0) return undefined;
    n *= x;
  }
  return Number.isSafeInteger(n) ? n : undefined;
}

function simpleDtype(s: string): DtypeInfo | undefined {
  const body = /^[<>|=]/.test(s) ? s.slice(1) : s;
  const named = NAMES[body];
  if (named !== undefined) return named;
  // datetime64[ns], M8[D]: a unit in brackets
  const unit = /^(datetime64|timedelta64|M8|m8|M|m)\[[A-Za-z0-9]+(?:,\d+)?\]$/.exec(body);
  if (unit) return { hasObject: false, itemsize: 8 };
  const m = /^([?bBhHiIlLqQpPnNefdgFDGScUVaOMmTu])(\d*)$/.exec(body);
  if (!m) return undefined;
  const kind = m[1] as string;
  const width = m[2] === '' ? undefined : Number(m[2]);
  if (kind === 'O')
    return width === undefined || [4, 8].includes(width) ? { hasObject: true, itemsize: 8 } : undefined;
  if (kind === 'T') return width === undefined ? { hasObject: true, itemsize: 16 } : undefined;
  if (kind === 'S' || kind === 'a' || kind === 'V') return { hasObject: false, itemsize: width ?? 0 };
  if (kind === 'U') return { hasObject: false, itemsize: (width ?? 0) * 4 };
  if (width === undefined) {
    const size = CHAR_SIZES[kind];
    return size === undefined ? undefined : { hasObject: false, itemsize: size };
  }
  const widths = KIND_WIDTHS[kind];
  return widths?.includes(width) ? { hasObject: false, itemsize: width } : undefined;
}

/** numpy's `_check_for_commastring`: strings parsed as a list of fields (or a repeated subarray). */
function isCommaString(s: string): boolean {
  if (/^[<>|=]?\d/.test(s) || /^[<>|=]?\(\)/.test(s)) return true;
  let depth = 0;
  for (const c of s) {
    if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === ',' && depth === 0) return true;
  }
  return false;
}

function commaString(s: string): DtypeInfo | undefined {
  const items: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of s) {
    if (c === '[' || c === '(') depth++;
    else if (c === ']' || c === ')') depth--;
    if (c === ',' && depth === 0) {
      items.push(cur);
      cur = '';
    } else cur += c;
  }
  items.push(cur);
  if (items.length > 1 && items[items.length - 1]?.trim() === '') items.pop();
  let hasObject = false;
  let itemsize = 0;
  for (const item of items) {
    const m =
      /^\s*([<>|=]?)\s*(\([\d\s,]*\)|\d+)?\s*([<>|=]?)([A-Za-z0-9.?]*(?:\[[A-Za-z0-9,.]+\])?)\s*$/.exec(item);
    if (!m || m[4] === '') return undefined;
    const base = simpleDtype(`${m[3] || m[1] || ''}${m[4]}`);
    if (base === undefined) return undefined;
    let count = 1;
    if (m[2] !== undefined) {
      const dims = m[2]
        .replace(/[()]/g, '')
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '')
        .map(Number);
      const c = shapeCount(dims);
      if (c === undefined) return undefined;
      count = c;
    }
    hasObject ||= base.hasObject;
    itemsize += base.itemsize * count;
  }
  return { hasObject, itemsize };
}

/** `numpy.dtype(s)` for a type string; undefined when numpy would refuse it or modelgate cannot tell. */
export function dtypeFromString(s: string): DtypeInfo | undefined {
  if (s.length > 4096) return undefined;
  return isCommaString(s) ? commaString(s) : simpleDtype(s.trim() === s ? s : '\0');
}

/**
 * numpy.lib.format.descr_to_dtype: the `descr` of a .npy header (a type string, a list of fields
 * `(name, descr[, shape])`, or a `(descr, shape)` subarray tuple).
 */
export function dtypeFromDescr(descr: PyValue, depth = 0): DtypeInfo | undefined {
  if (depth > 32) return undefined;
  if (descr.t === 'str') return dtypeFromString(descr.v);
  if (descr.t === 'tuple') {
    const [base, shape] = descr.items;
    if (descr.items.length !== 2 || base === undefined || shape === undefined) return undefined;
    const b = dtypeFromDescr(base, depth + 1);
    const n = pyShape(shape);
    return b === undefined || n === undefined
      ? undefined
      : { hasObject: b.hasObject, itemsize: b.itemsize * n };
  }
  if (descr.t !== 'list') return undefined;
  let hasObject = false;
  let itemsize = 0;
  for (const field of descr.items) {
    if ((field.t !== 'tuple' && field.t !== 'list') || field.items.length < 2 || field.items.length > 3)
      return undefined;
    const [name, fd, shape] = field.items as [PyValue, PyValue, PyValue | undefined];
    if (name.t !== 'str' && name.t !== 'tuple') return undefined;
    const base = dtypeFromDescr(fd, depth + 1);
    if (base === undefined) return undefined;
    const n = shape === undefined ? 1 : pyShape(shape);
    if (n === undefined) return undefined;
    hasObject ||= base.hasObject;
    itemsize += base.itemsize * n;
  }
  return { hasObject, itemsize };
}

/** An int or a tuple of ints (bools count as ints, as isinstance(x, int) says). */
function pyShape(v: PyValue): number | undefined {
  if (v.t === 'int') return shapeCount([v.v]);
  if (v.t === 'bool') return v.v ? 1 : 0;
  if (v.t !== 'tuple' && v.t !== 'list') return undefined;
  const dims: bigint[] = [];
  for (const d of v.items) {
    if (d.t === 'int') dims.push(d.v);
    else if (d.t === 'bool') dims.push(d.v ? 1n : 0n);
    else return undefined;
  }
  return shapeCount(dims);
}

/** Element count of a shape tuple (as read from a header). */
export function elementCount(dims: readonly (number | bigint)[]): number | undefined {
  return shapeCount(dims);
}
