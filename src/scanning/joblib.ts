// joblib's NumpyUnpickler reads an array's bytes straight from the stream right after the BUILD of
// its NumpyArrayWrapper (joblib/numpy_pickle.py `NumpyArrayWrapper.read_array`): when the dtype holds
// objects (`dtype.hasobject`) those bytes are a nested pickle, which a fresh Unpickler loads;
// otherwise they are `count * itemsize` raw bytes (after an alignment pad). Object-ness is decided
// as numpy decides it (numpy-dtype.ts, from the rebuilt dtype: its type code, fields and subarray),
// never from the spelling of the type code, so a structured `V16` dtype with an object field is
// followed into its nested pickle.
import { dtypeFromString, elementCount, type DtypeInfo } from './numpy-dtype.ts';
import { runPickle, type PickleMachine } from './pickle.ts';
import type { Value } from './pickle-values.ts';

function dictGet(v: Value, key: string): Value | undefined {
  if (v.t !== 'dict' || v.entries === null) return undefined;
  let found: Value | undefined;
  for (const [k, x] of v.entries) if (k.t === 'str' && k.v === key) found = x;
  return found;
}

/**
 * The dtype an abstract `numpy.dtype(...)` value stands for, after its BUILD state (a version-3 state
 * tuple `(version, byteorder, subarray, names, fields, elsize, alignment, flags)`). numpy recomputes
 * hasobject from the base type, the fields and the subarray; the flags in the state are ignored.
 */
export function dtypeOfValue(v: Value | undefined, depth = 0): DtypeInfo | undefined {
  if (v?.t !== 'obj' || v.dtype === undefined || depth > 16) return undefined;
  const base = dtypeFromString(v.dtype.code);
  if (base === undefined) return undefined;
  const state = v.dtype.state;
  if (state === undefined || state.t !== 'tuple') return state === undefined ? base : undefined;
  if (state.items === null) return undefined;
  const [, , subarray, , fields, elsize] = state.items;
  let hasObject = base.hasObject;
  let itemsize = base.itemsize;
  if (subarray !== undefined && subarray.t !== 'none') {
    if (subarray.t !== 'tuple' || subarray.items === null) return undefined;
    const sub = dtypeOfValue(subarray.items[0], depth + 1);
    if (sub === undefined) return undefined;
    hasObject ||= sub.hasObject;
  }
  if (fields !== undefined && fields.t !== 'none') {
    if (fields.t !== 'dict' || fields.entries === null) return undefined;
    for (const [, f] of fields.entries) {
      if (f.t !== 'tuple' || f.items === null) return undefined;
      const fd = dtypeOfValue(f.items[0], depth + 1);
      if (fd === undefined) return undefined;
      hasObject ||= fd.hasObject;
    }
  }
  if (elsize?.t === 'int' && Number(elsize.v) > 0) itemsize = Number(elsize.v);
  return { hasObject, itemsize };
}

/** Called at the BUILD of a NumpyArrayWrapper: consume (or scan) the array data that follows. */
export function readJoblibArray(m: PickleMachine, state: Value): void {
  if (state.t !== 'dict' || state.entries === null)
    return m.fail('joblib array wrapper with a state modelgate cannot follow');
  const dtype = dtypeOfValue(dictGet(state, 'dtype'));
  if (dtype === undefined) return m.fail('joblib array wrapper whose dtype modelgate cannot read');
  const shape = dictGet(state, 'shape');
  if (shape?.t !== 'tuple' || shape.items === null)
    return m.fail('joblib array wrapper without a shape tuple');
  const dims: (number | bigint)[] = [];
  for (const d of shape.items) {
    if (d.t !== 'int') return m.fail('joblib array shape is not a tuple of integers');
    dims.push(d.v);
  }
  if (dtype.hasObject) {
    // a nested pickle, loaded by plain pickle.load (not joblib's unpickler, so a NumpyArrayWrapper
    // inside it is an ordinary object and no array bytes follow it): scan it as one, in place
    const inner = runPickle(m.data, m.pos, {
      ...m.opts,
      windowEndsEarly: m.opts.windowEndsEarly ?? false,
      plainPickle: true,
    });
    m.run.imports.push(...inner.imports);
    m.run.calls.push(...inner.calls);
    m.run.findings.push(...inner.findings);
    m.run.embedded.push(...inner.embedded);
    if (inner.error) return m.fail(`joblib object array: ${inner.error.message}`, inner.error.truncated);
    m.pos = inner.end;
  } else {
    const count = elementCount(dims);
    if (count === undefined) return m.fail('joblib array shape has a negative or huge dimension');
    const align = dictGet(state, 'numpy_array_alignment_bytes');
    if (align !== undefined && align.t !== 'none') m.need(m.data[m.need(1)] ?? 0);
    const bytes = count * dtype.itemsize;
    if (count > 0 && dtype.itemsize === 0)
      return m.fail('joblib array of a zero-size dtype (joblib cannot read it)');
    if (!Number.isSafeInteger(bytes)) return m.fail('joblib array size overflows');
    const at = m.need(bytes);
    const rows = dims.length > 0 ? Number(dims[0]) : 1;
    m.replaceTop({
      t: 'obj',
      cls: undefined,
      array: {
        rows,
        itemsize: dtype.itemsize,
        bytes: m.data.subarray(at, at + bytes),
        dtype: dictGet(state, 'dtype'),
      },
    });
    return;
  }
  m.replaceTop({ t: 'obj', cls: undefined });
}
