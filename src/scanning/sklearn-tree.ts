// scikit-learn's Tree (sklearn/tree/_tree.pyx) `__setstate__` checks its node array's dtype and shape,
// then memcpy()s the records into C structures; nothing checks the child indices, and prediction
// follows them through that memory. A node array whose children point outside the tree (or a
// node_count larger than the array) makes predict() read out of bounds: judged here, from the array
// bytes the pickle carries (a `_reconstruct` + BUILD, a protocol-5 `_frombuffer`, or joblib's raw bytes).
// HistGradientBoosting's TreePredictor is the same hazard in another layout: its structured node records
// (PREDICTOR_RECORD_DTYPE) are followed by `_predict_from_raw_data` through `left`/`right` until
// `is_leaf`, and categorical splits index `raw_left_cat_bitsets` by `bitset_idx`, all unchecked.
// Children must come after their parent (both libraries number nodes in the order they create them), so
// a cycle that would make prediction loop forever is refused too.
import { dtypeOfValue } from './joblib.ts';
import { bytesOfValue, type Value } from './pickle-values.ts';

interface NodeArray {
  rows: number;
  itemsize: number;
  bytes: Uint8Array;
  /** The array's dtype value, when the pickle gives it (structured records). */
  dtype?: Value;
}

function dictGet(v: Value, key: string): Value | undefined {
  if (v.t !== 'dict' || v.entries === null) return undefined;
  let found: Value | undefined;
  for (const [k, x] of v.entries) if (k.t === 'str' && k.v === key) found = x;
  return found;
}

function firstDim(shape: Value | undefined): number | undefined {
  if (shape?.t !== 'tuple' || shape.items === null || shape.items.length !== 1) return undefined;
  const d = shape.items[0];
  return d?.t === 'int' ? Number(d.v) : undefined;
}

/** The bytes, row count and record size of an ndarray value, when the pickle gives them. */
function nodeArray(v: Value | undefined): NodeArray | undefined {
  const a = v?.t === 'obj' ? v.array : undefined;
  if (a === undefined) return undefined;
  if (a.bytes !== undefined && a.rows !== undefined && a.itemsize !== undefined)
    return { rows: a.rows, itemsize: a.itemsize, bytes: a.bytes, dtype: a.dtype };
  if (a.frombuffer !== undefined) {
    const [buf, dtype, shape] = a.frombuffer;
    const bytes = bytesOfValue(buf);
    const rows = firstDim(shape);
    const itemsize = dtypeOfValue(dtype)?.itemsize;
    return bytes && rows !== undefined && itemsize ? { rows, itemsize, bytes, dtype } : undefined;
  }
  if (a.state?.t === 'tuple' && a.state.items !== null) {
    const [, shape, dtype, , raw] = a.state.items;
    const bytes = bytesOfValue(raw);
    const rows = firstDim(shape);
    const itemsize = dtypeOfValue(dtype)?.itemsize;
    return bytes && rows !== undefined && itemsize ? { rows, itemsize, bytes, dtype } : undefined;
  }
  return undefined;
}

/** Why a Tree's BUILD state would make prediction read outside the tree, or undefined. */
export function treeStateProblem(state: Value | undefined): string | undefined {
  if (state?.t !== 'dict' || state.entries === null) return undefined;
  const nodesValue = dictGet(state, 'nodes');
  if (nodesValue === undefined) return undefined; // __setstate__ refuses it
  const nodes = nodeArray(nodesValue);
  if (nodes === undefined) return 'its node array is not one modelgate can read';
  const { rows, itemsize, bytes } = nodes;
  if (itemsize < 16) return `its node records are ${itemsize} bytes, too small for child indices`;
  if (bytes.length < rows * itemsize) return 'its node array is shorter than its shape';
  const countValue = dictGet(state, 'node_count');
  const count = countValue?.t === 'int' ? Number(countValue.v) : rows;
  if (count < 0 || count > rows) return `node_count ${count} does not fit its ${rows} node records`;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) {
    const left = dv.getBigInt64(i * itemsize, true);
    const right = dv.getBigInt64(i * itemsize + 8, true);
    if (left === -1n && right === -1n) continue;
    for (const c of [left, right])
      if (c <= BigInt(i) || c >= BigInt(count))
        return c <= BigInt(i) && c >= 0n
          ? `node ${i} has child ${c}, not after it (prediction would loop forever)`
          : `node ${i} has child ${c}, outside the tree's ${count} nodes (predict would read past the node array)`;
  }
  return undefined;
}

/** The first dimension of an ndarray value of any rank (bitsets are (n, 8)). */
function leadingDim(v: Value): number | undefined {
  const a = v.t === 'obj' ? v.array : undefined;
  if (a === undefined) return undefined;
  if (a.rows !== undefined) return a.rows;
  const shape = a.frombuffer?.[2] ?? (a.state?.t === 'tuple' ? a.state.items?.[1] : undefined);
  const d = shape?.t === 'tuple' ? shape.items?.[0] : undefined;
  return d?.t === 'int' ? Number(d.v) : undefined;
}

interface Field {
  offset: number;
  size: number;
  signed: boolean;
  little: boolean;
}

/** The fields of a structured dtype value: name -> offset, integer size and byte order. */
function integerFields(dtype: Value | undefined): Map<string, Field> | undefined {
  if (dtype?.t !== 'obj' || dtype.dtype?.state?.t !== 'tuple') return undefined;
  const fields = dtype.dtype.state.items?.[4];
  if (fields?.t !== 'dict' || fields.entries === null) return undefined;
  const out = new Map<string, Field>();
  for (const [k, f] of fields.entries) {
    if (k.t !== 'str' || f.t !== 'tuple' || f.items === null) continue;
    const [fd, off] = f.items;
    if (fd?.t !== 'obj' || fd.dtype === undefined || off?.t !== 'int') continue;
    const m = /^[<>|=]?([iu])([1248])$/.exec(fd.dtype.code);
    if (m === null) continue;
    const order = fd.dtype.state?.t === 'tuple' ? fd.dtype.state.items?.[1] : undefined;
    out.set(k.v, {
      offset: Number(off.v),
      size: Number(m[2]),
      signed: m[1] === 'i',
      little: !(order?.t === 'str' && order.v === '>') && !fd.dtype.code.startsWith('>'),
    });
  }
  return out;
}

function readField(dv: DataView, at: number, f: Field): number {
  switch (f.size) {
    case 1:
      return f.signed ? dv.getInt8(at) : dv.getUint8(at);
    case 2:
      return f.signed ? dv.getInt16(at, f.little) : dv.getUint16(at, f.little);
    case 4:
      return f.signed ? dv.getInt32(at, f.little) : dv.getUint32(at, f.little);
    default:
      return Number(f.signed ? dv.getBigInt64(at, f.little) : dv.getBigUint64(at, f.little));
  }
}

/** Why a HistGradientBoosting TreePredictor's BUILD state would make prediction read outside its arrays. */
export function predictorStateProblem(state: Value | undefined): string | undefined {
  if (state?.t !== 'dict' || state.entries === null) return undefined;
  const nodesValue = dictGet(state, 'nodes');
  if (nodesValue === undefined) return undefined; // prediction fails on the missing attribute
  const nodes = nodeArray(nodesValue);
  const fields = integerFields(nodes?.dtype);
  if (nodes === undefined || fields === undefined) return 'its node array is not one modelgate can read';
  const { rows, itemsize, bytes } = nodes;
  const left = fields.get('left');
  const right = fields.get('right');
  const isLeaf = fields.get('is_leaf');
  if (left === undefined || right === undefined || isLeaf === undefined)
    return 'its node records lack integer left, right and is_leaf fields';
  for (const f of fields.values())
    if (f.offset < 0 || f.offset + f.size > itemsize) return 'a node field lies outside its record';
  if (bytes.length < rows * itemsize) return 'its node array is shorter than its shape';
  const categorical = fields.get('is_categorical');
  const bitset = fields.get('bitset_idx');
  const feature = fields.get('feature_idx');
  const bitsets = dictGet(state, 'raw_left_cat_bitsets');
  const bitsetRows = bitsets === undefined ? 0 : leadingDim(bitsets);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < rows; i++) {
    const at = i * itemsize;
    if (readField(dv, at + isLeaf.offset, isLeaf) !== 0) continue;
    for (const c of [readField(dv, at + left.offset, left), readField(dv, at + right.offset, right)])
      if (c <= i || c >= rows)
        return c <= i && c >= 0
          ? `node ${i} has child ${c}, not after it (prediction would loop forever)`
          : `node ${i} has child ${c}, outside its ${rows} nodes (predict would read past the node array)`;
    if (feature !== undefined && readField(dv, at + feature.offset, feature) < 0)
      return `node ${i} splits on feature ${readField(dv, at + feature.offset, feature)} (predict would read before the row)`;
    if (
      categorical !== undefined &&
      bitset !== undefined &&
      readField(dv, at + categorical.offset, categorical) !== 0
    ) {
      const b = readField(dv, at + bitset.offset, bitset);
      if (bitsetRows === undefined) return 'its categorical bitsets are not an array modelgate can read';
      if (b >= bitsetRows)
        return `node ${i} uses categorical bitset ${b} of ${bitsetRows} (predict would read past the bitsets)`;
    }
  }
  return undefined;
}
