// safetensors: validate the header exactly as the reference reader (safetensors/src/tensor.rs) does,
// reading only the 8-byte length and the JSON header, never the tensor bytes. Error names in findings
// are the reference reader's SafeTensorError variants.
//
// Rule chosen for whitespace: like the Rust reader (serde_json), JSON whitespace before and after the
// header object is accepted, although the format README says the header starts with '{'.
import { isObject, JsonError, parseJsonStrict, type Json } from './json.ts';
import type { ByteSource } from './source.ts';
import type { Finding, ScanContext } from './types.ts';

const MAX_HEADER = 100_000_000n;
const U64_MAX = (1n << 64n) - 1n;

/** Bits per element of every dtype the reference reader knows. */
const DTYPE_BITS: Record<string, bigint> = {
  BOOL: 8n,
  F4: 4n,
  F6_E2M3: 6n,
  F6_E3M2: 6n,
  U8: 8n,
  I8: 8n,
  F8_E5M2: 8n,
  F8_E4M3: 8n,
  F8_E8M0: 8n,
  I16: 16n,
  U16: 16n,
  F16: 16n,
  BF16: 16n,
  I32: 32n,
  U32: 32n,
  F32: 32n,
  C64: 64n,
  F64: 64n,
  I64: 64n,
  U64: 64n,
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

function reject(variant: string, detail: string, offset?: number): Finding {
  return {
    rule: `safetensors-${variant}`,
    severity: 'rejected',
    detail: `${variant}: ${detail}`,
    ...(offset === undefined ? {} : { offset }),
  };
}

interface TensorInfo {
  name: string;
  bits: bigint;
  shape: bigint[];
  begin: bigint;
  end: bigint;
}

/** Validate a header (the bytes after the 8-byte length) for a file of `fileSize` bytes. */
export function validateSafetensorsHeader(
  header: Uint8Array,
  headerLen: bigint,
  fileSize: number,
): Finding[] {
  let text: string;
  try {
    text = utf8.decode(header);
  } catch {
    return [reject('InvalidHeader', 'header is not valid UTF-8', 8)];
  }
  let json: Json;
  try {
    json = parseJsonStrict(text, 64);
  } catch (e) {
    return [
      reject(
        'InvalidHeaderDeserialization',
        `header is not a JSON object (${e instanceof JsonError ? e.message : 'parse error'})`,
        8,
      ),
    ];
  }
  if (!isObject(json)) return [reject('InvalidHeaderDeserialization', 'header is not a JSON object', 8)];
  const tensors: TensorInfo[] = [];
  for (const [name, v] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (!isObject(v) || !Object.values(v).every((x) => typeof x === 'string')) {
        return [reject('InvalidHeaderDeserialization', '__metadata__ must map strings to strings', 8)];
      }
      continue;
    }
    if (!isObject(v))
      return [reject('InvalidHeaderDeserialization', `tensor ${JSON.stringify(name)} is not an object`, 8)];
    const { dtype, shape, data_offsets: offsets } = v;
    const bits = typeof dtype === 'string' ? DTYPE_BITS[dtype] : undefined;
    if (bits === undefined)
      return [
        reject(
          'InvalidHeaderDeserialization',
          `tensor ${JSON.stringify(name)} has unknown dtype ${JSON.stringify(dtype)}`,
          8,
        ),
      ];
    if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'bigint' && d >= 0n && d <= U64_MAX)) {
      return [
        reject(
          'InvalidHeaderDeserialization',
          `tensor ${JSON.stringify(name)} shape must be a list of unsigned integers`,
          8,
        ),
      ];
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((d) => typeof d === 'bigint' && d >= 0n && d <= U64_MAX)
    ) {
      return [
        reject(
          'InvalidHeaderDeserialization',
          `tensor ${JSON.stringify(name)} data_offsets must be two unsigned integers`,
          8,
        ),
      ];
    }
    tensors.push({
      name,
      bits,
      shape: shape as bigint[],
      begin: offsets[0] as bigint,
      end: offsets[1] as bigint,
    });
  }
  tensors.sort((a, b) =>
    a.begin < b.begin ? -1 : a.begin > b.begin ? 1 : a.end < b.end ? -1 : a.end > b.end ? 1 : 0,
  );
  let start = 0n;
  for (const t of tensors) {
    if (t.begin !== start || t.end < t.begin) {
      return [
        reject(
          'InvalidOffset',
          `tensor ${JSON.stringify(t.name)} data_offsets [${t.begin}, ${t.end}] do not start where the previous tensor ended (${start}); tensors must be contiguous and must not overlap`,
          8,
        ),
      ];
    }
    start = t.end;
    let n = 1n;
    for (const d of t.shape) {
      n *= d;
      if (n > U64_MAX)
        return [
          reject('ValidationOverflow', `tensor ${JSON.stringify(t.name)} shape product overflows 64 bits`, 8),
        ];
    }
    const nbits = n * t.bits;
    if (nbits > U64_MAX)
      return [
        reject('ValidationOverflow', `tensor ${JSON.stringify(t.name)} size in bits overflows 64 bits`, 8),
      ];
    if (nbits % 8n !== 0n)
      return [reject('MisalignedSlice', `tensor ${JSON.stringify(t.name)} does not fill whole bytes`, 8)];
    if (t.end - t.begin !== nbits / 8n) {
      return [
        reject(
          'TensorInvalidInfo',
          `tensor ${JSON.stringify(t.name)} needs ${nbits / 8n} bytes for its dtype and shape but data_offsets give ${t.end - t.begin}`,
          8,
        ),
      ];
    }
  }
  const expected = 8n + headerLen + start;
  if (expected !== BigInt(fileSize)) {
    return [
      reject(
        'MetadataIncompleteBuffer',
        expected > BigInt(fileSize)
          ? `tensors need ${expected} bytes but the file has ${fileSize}`
          : `${BigInt(fileSize) - expected} bytes follow the last tensor (data hidden after the tensors: a polyglot)`,
        Number(expected > BigInt(fileSize) ? BigInt(fileSize) : expected),
      ),
    ];
  }
  return [];
}

export async function scanSafetensors(src: ByteSource, ctx: ScanContext): Promise<Finding[]> {
  if (src.size < 8)
    return [reject('HeaderTooSmall', `file has ${src.size} bytes, fewer than the 8-byte header length`)];
  const lenBytes = await src.read(0, 8);
  const n = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true);
  const cap = BigInt(Math.min(ctx.limits.maxHeaderBytes, Number(MAX_HEADER)));
  if (n > cap) return [reject('HeaderTooLarge', `header length ${n} exceeds ${cap}`, 0)];
  if (8n + n > BigInt(src.size))
    return [
      reject('InvalidHeaderLength', `header length ${n} runs past the end of the ${src.size}-byte file`, 0),
    ];
  ctx.chargeRead(Number(n));
  const header = await src.read(8, Number(n));
  return validateSafetensorsHeader(header, n, src.size);
}
