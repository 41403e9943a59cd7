// scikit-learn's Tree (sklearn/tree/_tree.pyx) `__setstate__` checks its node array's dtype and shape,
// then memcpy()s the records into C structures; nothing checks the child indices, and prediction
// follows them through that memory. A node array whose children point outside the tree (or a
// node_count larger than the array) makes predict() read out of bounds: judged here, from the array
// bytes the pickle carries (a `_reconstruct` + BUILD, a protocol-5 `_frombuffer`, or joblib's raw bytes).
import { dtypeOfValue } from './joblib.ts';
import { bytesOfValue, type Value } from './pickle-values.ts';

interface NodeArray {
  rows: number;
  itemsize: number;
  bytes: Uint8Array;
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
    return { rows: a.rows, itemsize: a.itemsize, bytes: a.bytes };
  if (a.frombuffer !== undefined) {
    const [buf, dtype, shape] = a.frombuffer;
    const bytes = bytesOfValue(buf);
    const rows = firstDim(shape);
    const itemsize = dtypeOfValue(dtype)?.itemsize;
    return bytes && rows !== undefined && itemsize ? { rows, itemsize, bytes } : undefined;
  }
  if (a.state?.t === 'tuple' && a.state.items !== null) {
    const [, shape, dtype, , raw] = a.state.items;
    const bytes = bytesOfValue(raw);
    const rows = firstDim(shape);
    const itemsize = dtypeOfValue(dtype)?.itemsize;
    return bytes && rows !== undefined && itemsize ? { rows, itemsize, bytes } : undefined;
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
      if (c < 0n || c >= BigInt(count) || c === BigInt(i))
        return `node ${i} has child ${c}, outside the tree's ${count} nodes (predict would read past the node array)`;
  }
  return undefined;
}
