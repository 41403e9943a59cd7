// A pickle virtual machine that executes nothing. It follows CPython's Unpickler (Lib/pickle.py and
// Modules/_pickle.c) opcode by opcode, protocols 0-5, with the memo, the mark stack and framing, so it
// sees exactly the imports and calls a real load would perform, including names assembled on the
// stack (STACK_GLOBAL over memoised strings), INST, and EXT extension codes.
import { classifyGlobal, type GlobalClass } from './globals.ts';
import { LimitExceeded, type Finding, type ScanLimits } from './types.ts';

export type Value =
  | { t: 'str'; v: string }
  | { t: 'int'; v: number | bigint }
  | { t: 'bytes'; v: Uint8Array }
  | { t: 'global'; name: string; classification: GlobalClass }
  | { t: 'call'; callee: string; arg?: string }
  | { t: 'tuple'; items: Value[] }
  | { t: 'dict'; entries: [Value, Value][] | null }
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

export interface ImportRecord {
  module: string;
  name: string;
  resolved: string;
  opcode: string;
  offset: number;
  classification: GlobalClass;
  reason: string;
}

export interface PickleRun {
  start: number;
  /** Offset just after STOP (or where the run failed). */
  end: number;
  protocol: number;
  imports: ImportRecord[];
  findings: Finding[];
  result: Value | undefined;
  /** bytes values that are themselves pickles (inert unless the model code unpickles them) */
  embedded: { offset: number; bytes: Uint8Array }[];
  /** First call site of each imported callable (REDUCE, OBJ, NEWOBJ, NEWOBJ_EX, INST). */
  calls: { callee: string; opcode: string; offset: number }[];
  /** Set when the stream is malformed or truncated; the caller rejects the file. */
  error?: { message: string; offset: number; truncated: boolean };
}

export interface PickleVmOptions {
  limits: ScanLimits;
  allowGlobals: ReadonlySet<string>;
  /** Shared opcode budget for the whole file; incremented by the VM. */
  budget: { opcodes: number };
  /** Called every few thousand opcodes; throws LimitExceeded when the time budget is gone. */
  checkTime?: () => void;
  /** The buffer ends before the stream does (more bytes exist); truncation then means "read more". */
  windowEndsEarly?: boolean;
}

/** The window holds only part of the stream; the caller should retry with a larger window. */
export class NeedMoreBytes extends Error {}

class Malformed extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly truncated = false,
  ) {
    super(message);
  }
}

const NONE: Value = { t: 'none' };
const BOOL: Value = { t: 'bool' };
const FLOAT: Value = { t: 'float' };
const PERSID: Value = { t: 'persid' };
const BYTES: Value = { t: 'bytes', v: new Uint8Array(0) };
const MAX_TRACKED_ITEMS = 64;
/** Strings longer than this are not decoded: no import name is that long, and decoding costs memory. */
const LONG_STRING = 65536;
/** Stand-in for an undecoded long string; the NUL makes it an invalid import name if ever used as one. */
function longString(n: number): string {
  return `\u0000<${n}-byte string>`;
}
const JOBLIB_WRAPPER = 'joblib.numpy_pickle.NumpyArrayWrapper';

/** Bytes per element for a numpy type code such as 'f8', '<i4', 'U10', 'b1'. */
export function dtypeItemSize(code: string): number | undefined {
  const m = /^[<>|=]?([?bBhHiIlLqQpPefdgFDGSUVaMmcu])(\d*)(?:\[\w+\])?$/.exec(code);
  if (!m) return undefined;
  const kind = m[1] ?? '';
  const n = m[2] === '' ? undefined : Number(m[2]);
  const fixed: Record<string, number> = {
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
    e: 2,
    f: 4,
    d: 8,
    g: 16,
    F: 8,
    D: 16,
    G: 32,
    M: 8,
    m: 8,
    c: 1,
  };
  if (kind === 'U') return (n ?? 0) * 4;
  if (kind === 'S' || kind === 'a' || kind === 'V') return n ?? 0;
  if (n !== undefined) return n;
  return fixed[kind];
}
const SMALL_INTS: Value[] = Array.from({ length: 256 }, (_, v) => ({ t: 'int', v }));

const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK',
  0x2e: 'STOP',
  0x30: 'POP',
  0x31: 'POP_MARK',
  0x32: 'DUP',
  0x46: 'FLOAT',
  0x49: 'INT',
  0x4a: 'BININT',
  0x4b: 'BININT1',
  0x4c: 'LONG',
  0x4d: 'BININT2',
  0x4e: 'NONE',
  0x50: 'PERSID',
  0x51: 'BINPERSID',
  0x52: 'REDUCE',
  0x53: 'STRING',
  0x54: 'BINSTRING',
  0x55: 'SHORT_BINSTRING',
  0x56: 'UNICODE',
  0x58: 'BINUNICODE',
  0x61: 'APPEND',
  0x62: 'BUILD',
  0x63: 'GLOBAL',
  0x64: 'DICT',
  0x7d: 'EMPTY_DICT',
  0x65: 'APPENDS',
  0x67: 'GET',
  0x68: 'BINGET',
  0x69: 'INST',
  0x6a: 'LONG_BINGET',
  0x6c: 'LIST',
  0x5d: 'EMPTY_LIST',
  0x6f: 'OBJ',
  0x70: 'PUT',
  0x71: 'BINPUT',
  0x72: 'LONG_BINPUT',
  0x73: 'SETITEM',
  0x74: 'TUPLE',
  0x29: 'EMPTY_TUPLE',
  0x75: 'SETITEMS',
  0x47: 'BINFLOAT',
  0x80: 'PROTO',
  0x81: 'NEWOBJ',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x85: 'TUPLE1',
  0x86: 'TUPLE2',
  0x87: 'TUPLE3',
  0x88: 'NEWTRUE',
  0x89: 'NEWFALSE',
  0x8a: 'LONG1',
  0x8b: 'LONG4',
  0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES',
  0x8c: 'SHORT_BINUNICODE',
  0x8d: 'BINUNICODE8',
  0x8e: 'BINBYTES8',
  0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS',
  0x91: 'FROZENSET',
  0x92: 'NEWOBJ_EX',
  0x93: 'STACK_GLOBAL',
  0x94: 'MEMOIZE',
  0x95: 'FRAME',
  0x96: 'BYTEARRAY8',
  0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

export function opcodeName(op: number): string | undefined {
  return OPCODE_NAMES[op];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/** Short ASCII strings dominate real pickles; TextDecoder's per-call cost dwarfs them. */
function asciiOrUndefined(b: Uint8Array): string | undefined {
  if (b.length > 64) return undefined;
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i] ?? 0;
    if (c >= 0x80) return undefined;
    s += String.fromCharCode(c);
  }
  return s;
}

function latin1Decode(b: Uint8Array): string {
  return asciiOrUndefined(b) ?? latin1.decode(b);
}

/** Does this look like the start of a binary pickle (PROTO 2-5)? */
export function looksLikeBinaryPickle(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x80 && (b[1] ?? 9) <= 5;
}

/**
 * Integer text as CPython's C unpickler reads INT/LONG: strtol in base 0 (0x.., 0o.., 0b.., and a
 * leading 0 meaning octal), falling back to int(text, 0) (which also allows `_` separators).
 * A scanner that parses base 10 desynchronises from the real loader here.
 */
export function parseIntBase0(text: string): bigint | undefined {
  const s = text.trim();
  // CPython refuses decimal strings over 4300 digits (sys.int_info.str_digits_check_threshold) and
  // BigInt parsing is quadratic: cap the length.
  if (s.length > 5000) return undefined;
  // strtol(s, 0): 0x hex, leading 0 octal, else decimal; no separators.
  const c = /^([+-]?)(?:0[xX]([0-9a-fA-F]+)|0([0-7]*)|([1-9][0-9]*))$/.exec(s);
  if (c) {
    const sign = c[1] === '-' ? -1n : 1n;
    if (c[2] !== undefined) return sign * BigInt('0x' + c[2]);
    if (c[3] !== undefined) return sign * (c[3] === '' ? 0n : BigInt('0o' + c[3]));
    return sign * BigInt(c[4] ?? '0');
  }
  // int(s, 0): prefixed literals and decimal with single `_` separators.
  const p =
    /^([+-]?)(?:0[xX]_?([0-9a-fA-F]+(?:_[0-9a-fA-F]+)*)|0[oO]_?([0-7]+(?:_[0-7]+)*)|0[bB]_?([01]+(?:_[01]+)*)|([1-9][0-9]*(?:_[0-9]+)*|0+(?:_0+)*))$/.exec(
      s,
    );
  if (!p) return undefined;
  const sign = p[1] === '-' ? -1n : 1n;
  const strip = (x: string): string => x.replace(/_/g, '');
  if (p[2] !== undefined) return sign * BigInt('0x' + strip(p[2]));
  if (p[3] !== undefined) return sign * BigInt('0o' + strip(p[3]));
  if (p[4] !== undefined) return sign * BigInt('0b' + strip(p[4]));
  return sign * BigInt(strip(p[5] ?? '0'));
}

/**
 * Python `float()` syntax for the FLOAT opcode. Unambiguous pattern (no nested optional digit runs),
 * and a length cap, so a hostile line cannot make the check itself slow.
 */
const FLOAT_TEXT =
  /^[+-]?(?:(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?|inf|infinity|nan)$/i;
function isPythonFloat(text: string): boolean {
  const s = text.trim();
  return s.length <= 1000 && FLOAT_TEXT.test(s);
}

/** codecs.escape_decode, as the protocol-0 STRING opcode applies it. */
function escapeDecode(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  let o = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i] ?? 0;
    if (c !== 0x5c || i + 1 >= b.length) {
      out[o++] = c;
      continue;
    }
    const n = String.fromCharCode(b[++i] ?? 0);
    const simple: Record<string, number> = {
      n: 10,
      t: 9,
      r: 13,
      '\\': 92,
      "'": 39,
      '"': 34,
      a: 7,
      b: 8,
      f: 12,
      v: 11,
      '\n': -1,
    };
    if (n in simple) {
      const v = simple[n] ?? -1;
      if (v >= 0) out[o++] = v;
    } else if (n === 'x') {
      const hex = latin1.decode(b.subarray(i + 1, i + 3));
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new Error('invalid \\x escape');
      out[o++] = parseInt(hex, 16);
      i += 2;
    } else if (n >= '0' && n <= '7') {
      let j = i;
      let v = 0;
      while (j < b.length && j < i + 3 && (b[j] ?? 0) >= 0x30 && (b[j] ?? 0) <= 0x37)
        v = v * 8 + ((b[j++] ?? 0) - 0x30);
      out[o++] = v & 0xff;
      i = j - 1;
    } else {
      out[o++] = 0x5c;
      out[o++] = b[i] ?? 0;
    }
  }
  return out.subarray(0, o);
}

/** raw-unicode-escape, as the protocol-0 UNICODE opcode decodes its line. */
function rawUnicodeEscape(b: Uint8Array): string {
  const s = latin1.decode(b);
  return s.replace(
    /\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g,
    (_m, u4: string | undefined, u8: string | undefined) => {
      const cp = parseInt(u4 ?? u8 ?? '0', 16);
      if (cp > 0x10ffff) throw new Error('\\U escape out of range');
      return String.fromCodePoint(cp);
    },
  );
}

function describe(v: Value | undefined): string {
  if (v === undefined) return 'nothing';
  switch (v.t) {
    case 'str':
      return JSON.stringify(v.v.length > 80 ? v.v.slice(0, 80) + '…' : v.v);
    case 'int':
      return v.v.toString();
    case 'global':
      return `the global ${v.name}`;
    case 'call':
      return `the result of calling ${v.callee}`;
    default:
      return `a ${v.t}`;
  }
}

/**
 * Run one pickle starting at `start` up to STOP. Never throws for malformed input (the run carries an
 * `error`); throws LimitExceeded for limits and NeedMoreBytes when the window ends before the stream.
 */
export function runPickle(input: Uint8Array, start: number, opts: PickleVmOptions): PickleRun {
  // A plain Uint8Array view: Buffer#subarray is several times slower.
  const data = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const run: PickleRun = {
    start,
    end: start,
    protocol: 0,
    imports: [],
    findings: [],
    result: undefined,
    embedded: [],
    calls: [],
  };
  const { limits } = opts;
  let stack: Value[] = [];
  const metastack: Value[][] = [];
  const memo = new Map<number, Value>();
  let depth = 0;
  let pos = start;
  let opStart = start;
  let frameEnd = -1;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);

  const fail = (msg: string, truncated = false): never => {
    if (truncated && opts.windowEndsEarly) throw new NeedMoreBytes(msg);
    throw new Malformed(msg, opStart, truncated);
  };
  const need = (n: number): number => {
    if (n < 0 || pos + n > data.length)
      fail(
        `truncated: ${OPCODE_NAMES[data[opStart] ?? 0] ?? 'opcode'} needs ${n} bytes past end of data`,
        true,
      );
    const p = pos;
    pos += n;
    return p;
  };
  const readLine = (): Uint8Array => {
    const nl = data.indexOf(0x0a, pos);
    if (nl < 0) fail('truncated: line argument has no newline', true);
    const line = data.subarray(pos, nl);
    pos = nl + 1;
    return line;
  };
  const push = (v: Value): void => {
    if (++depth > limits.maxStackDepth)
      throw new LimitExceeded('maxStackDepth', `pickle stack deeper than ${limits.maxStackDepth}`);
    stack.push(v);
  };
  const pop = (): Value => {
    const v = stack.pop();
    if (v === undefined) return fail('stack underflow');
    depth--;
    return v;
  };
  const top = (): Value => stack[stack.length - 1] ?? fail('stack underflow');
  const popMark = (): Value[] => {
    const items = stack;
    const outer = metastack.pop();
    if (outer === undefined) return fail('MARK missing (pop_mark on empty mark stack)');
    stack = outer;
    depth -= items.length;
    return items;
  };
  const memoPut = (idx: number): void => {
    if (memo.size >= limits.maxMemoEntries && !memo.has(idx)) {
      throw new LimitExceeded('maxMemoEntries', `pickle memo larger than ${limits.maxMemoEntries} entries`);
    }
    memo.set(idx, top());
  };
  const memoGet = (idx: number): void => {
    const v = memo.get(idx);
    if (v === undefined) fail(`memo key ${idx} not found (GET of an undefined memo slot)`);
    else push(v);
  };
  const decodeUtf8 = (b: Uint8Array, what: string): string => {
    const fast = asciiOrUndefined(b);
    if (fast !== undefined) return fast;
    try {
      return utf8.decode(b);
    } catch {
      return fail(`${what} is not valid UTF-8`);
    }
  };
  // One classification per distinct (module, name, protocol): real checkpoints repeat the same few
  // globals hundreds of thousands of times.
  const importCache = new Map<string, Value>();
  const recordImport = (module: string, name: string, opcode: string): Value => {
    const key = `${run.protocol}\n${module}\n${name}`;
    const cached = importCache.get(key);
    if (cached !== undefined) return cached;
    const c = classifyGlobal(module, name, run.protocol, opts.allowGlobals);
    run.imports.push({
      module,
      name,
      resolved: c.resolved,
      opcode,
      offset: opStart,
      classification: c.classification,
      reason: c.reason,
    });
    const v: Value = { t: 'global', name: c.resolved, classification: c.classification };
    importCache.set(key, v);
    return v;
  };
  const callResults = new Map<string, Value>();
  const callOn = (callee: Value, kind: string): Value => {
    if (callee.t === 'global') {
      let v = callResults.get(callee.name);
      if (v === undefined) {
        callResults.set(callee.name, (v = { t: 'call', callee: callee.name }));
        run.calls.push({ callee: callee.name, opcode: kind, offset: opStart });
      }
      return v;
    }
    // Calling something that is not a plain imported callable: e.g. attrgetter('system')(module)(cmd).
    run.findings.push({
      rule: 'pickle-indirect-call',
      severity: callee.t === 'call' ? 'dangerous' : 'suspicious',
      detail: `${kind} calls ${describe(callee)}, not an imported callable; chained calls are how payloads reach os.system through allowed names`,
      offset: opStart,
    });
    return { t: 'call', callee: callee.t === 'call' ? `${callee.callee}(...)` : '?' };
  };
  const int32 = (): number => dv.getInt32(need(4), true);
  const uint32 = (): number => dv.getUint32(need(4), true);
  const uint64 = (): number => {
    const v = dv.getBigUint64(need(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('length larger than 2**53', true);
    return Number(v);
  };
  const bytesOf = (n: number): Uint8Array => {
    const p = need(n);
    return data.subarray(p, p + n);
  };
  /** Read n bytes as text without materialising a subarray for short ASCII strings. */
  const textOf = (n: number, utf: boolean, what: string): string => {
    const p = need(n);
    if (n > LONG_STRING) return longString(n);
    let ascii = true;
    for (let i = p; i < p + n; i++) {
      if ((data[i] ?? 0) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii && n <= 12) {
      let s = '';
      for (let i = p; i < p + n; i++) s += String.fromCharCode(data[i] ?? 0);
      return s;
    }
    const b = data.subarray(p, p + n);
    return ascii || !utf ? latin1.decode(b) : decodeUtf8(b, what);
  };
  const longFromBytes = (b: Uint8Array): bigint => {
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i] ?? 0);
    if (b.length > 0 && ((b[b.length - 1] ?? 0) & 0x80) !== 0) v -= 1n << BigInt(8 * b.length);
    return v;
  };

  try {
    for (;;) {
      if ((++opts.budget.opcodes & 0xfff) === 0) opts.checkTime?.();
      if (opts.budget.opcodes > limits.maxOpcodes)
        throw new LimitExceeded('maxOpcodes', `more than ${limits.maxOpcodes} pickle opcodes`);
      opStart = pos;
      if (frameEnd >= 0 && pos >= frameEnd) frameEnd = -1;
      const op = data[need(1)] ?? 0;
      switch (op) {
        case 0x80: {
          // PROTO
          const p = data[need(1)] ?? 0;
          if (p > 5) fail(`unsupported pickle protocol ${p}`);
          run.protocol = p;
          break;
        }
        case 0x95: {
          // FRAME: the C unpickler only checks the frame is present; content is ordinary opcodes.
          const n = uint64();
          if (pos + n > data.length) {
            if (opts.windowEndsEarly) throw new NeedMoreBytes('frame past window');
            // pickle.py reads a short frame and carries on; _pickle.c fails. Keep scanning, but reject.
            run.findings.push({
              rule: 'pickle-truncated',
              severity: 'rejected',
              detail: `FRAME declares ${n} bytes but only ${data.length - pos} remain`,
              offset: opStart,
            });
          }
          frameEnd = pos + n;
          break;
        }
        case 0x2e: // STOP
          run.result = pop();
          run.end = pos;
          return run;
        case 0x28: // MARK
          metastack.push(stack);
          stack = [];
          if (metastack.length > limits.maxStackDepth)
            throw new LimitExceeded('maxStackDepth', `more than ${limits.maxStackDepth} marks`);
          break;
        case 0x30: // POP: pops the mark when the current segment is empty (as CPython does)
          if (stack.length > 0) pop();
          else popMark();
          break;
        case 0x31: // POP_MARK
          popMark();
          break;
        case 0x32: // DUP
          push(top());
          break;
        case 0x4e:
          push(NONE);
          break;
        case 0x88:
        case 0x89:
          push(BOOL);
          break;
        case 0x49: {
          // INT: "00"/"01" are booleans; else base-0 integer text
          const line = latin1Decode(readLine());
          if (line === '00' || line === '01') push(BOOL);
          else {
            const v = parseIntBase0(line);
            if (v === undefined) fail(`INT argument ${JSON.stringify(line.slice(0, 40))} is not an integer`);
            else push({ t: 'int', v });
          }
          break;
        }
        case 0x4c: {
          // LONG
          let line = latin1Decode(readLine());
          if (line.endsWith('L')) line = line.slice(0, -1);
          const v = parseIntBase0(line);
          if (v === undefined) fail(`LONG argument ${JSON.stringify(line.slice(0, 40))} is not an integer`);
          else push({ t: 'int', v });
          break;
        }
        case 0x4a:
          push({ t: 'int', v: int32() });
          break;
        case 0x4b:
          push(SMALL_INTS[data[need(1)] ?? 0] ?? NONE);
          break;
        case 0x4d:
          push({ t: 'int', v: dv.getUint16(need(2), true) });
          break;
        case 0x8a: {
          const n = data[need(1)] ?? 0;
          push({ t: 'int', v: longFromBytes(bytesOf(n)) });
          break;
        }
        case 0x8b: {
          const n = int32();
          if (n < 0) fail('LONG4 byte count < 0');
          const b = bytesOf(n);
          push({ t: 'int', v: n <= 64 ? longFromBytes(b) : 0n });
          break;
        }
        case 0x46: {
          const line = latin1Decode(readLine());
          if (!isPythonFloat(line))
            fail(`FLOAT argument ${JSON.stringify(line.slice(0, 40))} is not a float`);
          push(FLOAT);
          break;
        }
        case 0x47:
          need(8);
          push(FLOAT);
          break;
        case 0x53: {
          // STRING: quoted, escape-decoded, decoded to str (the default ASCII / torch's utf-8 encoding)
          const line = readLine();
          const q = line[0];
          if (line.length < 2 || (q !== 0x22 && q !== 0x27) || line[line.length - 1] !== q)
            fail('the STRING opcode argument must be quoted');
          if (line.length > LONG_STRING) {
            push({ t: 'str', v: longString(line.length) });
            break;
          }
          let raw: Uint8Array;
          try {
            raw = escapeDecode(line.subarray(1, line.length - 1));
          } catch (e) {
            return fail(`STRING argument: ${(e as Error).message}`);
          }
          push({ t: 'str', v: latin1.decode(raw) });
          break;
        }
        case 0x54: {
          const n = int32();
          if (n < 0) fail('BINSTRING pickle has negative byte count');
          push({ t: 'str', v: textOf(n, false, 'BINSTRING') });
          break;
        }
        case 0x55:
          push({ t: 'str', v: textOf(data[need(1)] ?? 0, false, 'SHORT_BINSTRING') });
          break;
        case 0x56: {
          let s: string;
          const uline = readLine();
          if (uline.length > LONG_STRING) {
            push({ t: 'str', v: longString(uline.length) });
            break;
          }
          try {
            s = rawUnicodeEscape(uline);
          } catch (e) {
            return fail(`UNICODE argument: ${(e as Error).message}`);
          }
          push({ t: 'str', v: s });
          break;
        }
        case 0x58:
          push({ t: 'str', v: textOf(uint32(), true, 'BINUNICODE') });
          break;
        case 0x8c:
          push({ t: 'str', v: textOf(data[need(1)] ?? 0, true, 'SHORT_BINUNICODE') });
          break;
        case 0x8d:
          push({ t: 'str', v: textOf(uint64(), true, 'BINUNICODE8') });
          break;
        case 0x42:
          pushBytes(bytesOf(uint32()));
          break;
        case 0x43:
          pushBytes(bytesOf(data[need(1)] ?? 0));
          break;
        case 0x8e:
          pushBytes(bytesOf(uint64()));
          break;
        case 0x96:
          bytesOf(uint64());
          push({ t: 'bytearray' });
          break;
        case 0x97:
          fail('NEXT_BUFFER: the stream needs out-of-band buffers, which a model loader does not supply');
          break;
        case 0x98: {
          const v = top();
          if (v.t !== 'bytes' && v.t !== 'bytearray' && v.t !== 'buffer')
            fail('READONLY_BUFFER on a non-buffer');
          break;
        }
        case 0x29:
          push({ t: 'tuple', items: [] });
          break;
        case 0x74: {
          const items = popMark();
          push({ t: 'tuple', items: items.length <= MAX_TRACKED_ITEMS ? items : [] });
          break;
        }
        case 0x85:
        case 0x86:
        case 0x87: {
          const n = op - 0x84;
          const items: Value[] = [];
          for (let i = 0; i < n; i++) items.unshift(pop());
          push({ t: 'tuple', items });
          break;
        }
        case 0x5d:
          push({ t: 'list' });
          break;
        case 0x6c:
          popMark();
          push({ t: 'list' });
          break;
        case 0x7d:
          push({ t: 'dict', entries: [] });
          break;
        case 0x64: {
          const items = popMark();
          if (items.length % 2 !== 0) fail('DICT with an odd number of items');
          push({ t: 'dict', entries: pairs(items) });
          break;
        }
        case 0x8f:
          push({ t: 'set' });
          break;
        case 0x91:
          popMark();
          push({ t: 'frozenset' });
          break;
        case 0x61: {
          pop();
          containerCall(top(), 'APPEND');
          break;
        }
        case 0x65: {
          popMark();
          containerCall(top(), 'APPENDS');
          break;
        }
        case 0x73: {
          const value = pop();
          const key = pop();
          const d = top();
          containerCall(d, 'SETITEM');
          if (d.t === 'dict') addEntries(d, [key, value]);
          break;
        }
        case 0x75: {
          const items = popMark();
          if (items.length % 2 !== 0) fail('SETITEMS with an odd number of items');
          const d = top();
          containerCall(d, 'SETITEMS');
          if (d.t === 'dict') addEntries(d, items);
          break;
        }
        case 0x90: {
          popMark();
          containerCall(top(), 'ADDITEMS');
          break;
        }
        case 0x67: {
          const line = latin1Decode(readLine()).trim();
          if (!/^[+-]?\d(_?\d)*$/.test(line)) fail('GET argument is not an integer');
          memoGet(Number(line.replace(/_/g, '')));
          break;
        }
        case 0x68:
          memoGet(data[need(1)] ?? 0);
          break;
        case 0x6a:
          memoGet(uint32());
          break;
        case 0x70: {
          const line = latin1Decode(readLine()).trim();
          if (!/^[+-]?\d(_?\d)*$/.test(line)) fail('PUT argument is not an integer');
          const idx = Number(line.replace(/_/g, ''));
          if (idx < 0) fail('negative PUT argument');
          memoPut(idx);
          break;
        }
        case 0x71:
          memoPut(data[need(1)] ?? 0);
          break;
        case 0x72:
          memoPut(uint32());
          break;
        case 0x94:
          memoPut(memo.size);
          break;
        case 0x63: {
          // GLOBAL module\nname\n
          const module = decodeUtf8(readLine(), 'GLOBAL module name');
          const name = decodeUtf8(readLine(), 'GLOBAL attribute name');
          push(recordImport(module, name, 'GLOBAL'));
          break;
        }
        case 0x93: {
          // STACK_GLOBAL: module and name are whatever is on the stack, memoised or computed
          const name = pop();
          const module = pop();
          if (module.t === 'str' && name.t === 'str') {
            push(recordImport(module.v, name.v, 'STACK_GLOBAL'));
          } else if (
            module.t === 'global' ||
            module.t === 'call' ||
            module.t === 'unknown' ||
            name.t === 'global' ||
            name.t === 'call' ||
            name.t === 'unknown'
          ) {
            run.findings.push({
              rule: 'pickle-unresolved-import',
              severity: 'dangerous',
              detail: `STACK_GLOBAL imports a name computed at load time (module ${describe(module)}, attribute ${describe(name)}); its target cannot be known without running the pickle`,
              offset: opStart,
            });
            push({ t: 'global', name: '?', classification: 'dangerous' });
          } else {
            fail(`STACK_GLOBAL requires str operands, got ${describe(module)} and ${describe(name)}`);
          }
          break;
        }
        case 0x69: {
          // INST module\nname\n: import and instantiate with the marked arguments
          const module = decodeUtf8(readLine(), 'INST module name');
          const name = decodeUtf8(readLine(), 'INST attribute name');
          const cls = recordImport(module, name, 'INST');
          popMark();
          push(callOn(cls, 'INST'));
          break;
        }
        case 0x82:
        case 0x83:
        case 0x84: {
          const code =
            op === 0x82 ? (data[need(1)] ?? 0) : op === 0x83 ? dv.getUint16(need(2), true) : int32();
          if (code <= 0) fail('EXT specifies code <= 0');
          run.findings.push({
            rule: 'pickle-extension-code',
            severity: 'dangerous',
            detail: `${OPCODE_NAMES[op]} imports copyreg extension code ${code}: whatever the loading process registered under that number (e.g. os.system after copyreg.add_extension) — not checkable statically`,
            offset: opStart,
          });
          push({ t: 'global', name: `copyreg-extension:${code}`, classification: 'dangerous' });
          break;
        }
        case 0x52: {
          // REDUCE
          const args = pop();
          const fn = pop();
          const first = args.t === 'tuple' ? args.items[0] : undefined;
          // numpy.dtype('f8', ...): keep the type code, joblib array payloads are sized by it
          if (fn.t === 'global' && fn.name === 'numpy.dtype' && first?.t === 'str')
            push({ t: 'call', callee: 'numpy.dtype', arg: first.v });
          else push(callOn(fn, 'REDUCE'));
          break;
        }
        case 0x81: {
          pop();
          push(callOn(pop(), 'NEWOBJ'));
          break;
        }
        case 0x92: {
          pop();
          pop();
          push(callOn(pop(), 'NEWOBJ_EX'));
          break;
        }
        case 0x6f: {
          const items = popMark();
          const cls = items[0];
          if (cls === undefined) fail('OBJ without a class');
          else push(callOn(cls, 'OBJ'));
          break;
        }
        case 0x62: {
          // BUILD: state applied to the object below; on a class or module it rewrites its attributes.
          const state = pop();
          const target = top();
          if (target.t === 'global') {
            run.findings.push({
              rule: 'pickle-build-on-global',
              severity: 'dangerous',
              detail: `BUILD sets attributes on the imported object ${target.name} itself (monkey-patching a module or class), with ${describe(state)}`,
              offset: opStart,
            });
          } else if (target.t !== 'call' && target.t !== 'dict' && target.t !== 'persid') {
            run.findings.push({
              rule: 'pickle-build-on-plain-value',
              severity: 'suspicious',
              detail: `BUILD on ${describe(target)}: a data pickle only builds objects it created`,
              offset: opStart,
            });
          }
          if (target.t === 'call' && target.callee === JOBLIB_WRAPPER) skipJoblibArray(state);
          break;
        }
        case 0x50: {
          const pid = readLine();
          if (pid.some((c) => c > 0x7f)) fail('persistent IDs in protocol 0 must be ASCII strings');
          push(PERSID);
          break;
        }
        case 0x51:
          pop();
          push(PERSID);
          break;
        default:
          fail(`invalid opcode 0x${op.toString(16).padStart(2, '0')}`);
      }
    }
  } catch (e) {
    if (e instanceof Malformed) {
      run.error = { message: e.message, offset: e.offset, truncated: e.truncated };
      run.end = pos;
      return run;
    }
    throw e;
  }

  /**
   * joblib's NumpyUnpickler reads an array's bytes straight from the stream right after the
   * wrapper's BUILD (joblib/numpy_pickle.py NumpyArrayWrapper.read_array): skip them, or, for object
   * arrays, scan the pickle that is written there instead.
   */
  function skipJoblibArray(state: Value): void {
    const entries = state.t === 'dict' ? state.entries : null;
    if (entries === null) return fail('joblib array wrapper with a state modelgate cannot follow');
    const get = (k: string): Value | undefined =>
      entries.find(([key]) => key.t === 'str' && key.v === k)?.[1];
    const dtype = get('dtype');
    const code = dtype?.t === 'call' ? dtype.arg : undefined;
    if (code === undefined) return fail('joblib array wrapper without a readable dtype');
    if (code.includes('O')) {
      const inner = runPickle(data, pos, { ...opts, windowEndsEarly: opts.windowEndsEarly ?? false });
      run.imports.push(...inner.imports);
      run.calls.push(...inner.calls);
      run.findings.push(...inner.findings);
      run.embedded.push(...inner.embedded);
      if (inner.error) return fail(`joblib object array: ${inner.error.message}`, inner.error.truncated);
      pos = inner.end;
    } else {
      const shape = get('shape');
      const itemsize = dtypeItemSize(code);
      if (shape?.t !== 'tuple' || itemsize === undefined || !shape.items.every((x) => x.t === 'int'))
        return fail(`joblib array with unsupported dtype ${code} or shape`);
      let count = 1;
      for (const d of shape.items) count *= Number(d.t === 'int' ? d.v : 0);
      const align = get('numpy_array_alignment_bytes');
      if (align !== undefined && align.t !== 'none') need(data[need(1)] ?? 0);
      if (!Number.isSafeInteger(count * itemsize) || count < 0) return fail('joblib array size overflows');
      need(count * itemsize);
    }
    stack[stack.length - 1] = { t: 'call', callee: 'numpy.ndarray' };
    return undefined;
  }

  function pushBytes(b: Uint8Array): void {
    if (looksLikeBinaryPickle(b) && b[b.length - 1] === 0x2e && run.embedded.length < 16)
      run.embedded.push({ offset: opStart, bytes: b });
    push(b.length <= 64 ? { t: 'bytes', v: b } : BYTES);
  }
  function pairs(items: Value[]): [Value, Value][] | null {
    if (items.length > 2 * MAX_TRACKED_ITEMS) return null;
    const out: [Value, Value][] = [];
    for (let i = 0; i + 1 < items.length; i += 2) out.push([items[i] as Value, items[i + 1] as Value]);
    return out;
  }
  function addEntries(d: { entries: [Value, Value][] | null }, items: Value[]): void {
    if (d.entries === null) return;
    const more = pairs(items);
    if (more === null || d.entries.length + more.length > MAX_TRACKED_ITEMS) d.entries = null;
    else d.entries.push(...more);
  }
  function containerCall(target: Value, opname: string): void {
    // APPEND/SETITEM/ADDITEMS on a non-container call its append/__setitem__/add method.
    if (target.t === 'global') {
      run.findings.push({
        rule: 'pickle-build-on-global',
        severity: 'dangerous',
        detail: `${opname} calls a method of the imported object ${target.name} itself`,
        offset: opStart,
      });
    }
  }
}

/** Human name for what an import does, for reports. */
export function importSummary(r: ImportRecord): string {
  const spelled = `${r.module}.${r.name}`;
  return spelled === r.resolved ? r.resolved : `${r.resolved} (spelled ${spelled})`;
}
