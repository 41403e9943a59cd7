// What the pickle machine keeps on its stack: an abstract value per Python object, enough to know
// which globals are imported, how each is used (called, instantiated, given state), and the few
// concrete values a decision needs (strings for STACK_GLOBAL, dtypes and shapes for joblib arrays).
import type { AllowEntry } from './allowlist.ts';
import type { GlobalClass } from './globals.ts';

/** One imported global (per distinct module/name/protocol in a run). */
export interface ImportRef {
  /** The dotted name CPython's find_class imports. */
  readonly name: string;
  readonly classification: GlobalClass;
  readonly reason: string;
  /** The allowlist entry, when classification is 'allowed'. */
  readonly entry: AllowEntry | undefined;
}

/** A numpy dtype being rebuilt: `numpy.dtype(code, ...)` then BUILD with its state tuple. */
export interface DtypeValue {
  code: string;
  state?: Value;
}

/**
 * An ndarray whose bytes a check may need (sklearn Tree nodes): joblib's raw array bytes, or the
 * `_reconstruct` result whose BUILD state (version, shape, dtype, fortran, data) fills `state`.
 */
export interface ArrayValue {
  rows?: number;
  itemsize?: number;
  bytes?: Uint8Array;
  /** The dtype value of joblib's raw bytes (structured records: field offsets). */
  dtype?: Value;
  state?: Value;
  /** `_frombuffer(buffer, dtype, shape, order)` arguments (protocol 5 pickles arrays this way). */
  frombuffer?: readonly Value[];
}

export type Value =
  /** `raw`: the encoded bytes of a string too long to decode eagerly (see textOfValue). */
  | { t: 'str'; v: string; raw?: Uint8Array; latin1?: boolean }
  | { t: 'int'; v: number | bigint }
  /** Bytes (a view into the pickle, never copied); `text`: bytes rebuilt from a latin-1 str (protocol 2). */
  | { t: 'bytes'; v: Uint8Array; text?: Value }
  | { t: 'global'; ref: ImportRef }
  /**
   * The result of a call or instantiation. `cls` is what was instantiated (the callee, or the class
   * handed to copyreg._reconstructor / newObj helpers); `indirect` marks calls of computed values.
   */
  | {
      t: 'obj';
      cls: ImportRef | undefined;
      indirect?: boolean;
      dtype?: DtypeValue;
      joblib?: boolean;
      array?: ArrayValue;
    }
  /** `items` null: too long to track. */
  | { t: 'tuple'; items: Value[] | null }
  /** `entries` null: too many to track; `dunder` is kept regardless (first key that is a dunder name, or a protocol hook such as `append` holding an object). */
  | { t: 'dict'; entries: [Value, Value][] | null; dunder?: string }
  | {
      t:
        | 'none'
        | 'bool'
        | 'float'
        | 'list'
        | 'set'
        | 'frozenset'
        | 'bytearray'
        | 'persid'
        | 'buffer'
        | 'unknown';
    };

export const NONE: Value = { t: 'none' };
export const BOOL: Value = { t: 'bool' };
export const FLOAT: Value = { t: 'float' };
export const PERSID: Value = { t: 'persid' };
export const UNKNOWN: Value = { t: 'unknown' };
export const SMALL_INTS: Value[] = Array.from({ length: 256 }, (_, v) => ({ t: 'int', v }));
/** Containers hold at most this many tracked items; longer ones are kept as "untracked". */
export const MAX_TRACKED_ITEMS = 64;

export function describeValue(v: Value | undefined): string {
  if (v === undefined) return 'nothing';
  switch (v.t) {
    case 'str':
      return JSON.stringify(v.v.length > 80 ? v.v.slice(0, 80) + '…' : v.v);
    case 'int':
      return v.v.toString();
    case 'global':
      return `the global ${v.ref.name}`;
    case 'obj':
      return v.indirect ? 'the result of an indirect call' : `a ${v.cls?.name ?? 'computed'} object`;
    case 'tuple':
      return v.items === null
        ? 'a long tuple'
        : `(${v.items.map(describeValue).join(', ')}${v.items.length === 1 ? ',' : ''})`;
    default:
      return `a ${v.t}`;
  }
}

/** Is `name` a Python dunder (`__class__`)? */
export function isDunder(name: string): boolean {
  return name.length > 4 && name.startsWith('__') && name.endsWith('__');
}

/** The full text of a str value (decoding a long string only when a check needs it). */
export function textOfValue(v: Value | undefined): string | undefined {
  if (v?.t !== 'str') return undefined;
  if (v.raw === undefined) return v.v;
  return new TextDecoder(v.latin1 ? 'latin1' : 'utf-8').decode(v.raw);
}

/** The bytes of a bytes value, including bytes rebuilt by _codecs.encode / bytearray from a latin-1 str. */
export function bytesOfValue(v: Value | undefined): Uint8Array | undefined {
  if (v?.t !== 'bytes') return undefined;
  if (v.text === undefined) return v.v;
  const s = textOfValue(v.text);
  if (s === undefined) return undefined;
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) return undefined;
    out[i] = c;
  }
  return out;
}
