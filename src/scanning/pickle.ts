// A pickle virtual machine that executes nothing. It follows CPython's Unpickler (Lib/pickle.py and
// Modules/_pickle.c) opcode by opcode, protocols 0-5, with the memo, the mark stack and framing, so it
// sees exactly the imports and calls a real load would perform, including names assembled on the
// stack (STACK_GLOBAL over memoised strings), INST, and EXT extension codes. Each import is judged
// allowlist-first (globals.ts); every call, instantiation and BUILD of an allowlisted name is checked
// against the opcode shapes its entry permits (pickle-shapes.ts).
//
// The machine is one class; each opcode family (framing, stack, numbers, text, containers, memo,
// imports, calls, BUILD, persistent ids) is a method, dispatched from `step`.
import { classifyGlobal } from './globals.ts';
import { readJoblibArray } from './joblib.ts';
import { judgeBuild, judgeCall, type CallKind, type ShapeFinding } from './pickle-shapes.ts';
import {
  asciiOrUndefined,
  escapeDecode,
  isPythonFloat,
  latin1,
  latin1Decode,
  looksLikeBinaryPickle,
  parseIntBase0,
  rawUnicodeEscape,
  utf8Strict,
} from './pickle-text.ts';
import {
  BOOL,
  describeValue,
  FLOAT,
  isDunder,
  MAX_TRACKED_ITEMS,
  NONE,
  PERSID,
  SMALL_INTS,
  type ImportRef,
  type Value,
} from './pickle-values.ts';
import { LimitExceeded, type Finding, type ScanLimits } from './types.ts';
import type { GlobalClass } from './globals.ts';

export type { Value } from './pickle-values.ts';
export { looksLikeBinaryPickle, parseIntBase0 } from './pickle-text.ts';

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
  /** Reached STOP. */
  stopped: boolean;
  /** bytes values that are themselves pickles (inert unless the model code unpickles them) */
  embedded: { offset: number; bytes: Uint8Array }[];
  /** First call site of each imported callable (REDUCE, OBJ, NEWOBJ, NEWOBJ_EX, INST). */
  calls: { callee: string; opcode: string; offset: number }[];
  /** Set when the stream is malformed or truncated; the caller rejects the file. */
  error?: { message: string; offset: number; truncated: boolean };
  /** Where joblib's loader first read array bytes after a NumpyArrayWrapper's BUILD (`pickle.load` reads opcodes there). */
  joblibArrayAt?: number;
}

export interface PickleVmOptions {
  limits: ScanLimits;
  /** Extra globals allowed by configuration (`--allow-global`, `allowGlobals`). */
  allowGlobals: ReadonlySet<string>;
  /** Shared opcode budget for the whole file; incremented by the VM. */
  budget: { opcodes: number };
  /** Called every few thousand opcodes; throws LimitExceeded when the time budget is gone. */
  checkTime?: () => void;
  /** The buffer ends before the stream does (more bytes exist); truncation then means "read more". */
  windowEndsEarly?: boolean;
  /**
   * Read as plain `pickle.load` does: the BUILD of a joblib NumpyArrayWrapper is an ordinary BUILD and
   * the array bytes joblib would read next are opcodes.
   */
  plainPickle?: boolean;
}

/** The window holds only part of the stream; the caller should retry with a larger window. */
export class NeedMoreBytes extends Error {
  /** What the stream had shown of being a pickle before the window ended (pickle-file.ts). */
  evidence: 'none' | 'weak' | 'strong' = 'none';
}

export class Malformed extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly truncated = false,
  ) {
    super(message);
  }
}

const BYTES_EMPTY: Value = { t: 'bytes', v: new Uint8Array(0) };
/** Strings longer than this are not decoded: no import name is that long, and decoding costs memory. */
const LONG_STRING = 65536;
/** Stand-in for an undecoded long string; the NUL makes it an invalid import name if ever used as one. */
function longString(n: number): string {
  return `\u0000<${n}-byte string>`;
}

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

/**
 * Run one pickle starting at `start` up to STOP. Never throws for malformed input (the run carries an
 * `error`, and everything seen before it: `pickle.load` has already executed those opcodes); throws
 * LimitExceeded for limits and NeedMoreBytes when the window ends before the stream.
 */
export function runPickle(input: Uint8Array, start: number, opts: PickleVmOptions): PickleRun {
  return new PickleMachine(input, start, opts).execute();
}

function longFromBytes(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i] ?? 0);
  if (b.length > 0 && ((b[b.length - 1] ?? 0) & 0x80) !== 0) v -= 1n << BigInt(8 * b.length);
  return v;
}

export class PickleMachine {
  /** A plain Uint8Array view: Buffer#subarray is several times slower. */
  readonly data: Uint8Array;
  private readonly dv: DataView;
  readonly run: PickleRun;
  readonly opts: PickleVmOptions;
  pos: number;
  opStart: number;
  private stack: Value[] = [];
  private readonly metastack: Value[][] = [];
  private readonly memo = new Map<number, Value>();
  private depth = 0;
  /** One classification per distinct (protocol, module, name): checkpoints repeat a few globals a lot. */
  private readonly importCache = new Map<string, Value>();
  /** Plain instances per class (immutable, so shared). */
  private readonly instances = new Map<ImportRef, Value>();
  private readonly calledOnce = new Set<string>();
  /** References of call-only globals (AllowEntry.callOnly) pushed and not yet consumed by an admitted call. */
  private callOnlyRefs = 0;
  private callOnlyName = '';

  constructor(input: Uint8Array, start: number, opts: PickleVmOptions) {
    this.data = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    this.dv = new DataView(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    this.opts = opts;
    this.pos = start;
    this.opStart = start;
    this.run = {
      start,
      end: start,
      protocol: 0,
      imports: [],
      findings: [],
      result: undefined,
      stopped: false,
      embedded: [],
      calls: [],
    };
  }

  execute(): PickleRun {
    const { limits, budget } = this.opts;
    try {
      for (;;) {
        if ((++budget.opcodes & 0xfff) === 0) this.opts.checkTime?.();
        if (budget.opcodes > limits.maxOpcodes)
          throw new LimitExceeded('maxOpcodes', `more than ${limits.maxOpcodes} pickle opcodes`);
        this.opStart = this.pos;
        const op = this.data[this.need(1)] ?? 0;
        if (this.step(op)) {
          this.run.stopped = true;
          this.run.end = this.pos;
          this.unconsumedCallOnly();
          return this.run;
        }
      }
    } catch (e) {
      if (e instanceof Malformed) {
        this.run.error = { message: e.message, offset: e.offset, truncated: e.truncated };
        this.run.end = this.pos;
        this.unconsumedCallOnly();
        return this.run;
      }
      throw e;
    }
  }

  /** Execute one opcode; true at STOP. */
  private step(op: number): boolean {
    switch (op) {
      case 0x2e: // STOP
        this.run.result = this.pop();
        return true;
      case 0x80:
      case 0x95:
        this.framing(op);
        break;
      case 0x28:
      case 0x30:
      case 0x31:
      case 0x32:
        this.stackOps(op);
        break;
      case 0x4e:
      case 0x88:
      case 0x89:
      case 0x49:
      case 0x4c:
      case 0x4a:
      case 0x4b:
      case 0x4d:
      case 0x8a:
      case 0x8b:
      case 0x46:
      case 0x47:
        this.numbers(op);
        break;
      case 0x53:
      case 0x54:
      case 0x55:
      case 0x56:
      case 0x58:
      case 0x8c:
      case 0x8d:
      case 0x42:
      case 0x43:
      case 0x8e:
      case 0x96:
      case 0x97:
      case 0x98:
        this.text(op);
        break;
      case 0x29:
      case 0x74:
      case 0x85:
      case 0x86:
      case 0x87:
      case 0x5d:
      case 0x6c:
      case 0x7d:
      case 0x64:
      case 0x8f:
      case 0x91:
      case 0x61:
      case 0x65:
      case 0x73:
      case 0x75:
      case 0x90:
        this.containers(op);
        break;
      case 0x67:
      case 0x68:
      case 0x6a:
      case 0x70:
      case 0x71:
      case 0x72:
      case 0x94:
        this.memoOps(op);
        break;
      case 0x63:
      case 0x93:
      case 0x82:
      case 0x83:
      case 0x84:
        this.imports(op);
        break;
      case 0x52:
      case 0x81:
      case 0x92:
      case 0x6f:
      case 0x69:
        this.calls(op);
        break;
      case 0x62:
        this.build();
        break;
      case 0x50:
      case 0x51:
        this.persistentIds(op);
        break;
      default:
        this.fail(`invalid opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
    return false;
  }

  // --- reading ---------------------------------------------------------------------------------

  fail(msg: string, truncated = false): never {
    if (truncated && this.opts.windowEndsEarly) throw new NeedMoreBytes(msg);
    throw new Malformed(msg, this.opStart, truncated);
  }

  need(n: number): number {
    if (n < 0 || this.pos + n > this.data.length)
      this.fail(
        `truncated: ${OPCODE_NAMES[this.data[this.opStart] ?? 0] ?? 'opcode'} needs ${n} bytes past end of data`,
        true,
      );
    const p = this.pos;
    this.pos += n;
    return p;
  }

  private readLine(): Uint8Array {
    const nl = this.data.indexOf(0x0a, this.pos);
    if (nl < 0) this.fail('truncated: line argument has no newline', true);
    const line = this.data.subarray(this.pos, nl);
    this.pos = nl + 1;
    return line;
  }

  private int32(): number {
    return this.dv.getInt32(this.need(4), true);
  }
  private uint32(): number {
    return this.dv.getUint32(this.need(4), true);
  }
  private uint64(): number {
    const v = this.dv.getBigUint64(this.need(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail('length larger than 2**53', true);
    return Number(v);
  }
  private bytesOf(n: number): Uint8Array {
    const p = this.need(n);
    return this.data.subarray(p, p + n);
  }

  private decodeUtf8(b: Uint8Array, what: string): string {
    const fast = asciiOrUndefined(b);
    if (fast !== undefined) return fast;
    try {
      return utf8Strict.decode(b);
    } catch {
      return this.fail(`${what} is not valid UTF-8`);
    }
  }

  /** A str value of n bytes; long strings keep their bytes undecoded. */
  private strValue(n: number, utf: boolean, what: string): Value {
    if (n > LONG_STRING) {
      const p = this.need(n);
      return { t: 'str', v: longString(n), raw: this.data.subarray(p, p + n), latin1: !utf };
    }
    return { t: 'str', v: this.textOf(n, utf, what) };
  }

  /** Read n bytes as text without materialising a subarray for short ASCII strings. */
  private textOf(n: number, utf: boolean, what: string): string {
    const p = this.need(n);
    const data = this.data;
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
    return ascii || !utf ? latin1.decode(b) : this.decodeUtf8(b, what);
  }

  // --- the stack ---------------------------------------------------------------------------------

  push(v: Value): void {
    if (++this.depth > this.opts.limits.maxStackDepth)
      throw new LimitExceeded('maxStackDepth', `pickle stack deeper than ${this.opts.limits.maxStackDepth}`);
    if (v.t === 'global' && v.ref.entry?.callOnly === true) {
      this.callOnlyRefs++;
      this.callOnlyName = v.ref.name;
    }
    this.stack.push(v);
  }

  /** A call-only global (builtins.getattr) referenced other than as the callee of an admitted call. */
  private unconsumedCallOnly(): void {
    if (this.callOnlyRefs <= 0) return;
    this.run.findings.push({
      rule: 'pickle-dangerous-import',
      severity: 'dangerous',
      detail: `${this.callOnlyName} is allowed only as the exact call scipy pickles (getattr of a scipy.stats distribution's vectorized method); here it is also used otherwise (kept as a value, or called with other arguments), which is how pickles reach arbitrary attributes. Loading this file may run it.`,
      offset: this.run.start,
    });
  }
  pop(): Value {
    const v = this.stack.pop();
    if (v === undefined) return this.fail('stack underflow');
    this.depth--;
    return v;
  }
  top(): Value {
    return this.stack[this.stack.length - 1] ?? this.fail('stack underflow');
  }
  /** Replace the top of the stack (BUILD of a joblib array wrapper yields the array). */
  replaceTop(v: Value): void {
    this.stack[this.stack.length - 1] = v;
  }
  private popMark(): Value[] {
    const items = this.stack;
    const outer = this.metastack.pop();
    if (outer === undefined) return this.fail('MARK missing (pop_mark on empty mark stack)');
    this.stack = outer;
    this.depth -= items.length;
    return items;
  }

  finding(f: Omit<Finding, 'offset'>): void {
    this.run.findings.push({ ...f, offset: this.opStart });
  }

  // --- opcode families ---------------------------------------------------------------------------

  /** PROTO and FRAME. */
  private framing(op: number): void {
    if (op === 0x80) {
      const p = this.data[this.need(1)] ?? 0;
      if (p > 5) this.fail(`unsupported pickle protocol ${p}`);
      this.run.protocol = p;
      return;
    }
    // FRAME: the C unpickler only checks the frame is present; its content is ordinary opcodes.
    const n = this.uint64();
    if (this.pos + n > this.data.length) {
      if (this.opts.windowEndsEarly) throw new NeedMoreBytes('frame past window');
      // pickle.py reads a short frame and carries on; _pickle.c fails. Keep scanning, but reject.
      this.finding({
        rule: 'pickle-truncated',
        severity: 'rejected',
        detail: `FRAME declares ${n} bytes but only ${this.data.length - this.pos} remain`,
      });
    }
  }

  /** MARK, POP, POP_MARK, DUP. */
  private stackOps(op: number): void {
    switch (op) {
      case 0x28:
        this.metastack.push(this.stack);
        this.stack = [];
        if (this.metastack.length > this.opts.limits.maxStackDepth)
          throw new LimitExceeded('maxStackDepth', `more than ${this.opts.limits.maxStackDepth} marks`);
        break;
      case 0x30: // POP pops the mark when the current segment is empty (as CPython does)
        if (this.stack.length > 0) this.pop();
        else this.popMark();
        break;
      case 0x31:
        this.popMark();
        break;
      default:
        this.push(this.top());
    }
  }

  /** NONE, booleans, integers, floats. */
  private numbers(op: number): void {
    switch (op) {
      case 0x4e:
        return this.push(NONE);
      case 0x88:
      case 0x89:
        return this.push(BOOL);
      case 0x49: {
        // INT: "00"/"01" are booleans; else base-0 integer text
        const line = latin1Decode(this.readLine());
        if (line === '00' || line === '01') return this.push(BOOL);
        const v = parseIntBase0(line);
        if (v === undefined) this.fail(`INT argument ${JSON.stringify(line.slice(0, 40))} is not an integer`);
        return this.push({ t: 'int', v });
      }
      case 0x4c: {
        let line = latin1Decode(this.readLine());
        if (line.endsWith('L')) line = line.slice(0, -1);
        const v = parseIntBase0(line);
        if (v === undefined)
          this.fail(`LONG argument ${JSON.stringify(line.slice(0, 40))} is not an integer`);
        return this.push({ t: 'int', v });
      }
      case 0x4a:
        return this.push({ t: 'int', v: this.int32() });
      case 0x4b:
        return this.push(SMALL_INTS[this.data[this.need(1)] ?? 0] ?? NONE);
      case 0x4d:
        return this.push({ t: 'int', v: this.dv.getUint16(this.need(2), true) });
      case 0x8a: {
        const n = this.data[this.need(1)] ?? 0;
        return this.push({ t: 'int', v: longFromBytes(this.bytesOf(n)) });
      }
      case 0x8b: {
        const n = this.int32();
        if (n < 0) this.fail('LONG4 byte count < 0');
        const b = this.bytesOf(n);
        return this.push({ t: 'int', v: n <= 64 ? longFromBytes(b) : 0n });
      }
      case 0x46: {
        const line = latin1Decode(this.readLine());
        if (!isPythonFloat(line))
          this.fail(`FLOAT argument ${JSON.stringify(line.slice(0, 40))} is not a float`);
        return this.push(FLOAT);
      }
      default:
        this.need(8);
        return this.push(FLOAT);
    }
  }

  /** Strings, bytes, bytearrays and buffers. */
  private text(op: number): void {
    switch (op) {
      case 0x53: {
        // STRING: quoted, escape-decoded, decoded to str (the default ASCII / torch's utf-8 encoding)
        const line = this.readLine();
        const q = line[0];
        if (line.length < 2 || (q !== 0x22 && q !== 0x27) || line[line.length - 1] !== q)
          this.fail('the STRING opcode argument must be quoted');
        if (line.length > LONG_STRING) return this.push({ t: 'str', v: longString(line.length) });
        let raw: Uint8Array;
        try {
          raw = escapeDecode(line.subarray(1, line.length - 1));
        } catch (e) {
          return this.fail(`STRING argument: ${(e as Error).message}`);
        }
        return this.push({ t: 'str', v: latin1.decode(raw) });
      }
      case 0x54: {
        const n = this.int32();
        if (n < 0) this.fail('BINSTRING pickle has negative byte count');
        return this.push(this.strValue(n, false, 'BINSTRING'));
      }
      case 0x55:
        return this.push({
          t: 'str',
          v: this.textOf(this.data[this.need(1)] ?? 0, false, 'SHORT_BINSTRING'),
        });
      case 0x56: {
        const line = this.readLine();
        if (line.length > LONG_STRING) return this.push({ t: 'str', v: longString(line.length) });
        try {
          return this.push({ t: 'str', v: rawUnicodeEscape(line) });
        } catch (e) {
          return this.fail(`UNICODE argument: ${(e as Error).message}`);
        }
      }
      case 0x58:
        return this.push(this.strValue(this.uint32(), true, 'BINUNICODE'));
      case 0x8c:
        return this.push({
          t: 'str',
          v: this.textOf(this.data[this.need(1)] ?? 0, true, 'SHORT_BINUNICODE'),
        });
      case 0x8d:
        return this.push(this.strValue(this.uint64(), true, 'BINUNICODE8'));
      case 0x42:
        return this.pushBytes(this.bytesOf(this.uint32()));
      case 0x43:
        return this.pushBytes(this.bytesOf(this.data[this.need(1)] ?? 0));
      case 0x8e:
        return this.pushBytes(this.bytesOf(this.uint64()));
      case 0x96:
        return this.push({ t: 'bytes', v: this.bytesOf(this.uint64()) });
      case 0x97:
        return this.fail(
          'NEXT_BUFFER: the stream needs out-of-band buffers, which a model loader does not supply',
        );
      default: {
        const v = this.top();
        if (v.t !== 'bytes' && v.t !== 'bytearray' && v.t !== 'buffer')
          this.fail('READONLY_BUFFER on a non-buffer');
      }
    }
  }

  private pushBytes(b: Uint8Array): void {
    if (looksLikeBinaryPickle(b) && b[b.length - 1] === 0x2e && this.run.embedded.length < 16)
      this.run.embedded.push({ offset: this.opStart, bytes: b });
    this.push(b.length === 0 ? BYTES_EMPTY : { t: 'bytes', v: b });
  }

  /** Tuples, lists, dicts, sets, and the opcodes that fill them. */
  private containers(op: number): void {
    switch (op) {
      case 0x29:
        return this.push({ t: 'tuple', items: [] });
      case 0x74: {
        const items = this.popMark();
        return this.push({ t: 'tuple', items: items.length <= MAX_TRACKED_ITEMS ? items : null });
      }
      case 0x85:
      case 0x86:
      case 0x87: {
        const n = op - 0x84;
        const items: Value[] = new Array<Value>(n);
        for (let i = n - 1; i >= 0; i--) items[i] = this.pop();
        return this.push({ t: 'tuple', items });
      }
      case 0x5d:
        return this.push({ t: 'list' });
      case 0x6c:
        this.popMark();
        return this.push({ t: 'list' });
      case 0x7d:
        return this.push({ t: 'dict', entries: [] });
      case 0x64: {
        const items = this.popMark();
        if (items.length % 2 !== 0) this.fail('DICT with an odd number of items');
        const d: Value = { t: 'dict', entries: [] };
        addEntries(d, items);
        return this.push(d);
      }
      case 0x8f:
        return this.push({ t: 'set' });
      case 0x91:
        this.popMark();
        return this.push({ t: 'frozenset' });
      case 0x61:
        this.pop();
        return this.containerCall(this.top(), 'APPEND');
      case 0x65:
        this.popMark();
        return this.containerCall(this.top(), 'APPENDS');
      case 0x73: {
        const value = this.pop();
        const key = this.pop();
        const d = this.top();
        this.containerCall(d, 'SETITEM');
        if (d.t === 'dict') addEntries(d, [key, value]);
        return;
      }
      case 0x75: {
        const items = this.popMark();
        if (items.length % 2 !== 0) this.fail('SETITEMS with an odd number of items');
        const d = this.top();
        this.containerCall(d, 'SETITEMS');
        if (d.t === 'dict') addEntries(d, items);
        return;
      }
      default:
        this.popMark();
        return this.containerCall(this.top(), 'ADDITEMS');
    }
  }

  /** APPEND/SETITEM/ADDITEMS on a non-container call its append/__setitem__/add method. */
  private containerCall(target: Value, opname: string): void {
    if (target.t === 'global') {
      this.finding({
        rule: 'pickle-build-on-global',
        severity: 'dangerous',
        detail: `${opname} calls a method of the imported object ${target.ref.name} itself`,
      });
    }
  }

  /** GET/PUT and their binary forms, MEMOIZE. */
  private memoOps(op: number): void {
    switch (op) {
      case 0x67: {
        const line = latin1Decode(this.readLine()).trim();
        if (!/^[+-]?\d(_?\d)*$/.test(line)) this.fail('GET argument is not an integer');
        return this.memoGet(Number(line.replace(/_/g, '')));
      }
      case 0x68:
        return this.memoGet(this.data[this.need(1)] ?? 0);
      case 0x6a:
        return this.memoGet(this.uint32());
      case 0x70: {
        const line = latin1Decode(this.readLine()).trim();
        if (!/^[+-]?\d(_?\d)*$/.test(line)) this.fail('PUT argument is not an integer');
        const idx = Number(line.replace(/_/g, ''));
        if (idx < 0) this.fail('negative PUT argument');
        return this.memoPut(idx);
      }
      case 0x71:
        return this.memoPut(this.data[this.need(1)] ?? 0);
      case 0x72:
        return this.memoPut(this.uint32());
      default:
        return this.memoPut(this.memo.size);
    }
  }
  private memoPut(idx: number): void {
    const max = this.opts.limits.maxMemoEntries;
    if (this.memo.size >= max && !this.memo.has(idx))
      throw new LimitExceeded('maxMemoEntries', `pickle memo larger than ${max} entries`);
    this.memo.set(idx, this.top());
  }
  private memoGet(idx: number): void {
    const v = this.memo.get(idx);
    if (v === undefined) this.fail(`memo key ${idx} not found (GET of an undefined memo slot)`);
    this.push(v);
  }

  /** GLOBAL, STACK_GLOBAL, EXT1/2/4: what the loading process imports. */
  private imports(op: number): void {
    if (op === 0x63) {
      const module = this.decodeUtf8(this.readLine(), 'GLOBAL module name');
      const name = this.decodeUtf8(this.readLine(), 'GLOBAL attribute name');
      return this.push(this.recordImport(module, name, 'GLOBAL'));
    }
    if (op === 0x93) {
      // STACK_GLOBAL: module and name are whatever is on the stack, memoised or computed
      const name = this.pop();
      const module = this.pop();
      if (module.t === 'str' && name.t === 'str')
        return this.push(this.recordImport(module.v, name.v, 'STACK_GLOBAL'));
      if (isComputed(module) || isComputed(name)) {
        this.finding({
          rule: 'pickle-unresolved-import',
          severity: 'dangerous',
          detail: `STACK_GLOBAL imports a name computed at load time (module ${describeValue(module)}, attribute ${describeValue(name)}); its target cannot be known without running the pickle`,
        });
        return this.push({ t: 'global', ref: UNRESOLVED });
      }
      return this.fail(
        `STACK_GLOBAL requires str operands, got ${describeValue(module)} and ${describeValue(name)}`,
      );
    }
    const code =
      op === 0x82
        ? (this.data[this.need(1)] ?? 0)
        : op === 0x83
          ? this.dv.getUint16(this.need(2), true)
          : this.int32();
    if (code <= 0) this.fail('EXT specifies code <= 0');
    this.finding({
      rule: 'pickle-extension-code',
      severity: 'dangerous',
      detail: `${OPCODE_NAMES[op]} imports copyreg extension code ${code}: whatever the loading process registered under that number (e.g. os.system after copyreg.add_extension) — not checkable statically`,
    });
    this.push({ t: 'global', ref: { ...UNRESOLVED, name: `copyreg-extension:${code}` } });
  }

  private recordImport(module: string, name: string, opcode: string): Value {
    const key = `${this.run.protocol}\n${module}\n${name}`;
    const cached = this.importCache.get(key);
    if (cached !== undefined) return cached;
    const c = classifyGlobal(module, name, this.run.protocol, this.opts.allowGlobals);
    this.run.imports.push({
      module,
      name,
      resolved: c.resolved,
      opcode,
      offset: this.opStart,
      classification: c.classification,
      reason: c.reason,
    });
    const v: Value = {
      t: 'global',
      ref: { name: c.resolved, classification: c.classification, reason: c.reason, entry: c.entry },
    };
    this.importCache.set(key, v);
    return v;
  }

  /** REDUCE, NEWOBJ, NEWOBJ_EX, OBJ, INST: every way a pickle calls something. */
  private calls(op: number): void {
    switch (op) {
      case 0x52: {
        const args = this.pop();
        const fn = this.pop();
        return this.push(this.callOn(fn, 'REDUCE', args));
      }
      case 0x81: {
        const args = this.pop();
        return this.push(this.callOn(this.pop(), 'NEWOBJ', args));
      }
      case 0x92: {
        const kwargs = this.pop();
        const args = this.pop();
        return this.push(this.callOn(this.pop(), 'NEWOBJ_EX', args, kwargs));
      }
      case 0x6f: {
        const items = this.popMark();
        const cls = items[0];
        if (cls === undefined) this.fail('OBJ without a class');
        return this.push(
          this.callOn(cls, 'OBJ', { t: 'tuple', items: items.slice(1, MAX_TRACKED_ITEMS + 1) }),
        );
      }
      default: {
        // INST module\nname\n: CPython finds the mark first, then imports and instantiates
        const items = this.popMark();
        const module = this.decodeUtf8(this.readLine(), 'INST module name');
        const name = this.decodeUtf8(this.readLine(), 'INST attribute name');
        const cls = this.recordImport(module, name, 'INST');
        return this.push(this.callOn(cls, 'INST', { t: 'tuple', items: items.slice(0, MAX_TRACKED_ITEMS) }));
      }
    }
  }

  private callOn(callee: Value, kind: CallKind, args: Value, kwargs?: Value): Value {
    if (callee.t !== 'global') {
      // Calling something that is not a plain imported callable: e.g. attrgetter('system')(module)(cmd).
      this.finding({
        rule: 'pickle-indirect-call',
        severity: callee.t === 'obj' ? 'dangerous' : 'suspicious',
        detail: `${kind} calls ${describeValue(callee)}, not an imported callable; chained calls are how payloads reach os.system through allowed names`,
      });
      return { t: 'obj', cls: undefined, indirect: true };
    }
    const ref = callee.ref;
    if (!this.calledOnce.has(ref.name)) {
      this.calledOnce.add(ref.name);
      this.run.calls.push({ callee: ref.name, opcode: kind, offset: this.opStart });
    }
    const judged = judgeCall(ref, kind, args, kwargs);
    if (judged.finding !== undefined) this.shapeFinding(judged.finding);
    else if (ref.entry?.callOnly === true && ref.classification === 'allowed' && kind !== 'INST')
      this.callOnlyRefs--;
    if (judged.result !== undefined) return judged.result;
    const cls = judged.instanceOf ?? ref;
    let v = this.instances.get(cls);
    if (v === undefined) this.instances.set(cls, (v = { t: 'obj', cls }));
    return v;
  }

  private shapeFinding(f: ShapeFinding): void {
    this.finding({ rule: f.rule, severity: f.severity, detail: f.detail });
  }

  /** BUILD: state applied to the object below; on a class or module it rewrites its attributes. */
  private build(): void {
    const state = this.pop();
    const target = this.top();
    if (target.t === 'global') {
      this.finding({
        rule: 'pickle-build-on-global',
        severity: 'dangerous',
        detail: `BUILD sets attributes on the imported object ${target.ref.name} itself (monkey-patching a module or class), with ${describeValue(state)}`,
      });
      return;
    }
    if (target.t !== 'obj' && target.t !== 'dict' && target.t !== 'persid') {
      this.finding({
        rule: 'pickle-build-on-plain-value',
        severity: 'suspicious',
        detail: `BUILD on ${describeValue(target)}: a data pickle only builds objects it created`,
      });
    }
    const f = judgeBuild(target, state);
    if (f !== undefined) this.shapeFinding(f);
    if (target.t === 'obj' && target.dtype !== undefined) target.dtype.state = state;
    if (target.t === 'obj' && target.array !== undefined) target.array.state = state;
    if (target.t === 'obj' && target.joblib && this.opts.plainPickle !== true) {
      this.run.joblibArrayAt ??= this.pos;
      readJoblibArray(this, state);
    }
  }

  /** PERSID and BINPERSID: references the loader resolves (PyTorch storages). */
  private persistentIds(op: number): void {
    if (op === 0x50) {
      const pid = this.readLine();
      if (pid.some((c) => c > 0x7f)) this.fail('persistent IDs in protocol 0 must be ASCII strings');
    } else this.pop();
    this.push(PERSID);
  }
}

const UNRESOLVED: ImportRef = {
  name: '?',
  classification: 'dangerous',
  reason: 'computed at load time',
  entry: undefined,
};

function isComputed(v: Value): boolean {
  return v.t === 'global' || v.t === 'obj' || v.t === 'unknown';
}

/**
 * Attributes the unpickler itself looks up on an instance and calls: APPEND/APPENDS call `append` or
 * `extend`, ADDITEMS calls `add`, when the target is not a real list or set. State that stores a callable
 * under one of these names turns the next APPEND into a call of it (as `__setstate__` does for BUILD).
 */
const PROTOCOL_HOOKS = new Set(['append', 'extend', 'add']);

/**
 * Dunder attributes that are only names and documentation on an instance (scipy distributions keep
 * `__doc__`, numpy.vectorize `__name__`): a str or None there is data, never called.
 */
const INERT_DUNDERS = new Set(['__doc__', '__name__', '__qualname__', '__module__']);

/** Add key/value pairs to a tracked dict; remember a dunder key even when the dict is too long to track. */
function addEntries(d: Value, items: Value[]): void {
  if (d.t !== 'dict') return;
  for (let i = 0; i + 1 < items.length; i += 2) {
    const k = items[i] as Value;
    if (d.dunder !== undefined || k.t !== 'str') continue;
    const v = items[i + 1] as Value;
    if (
      (isDunder(k.v) && !(INERT_DUNDERS.has(k.v) && (v.t === 'str' || v.t === 'none'))) ||
      (PROTOCOL_HOOKS.has(k.v) && isComputed(v))
    )
      d.dunder = k.v;
  }
  if (d.entries === null) return;
  if (d.entries.length + items.length / 2 > MAX_TRACKED_ITEMS) {
    d.entries = null;
    return;
  }
  for (let i = 0; i + 1 < items.length; i += 2) d.entries.push([items[i] as Value, items[i + 1] as Value]);
}

/** Human name for what an import does, for reports. */
export function importSummary(r: ImportRecord): string {
  const spelled = `${r.module}.${r.name}`;
  return spelled === r.resolved ? r.resolved : `${r.resolved} (spelled ${spelled})`;
}
