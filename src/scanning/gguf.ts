// GGUF (llama.cpp): header, key/value metadata and tensor table, all bounds-checked. The chat
// templates (`tokenizer.chat_template`, `tokenizer.chat_template.<name>`) are Jinja run by the
// serving stack, judged by chat-template.ts on their syntax tree (CVE-2024-34359 in llama-cpp-python).
// https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
import { chatTemplateFindings } from './chat-template.ts';
import type { ByteSource } from './source.ts';
import { LimitExceeded, type Finding, type ScanContext } from './types.ts';

class Truncated extends Error {}
class Bad extends Error {}

/** ggml type -> [block size in elements, bytes per block]; unknown types are rejected. */
const GGML_TYPES: Record<number, [number, number]> = {
  0: [1, 4],
  1: [1, 2],
  2: [32, 18],
  3: [32, 20],
  6: [32, 22],
  7: [32, 24],
  8: [32, 34],
  9: [32, 36],
  10: [256, 84],
  11: [256, 110],
  12: [256, 144],
  13: [256, 176],
  14: [256, 210],
  15: [256, 292],
  16: [256, 66],
  17: [256, 74],
  18: [256, 98],
  19: [256, 50],
  20: [32, 18],
  21: [256, 110],
  22: [256, 82],
  23: [256, 136],
  24: [1, 1],
  25: [1, 2],
  26: [1, 4],
  27: [1, 8],
  28: [1, 8],
  29: [256, 56],
  30: [1, 2],
  34: [256, 54],
  35: [256, 66],
  39: [32, 17],
};

const MAX_STRING = 64 * 1024 * 1024;
const MAX_COUNT = 100_000_000;

interface GgufSummary {
  findings: Finding[];
}

/** Parse header, KVs and tensor infos from `b` (a prefix of the file when `partial`). */
export function parseGguf(
  b: Uint8Array,
  fileSize: number,
  partial: boolean,
  tick: () => void = () => undefined,
): GgufSummary {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const findings: Finding[] = [];
  let pos = 0;
  const need = (n: number): number => {
    if (pos + n > b.length) {
      if (partial) throw new Truncated();
      throw new Bad(`truncated at offset ${pos}: ${n} more bytes needed`);
    }
    const p = pos;
    pos += n;
    return p;
  };
  const u32 = (): number => v.getUint32(need(4), true);
  const u64 = (): number => {
    const x = v.getBigUint64(need(8), true);
    if (x > BigInt(Number.MAX_SAFE_INTEGER))
      throw new Bad(`64-bit value ${x} out of range at offset ${pos - 8}`);
    return Number(x);
  };
  const str = (): string => {
    const n = u64();
    if (n > MAX_STRING) throw new Bad(`string of ${n} bytes at offset ${pos - 8}`);
    const p = need(n);
    return new TextDecoder().decode(b.subarray(p, p + n));
  };
  const SCALAR: Record<number, number> = {
    0: 1,
    1: 1,
    2: 2,
    3: 2,
    4: 4,
    5: 4,
    6: 4,
    7: 1,
    10: 8,
    11: 8,
    12: 8,
  };
  const value = (type: number, depth: number): string | undefined => {
    const size = SCALAR[type];
    if (size !== undefined) {
      const p = need(size);
      return type === 4 ? String(v.getUint32(p, true)) : undefined;
    }
    if (type === 8) return str();
    if (type === 9) {
      if (depth > 2) throw new Bad('arrays nested too deeply');
      const et = u32();
      const count = u64();
      if (count > MAX_COUNT) throw new Bad(`array of ${count} elements`);
      const es = SCALAR[et];
      if (es !== undefined) need(es * count);
      else
        for (let i = 0; i < count; i++) {
          if ((i & 0xffff) === 0xffff) tick();
          value(et, depth + 1);
        }
      return undefined;
    }
    throw new Bad(`unknown metadata value type ${type}`);
  };

  if (u32() !== 0x46554747) throw new Bad('bad magic');
  const version = u32();
  if (version < 1 || version > 3) throw new Bad(`unsupported GGUF version ${version}`);
  if (version === 1) throw new Bad('GGUF version 1 (32-bit counts) is not supported');
  const tensorCount = u64();
  const kvCount = u64();
  if (tensorCount > MAX_COUNT || kvCount > MAX_COUNT)
    throw new Bad(`implausible counts: ${tensorCount} tensors, ${kvCount} keys`);
  let alignment = 32;
  for (let i = 0; i < kvCount; i++) {
    const key = str();
    const type = u32();
    const at = pos;
    const val = value(type, 0);
    if (key === 'general.alignment' && val !== undefined) alignment = Number(val);
    if (key.startsWith('tokenizer.chat_template') && type === 8 && val !== undefined)
      findings.push(...chatTemplateFindings(val, `metadata ${key}`, at));
  }
  if (alignment <= 0 || alignment % 8 !== 0)
    throw new Bad(`general.alignment ${alignment} is not a positive multiple of 8`);
  const tensors: { name: string; offset: number; bytes: number }[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = str();
    const nDims = u32();
    if (nDims > 8) throw new Bad(`tensor ${name} has ${nDims} dimensions`);
    let elements = 1;
    for (let d = 0; d < nDims; d++) {
      elements *= u64();
      if (!Number.isSafeInteger(elements)) throw new Bad(`tensor ${name} element count overflows`);
    }
    const type = u32();
    const offset = u64();
    const info = GGML_TYPES[type];
    if (info === undefined) throw new Bad(`tensor ${name} has unknown ggml type ${type}`);
    if (elements % info[0] !== 0)
      throw new Bad(`tensor ${name}: ${elements} elements is not a whole number of blocks`);
    if (offset % alignment !== 0)
      throw new Bad(`tensor ${name} offset ${offset} is not aligned to ${alignment}`);
    tensors.push({ name, offset, bytes: (elements / info[0]) * info[1] });
  }
  const dataStart = Math.ceil(pos / alignment) * alignment;
  tensors.sort((a, b2) => a.offset - b2.offset);
  let end = 0;
  for (const t of tensors) {
    if (t.offset < end) throw new Bad(`tensor ${t.name} overlaps the previous tensor`);
    end = t.offset + t.bytes;
    if (dataStart + end > fileSize) throw new Bad(`tensor ${t.name} data runs past the end of the file`);
  }
  return { findings };
}

export async function scanGguf(src: ByteSource, ctx: ScanContext): Promise<Finding[]> {
  const max = Math.min(ctx.limits.maxHeaderBytes * 4, src.size);
  let window = Math.min(src.size, 4 * 1024 * 1024);
  for (;;) {
    ctx.chargeRead(window);
    const b = await src.read(0, window);
    try {
      return parseGguf(b, src.size, window < src.size, () => ctx.checkTime()).findings;
    } catch (e) {
      if (e instanceof Bad) return [{ rule: 'gguf-malformed', severity: 'rejected', detail: e.message }];
      if (!(e instanceof Truncated)) throw e;
      if (window >= max) throw new LimitExceeded('maxHeaderBytes', `GGUF metadata longer than ${max} bytes`);
      window = Math.min(max, window * 4);
    }
  }
}
