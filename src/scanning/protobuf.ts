// Minimal protobuf wire-format reader (https://protobuf.dev/programming-guides/encoding/): enough to
// walk ONNX and TensorFlow messages by field number without their schemas or a protobuf library.
import type { CachedReader } from './source.ts';

export interface WireField {
  field: number;
  wireType: number;
  /** varint / fixed value (as bigint) for wire types 0, 1, 5 */
  value?: bigint;
  /** for wire type 2: absolute start and length of the payload */
  start: number;
  length: number;
}

export class WireError extends Error {}

function varintAt(b: Uint8Array, pos: number, end: number): [bigint, number] {
  let v = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new WireError('truncated varint');
    const c = b[pos++] ?? 0;
    v |= BigInt(c & 0x7f) << shift;
    if ((c & 0x80) === 0) return [v, pos];
    shift += 7n;
  }
  throw new WireError('varint longer than 10 bytes');
}

/** Parse one message's fields from an in-memory buffer. Throws WireError on malformed input. */
export function readFields(b: Uint8Array, start = 0, end = b.length): WireField[] {
  const out: WireField[] = [];
  let pos = start;
  while (pos < end) {
    const [tag, p1] = varintAt(b, pos, end);
    pos = p1;
    const field = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    if (field === 0) throw new WireError('field number 0');
    if (wireType === 0) {
      const [v, p2] = varintAt(b, pos, end);
      out.push({ field, wireType, value: v, start: pos, length: p2 - pos });
      pos = p2;
    } else if (wireType === 1 || wireType === 5) {
      const n = wireType === 1 ? 8 : 4;
      if (pos + n > end) throw new WireError('truncated fixed field');
      out.push({ field, wireType, start: pos, length: n });
      pos += n;
    } else if (wireType === 2) {
      const [len, p2] = varintAt(b, pos, end);
      if (BigInt(p2) + len > BigInt(end)) throw new WireError('length-delimited field runs past its message');
      out.push({ field, wireType, start: p2, length: Number(len) });
      pos = p2 + Number(len);
    } else {
      throw new WireError(`unsupported wire type ${wireType}`);
    }
  }
  return out;
}

/** The same walk over a file through range reads: payloads are located, not loaded. */
export async function readFieldsAt(
  r: CachedReader,
  start: number,
  end: number,
  onField: (f: WireField) => Promise<void>,
): Promise<void> {
  let pos = start;
  while (pos < end) {
    const head = await r.bytes(pos, Math.min(20, end - pos));
    const [tag, p1] = varintAt(head, 0, head.length);
    const field = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    if (field === 0) throw new WireError('field number 0');
    let q = p1;
    if (wireType === 0) {
      const [v, p2] = varintAt(head, q, head.length);
      await onField({ field, wireType, value: v, start: pos + q, length: p2 - q });
      q = p2;
    } else if (wireType === 1 || wireType === 5) {
      const n = wireType === 1 ? 8 : 4;
      if (pos + q + n > end) throw new WireError('truncated fixed field');
      await onField({ field, wireType, start: pos + q, length: n });
      q += n;
    } else if (wireType === 2) {
      const [len, p2] = varintAt(head, q, head.length);
      const payload = pos + p2;
      if (BigInt(payload) + len > BigInt(end))
        throw new WireError('length-delimited field runs past its message');
      await onField({ field, wireType, start: payload, length: Number(len) });
      q = p2 + Number(len);
    } else {
      throw new WireError(`unsupported wire type ${wireType}`);
    }
    pos += q;
  }
}
