// TensorFlow Lite models (.tflite): a FlatBuffer (tensorflow/lite/schema/schema.fbs, identifier "TFL3")
// whose operator codes say which kernels the interpreter runs. Builtin operators are TFLite's own
// kernels; what a file can add is:
//   - a custom operator (BuiltinOperator CUSTOM with a `custom_code` name): native code the serving
//     process registered under that name — allowed only for the custom kernels TFLite's own
//     BuiltinOpResolver registers (detection post-processing, audio features, NumericVerify) and
//     MediaPipe's resolver registers (its segmentation and landmark models' kernels);
//   - a Flex operator (`custom_code` "Flex..."): the Flex delegate builds a TensorFlow op from the
//     FlexBuffer [op name, serialised NodeDef] in the operator's custom options and runs the full
//     TensorFlow kernel. Each Flex operator's NodeDef is decoded and judged as a SavedModel node is
//     (PyFunc ops dangerous, file ops suspicious, other TensorFlow ops pass); one whose options cannot
//     be decoded is flagged.
// Buffers stored outside the FlatBuffer (models over 2 GiB: `offset`/`size`) must lie inside the file.
// The reader is bounded: every offset is checked against the file, vectors against their count limits.
import type { ByteSource } from './source.ts';
import { WireError } from './protobuf.ts';
import { judgeNodeDef, tfOpFinding } from './tf-savedmodel.ts';
import type { Finding, ScanContext } from './types.ts';

/** BuiltinOperator.CUSTOM in schema.fbs. */
const CUSTOM = 32;
/** deprecated_builtin_code value meaning "see builtin_code". */
const PLACEHOLDER_FOR_GREATER_OP_CODES = 127;
/**
 * Custom kernels the standard resolvers register themselves: TFLite's BuiltinOpResolver
 * (core/kernels/register.cc) and MediaPipe's MediaPipeBuiltinOpResolver (mediapipe/util/tflite/
 * operations: segmentation, face and hand landmark models). A model only names a kernel; these are
 * the runtime's own code, like the builtins.
 */
const RESOLVER_CUSTOM_OPS = new Set([
  'TFLite_Detection_PostProcess',
  'Mfcc',
  'AudioSpectrogram',
  'NumericVerify',
  'MaxPoolingWithArgmax2D',
  'MaxUnpooling2D',
  'Convolution2DTransposeBias',
  'TransformTensorBilinear',
  'TransformLandmarks',
  'Landmarks2TransformMatrix',
]);
const MAX_VECTOR = 1_000_000;
const PAGE = 64 * 1024;

export class TfliteError extends Error {}

/** Is this the start of a TFLite FlatBuffer (file identifier "TFL3" after the root offset)? */
export function looksLikeTflite(head: Uint8Array): boolean {
  return head.length >= 8 && head[4] === 0x54 && head[5] === 0x46 && head[6] === 0x4c && head[7] === 0x33;
}

/** Bounded random access to a FlatBuffer in a ByteSource, a few cached pages at a time. */
class FlatReader {
  private readonly pages = new Map<number, Uint8Array>();
  constructor(private readonly src: ByteSource) {}

  private async bytes(at: number, n: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(at) || at < 0 || n < 0 || at + n > this.src.size)
      throw new TfliteError(`offset ${at} (+${n}) lies outside the ${this.src.size}-byte file`);
    const p = Math.floor(at / PAGE);
    if (Math.floor((at + n - 1) / PAGE) !== p || n === 0) return this.src.read(at, n);
    let page = this.pages.get(p);
    if (page === undefined) {
      if (this.pages.size >= 32) this.pages.clear();
      page = await this.src.read(p * PAGE, PAGE);
      this.pages.set(p, page);
    }
    return page.subarray(at - p * PAGE, at - p * PAGE + n);
  }
  private async view(at: number, n: number): Promise<DataView> {
    const b = await this.bytes(at, n);
    return new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  async u32(at: number): Promise<number> {
    return (await this.view(at, 4)).getUint32(0, true);
  }
  /** A table at `at`: returns field -> absolute position of the field (absent fields missing). */
  async table(at: number): Promise<(field: number) => number | undefined> {
    const soff = (await this.view(at, 4)).getInt32(0, true);
    const vt = at - soff;
    const vtv = await this.view(vt, 4);
    const vtSize = vtv.getUint16(0, true);
    const tableSize = vtv.getUint16(2, true);
    if (vtSize < 4 || vtSize % 2 !== 0) throw new TfliteError(`vtable at ${vt} has size ${vtSize}`);
    await this.bytes(at, Math.max(tableSize, 4));
    const slots = await this.view(vt, vtSize);
    return (field) => {
      const o = 4 + 2 * field;
      if (o + 2 > vtSize) return undefined;
      const off = slots.getUint16(o, true);
      if (off === 0) return undefined;
      if (off >= tableSize) throw new TfliteError(`field ${field} of the table at ${at} lies outside it`);
      return at + off;
    };
  }
  /** Follow the uoffset stored at `at`. */
  async deref(at: number): Promise<number> {
    return at + (await this.u32(at));
  }
  /** A vector's element count and first element position. */
  async vector(at: number): Promise<{ n: number; first: number }> {
    const n = await this.u32(at);
    if (n > MAX_VECTOR) throw new TfliteError(`a vector of ${n} elements`);
    return { n, first: at + 4 };
  }
  /** `n` bytes at `at` (bounded: custom options are small). */
  async raw(at: number, n: number): Promise<Uint8Array> {
    if (n > 1 << 24) throw new TfliteError(`${n} bytes of custom options`);
    return this.bytes(at, n);
  }
  async string(at: number): Promise<string> {
    const n = await this.u32(at);
    if (n > 1 << 20) throw new TfliteError(`a string of ${n} bytes`);
    return new TextDecoder('utf-8', { fatal: false }).decode(await this.bytes(at + 4, n));
  }
  async int(at: number, size: 1 | 4 | 8, signed: boolean): Promise<number> {
    const v = await this.view(at, size);
    if (size === 1) return signed ? v.getInt8(0) : v.getUint8(0);
    if (size === 4) return signed ? v.getInt32(0, true) : v.getUint32(0, true);
    return Number(v.getBigUint64(0, true));
  }
}

/** One operator code: its effective builtin code and custom name (GetBuiltinCode in schema_utils.cc). */
interface OpCode {
  builtin: number;
  custom: string | undefined;
}

async function operatorCodes(r: FlatReader, model: (f: number) => number | undefined): Promise<OpCode[]> {
  const at = model(1);
  if (at === undefined) return [];
  const { n, first } = await r.vector(await r.deref(at));
  const out: OpCode[] = [];
  for (let i = 0; i < n; i++) {
    const t = await r.table(await r.deref(first + 4 * i));
    const dep = t(0);
    const deprecated = dep === undefined ? 0 : await r.int(dep, 1, true);
    const bc = t(3);
    const builtin = bc === undefined ? 0 : await r.int(bc, 4, true);
    const cc = t(1);
    out.push({
      builtin: Math.max(builtin, deprecated === PLACEHOLDER_FOR_GREATER_OP_CODES ? 0 : deprecated),
      custom: cc === undefined ? undefined : await r.string(await r.deref(cc)),
    });
  }
  return out;
}

/** Buffers must lie inside the file (inline data vectors, and offset/size buffers of models over 2 GiB). */
async function checkBuffers(
  r: FlatReader,
  model: (f: number) => number | undefined,
  size: number,
): Promise<void> {
  const at = model(4);
  if (at === undefined) return;
  const { n, first } = await r.vector(await r.deref(at));
  for (let i = 0; i < n; i++) {
    const t = await r.table(await r.deref(first + 4 * i));
    const data = t(0);
    if (data !== undefined) {
      const v = await r.vector(await r.deref(data));
      if (v.first + v.n > size)
        throw new TfliteError(`buffer ${i} holds ${v.n} bytes past the end of the file`);
    }
    const off = t(1);
    const sz = t(2);
    const offset = off === undefined ? 0 : await r.int(off, 8, false);
    const length = sz === undefined ? 0 : await r.int(sz, 8, false);
    if (offset > 1 && (offset + length > size || !Number.isSafeInteger(offset + length)))
      throw new TfliteError(
        `buffer ${i} claims ${length} bytes at offset ${offset}, past the end of the file`,
      );
  }
}

/** The Flex operators' decoded options: per operator code index, each operator's [name, NodeDef] or why not. */
export type FlexOptions = Map<number, ({ name: string; nodeDef: Uint8Array } | string)[]>;

function flexFinding(code: string, what: string, judged: Finding): Finding {
  return {
    rule: judged.rule === 'tf-python-op' ? 'tflite-python-op' : 'tflite-flex-op',
    severity: judged.severity ?? 'suspicious',
    detail: `Flex operator ${JSON.stringify(code)} runs the TensorFlow ${what} (${judged.detail.replace(/^node "[^"]*" uses /, '')}); convert the model with builtin operators only`,
  };
}

/** What one Flex operator code runs: its name, and the name and NodeDef in each operator's options. */
function flexFindings(
  code: string,
  options: FlexOptions extends Map<number, infer V> ? V | undefined : never,
): Finding[] {
  const out: Finding[] = [];
  const byName = tfOpFinding(undefined, code.slice(4));
  if (byName !== undefined) out.push(flexFinding(code, `op ${code.slice(4)}`, byName));
  for (const o of options ?? []) {
    if (typeof o === 'string') {
      out.push({
        rule: 'tflite-flex-op',
        severity: 'suspicious',
        detail: `Flex operator ${JSON.stringify(code)} has custom options modelgate cannot decode (${o}); the Flex delegate would build a TensorFlow kernel from them, so it cannot be judged`,
      });
      continue;
    }
    const named = tfOpFinding(undefined, o.name);
    if (named !== undefined) out.push(flexFinding(code, `op ${o.name} its options name`, named));
    try {
      const node = judgeNodeDef(o.nodeDef);
      if (node.finding !== undefined)
        out.push(flexFinding(code, `op ${node.op ?? '?'} of the NodeDef in its options`, node.finding));
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      out.push({
        rule: 'tflite-flex-op',
        severity: 'suspicious',
        detail: `Flex operator ${JSON.stringify(code)} carries a NodeDef that does not parse (${e.message}); it cannot be judged`,
      });
    }
  }
  return out;
}

/** Findings for the operator codes of a TFLite model and the decoded options of its Flex operators. */
export function opCodeFindings(codes: readonly OpCode[], flex: FlexOptions = new Map()): Finding[] {
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const [i, c] of codes.entries()) {
    if (c.builtin !== CUSTOM) continue;
    const name = c.custom ?? '';
    if (name.startsWith('Flex')) {
      for (const f of flexFindings(name, flex.get(i)))
        if (!out.some((o) => o.detail === f.detail)) out.push(f);
      continue;
    }
    if (seen.has(name) || RESOLVER_CUSTOM_OPS.has(name)) continue;
    seen.add(name);
    out.push({
      rule: 'tflite-custom-op',
      severity: 'suspicious',
      detail: `custom operator ${JSON.stringify(name)} runs native code the serving process registers under that name (not a TFLite builtin kernel); convert the model with builtin operators only, or review the kernel the runtime links`,
    });
  }
  return out;
}

/** FlexBuffer types (flexbuffers.h) of the two elements the Flex delegate reads. */
const FBT_KEY = 4;
const FBT_STRING = 5;
const FBT_VECTOR = 10;
const FBT_BLOB = 25;

/**
 * The [op name, NodeDef] vector of a Flex operator's custom options (a FlexBuffer whose root is an
 * untyped vector of two strings), or why it is not one. Every read is bounds-checked.
 */
export function decodeFlexOptions(b: Uint8Array): { name: string; nodeDef: Uint8Array } | string {
  const n = b.length;
  if (n < 3) return 'options too short for a FlexBuffer';
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const uint = (at: number, w: number): number => {
    if (at < 0 || at + w > n) throw new RangeError(`read at ${at} outside the ${n}-byte options`);
    return w === 1
      ? dv.getUint8(at)
      : w === 2
        ? dv.getUint16(at, true)
        : w === 4
          ? dv.getUint32(at, true)
          : Number(dv.getBigUint64(at, true));
  };
  try {
    const rootWidth = uint(n - 1, 1);
    if (![1, 2, 4, 8].includes(rootWidth)) return `root width ${rootWidth}`;
    const rootPacked = uint(n - 2, 1);
    const rootAt = n - 2 - rootWidth;
    if (rootPacked >> 2 !== FBT_VECTOR) return `the root is FlexBuffer type ${rootPacked >> 2}, not a vector`;
    const vec = rootAt - uint(rootAt, rootWidth);
    const w = 1 << (rootPacked & 3);
    const count = uint(vec - w, w);
    if (count < 2) return `a vector of ${count} elements, not [op name, NodeDef]`;
    const element = (i: number): Uint8Array | undefined => {
      const packed = uint(vec + count * w + i, 1);
      const type = packed >> 2;
      if (type !== FBT_STRING && type !== FBT_BLOB && type !== FBT_KEY) return undefined;
      const at = vec + i * w;
      const target = at - uint(at, w);
      if (type === FBT_KEY) {
        const end = b.indexOf(0, target);
        return end < 0 ? undefined : b.subarray(target, end);
      }
      const ew = 1 << (packed & 3);
      const len = uint(target - ew, ew);
      if (target < 0 || target + len > n) throw new RangeError('string outside the options');
      return b.subarray(target, target + len);
    };
    const name = element(0);
    const nodeDef = element(1);
    if (name === undefined || nodeDef === undefined) return 'its elements are not strings';
    return { name: new TextDecoder('utf-8', { fatal: false }).decode(name), nodeDef };
  } catch (e) {
    if (e instanceof RangeError) return e.message;
    throw e;
  }
}

/** Operator fields (schema.fbs Operator): opcode_index, custom_options, large_custom_options_offset/size. */
async function flexOptions(
  r: FlatReader,
  model: (f: number) => number | undefined,
  codes: readonly OpCode[],
  size: number,
): Promise<FlexOptions> {
  const out: FlexOptions = new Map();
  const flexCodes = new Set(
    codes.flatMap((c, i) => (c.builtin === CUSTOM && c.custom?.startsWith('Flex') ? [i] : [])),
  );
  const sg = model(2);
  if (flexCodes.size === 0 || sg === undefined) return out;
  const subgraphs = await r.vector(await r.deref(sg));
  for (let s = 0; s < subgraphs.n; s++) {
    const g = await r.table(await r.deref(subgraphs.first + 4 * s));
    const opsAt = g(3);
    if (opsAt === undefined) continue;
    const ops = await r.vector(await r.deref(opsAt));
    for (let i = 0; i < ops.n; i++) {
      const op = await r.table(await r.deref(ops.first + 4 * i));
      const idxAt = op(0);
      const idx = idxAt === undefined ? 0 : await r.int(idxAt, 4, false);
      if (!flexCodes.has(idx)) continue;
      let bytes: Uint8Array | undefined;
      const co = op(5);
      const largeAt = op(9);
      const largeSize = op(10);
      if (largeAt !== undefined && largeSize !== undefined) {
        const off = await r.int(largeAt, 8, false);
        const len = await r.int(largeSize, 8, false);
        if (off + len > size || len > 1 << 24)
          throw new TfliteError(`operator ${i}: large custom options outside the file`);
        bytes = await r.raw(off, len);
      } else if (co !== undefined) {
        const v = await r.vector(await r.deref(co));
        bytes = await r.raw(v.first, v.n);
      }
      const list = out.get(idx) ?? [];
      list.push(bytes === undefined ? 'no custom options' : decodeFlexOptions(bytes));
      out.set(idx, list);
    }
  }
  return out;
}

export async function scanTflite(src: ByteSource, _ctx: ScanContext): Promise<Finding[]> {
  const r = new FlatReader(src);
  try {
    const model = await r.table(await r.deref(0));
    const codes = await operatorCodes(r, model);
    await checkBuffers(r, model, src.size);
    return opCodeFindings(codes, await flexOptions(r, model, codes, src.size));
  } catch (e) {
    if (!(e instanceof TfliteError) && !(e instanceof RangeError)) throw e;
    return [
      {
        rule: 'tflite-malformed',
        severity: 'rejected',
        detail: `the TFLite FlatBuffer does not parse: ${e.message}; re-export the model (a truncated or crafted file cannot be judged)`,
      },
    ];
  }
}
