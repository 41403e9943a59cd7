// Minimal protobuf wire-format reader (https://protobuf.dev/programming-guides/encoding/): enough to
// walk ONNX and TensorFlow messages by field number without their schemas or a protobuf library.
// Groups (wire types 3 and 4, deprecated but still parsed) are skipped as a whole the way protobuf
// parsers skip unknown fields, so an unknown group cannot make the reader give up on what follows.
import type { CachedReader } from './source.ts';

export interface WireField {
  field: number;
  /** 0 varint, 1 fixed64, 2 length-delimited, 3 group (its content skipped), 5 fixed32. */
  wireType: number;
  /** varint value for wire type 0 */
  value?: bigint;
  /** for wire types 2 and 3: absolute start and length of the payload */
  start: number;
  length: number;
}

export class WireError extends Error {}

const MAX_GROUP_DEPTH = 64;

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

/** One field at `pos` (in memory). Returns the field and the position after it. */
function fieldAt(
  b: Uint8Array,
  pos: number,
  end: number,
  depth: number,
): [WireField | 'end-group', number, number] {
  const [tag, p1] = varintAt(b, pos, end);
  const field = Number(tag >> 3n);
  const wireType = Number(tag & 7n);
  if (field === 0) throw new WireError('field number 0');
  switch (wireType) {
    case 0: {
      const [v, p2] = varintAt(b, p1, end);
      return [{ field, wireType, value: v, start: p1, length: p2 - p1 }, p2, field];
    }
    case 1:
    case 5: {
      const n = wireType === 1 ? 8 : 4;
      if (p1 + n > end) throw new WireError('truncated fixed field');
      return [{ field, wireType, start: p1, length: n }, p1 + n, field];
    }
    case 2: {
      const [len, p2] = varintAt(b, p1, end);
      if (BigInt(p2) + len > BigInt(end)) throw new WireError('length-delimited field runs past its message');
      return [{ field, wireType, start: p2, length: Number(len) }, p2 + Number(len), field];
    }
    case 3: {
      if (depth > MAX_GROUP_DEPTH) throw new WireError('groups nested too deeply');
      let p = p1;
      for (;;) {
        if (p >= end) throw new WireError(`group ${field} has no end`);
        const [f, next, num] = fieldAt(b, p, end, depth + 1);
        if (f === 'end-group') {
          if (num !== field) throw new WireError(`group ${field} closed by end of group ${num}`);
          return [{ field, wireType: 3, start: p1, length: p - p1 }, next, field];
        }
        p = next;
      }
    }
    case 4:
      return ['end-group', p1, field];
    default:
      throw new WireError(`unsupported wire type ${wireType}`);
  }
}

/** Parse one message's fields from an in-memory buffer. Throws WireError on malformed input. */
export function readFields(b: Uint8Array, start = 0, end = b.length): WireField[] {
  const out: WireField[] = [];
  let pos = start;
  while (pos < end) {
    const [f, next] = fieldAt(b, pos, end, 0);
    if (f === 'end-group') throw new WireError('end of a group that was never started');
    out.push(f);
    pos = next;
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
  const groups: { field: number; start: number }[] = [];
  while (pos < end) {
    const head = await r.bytes(pos, Math.min(20, end - pos));
    const [tag, p1] = varintAt(head, 0, head.length);
    const field = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    if (field === 0) throw new WireError('field number 0');
    let q = p1;
    let f: WireField | undefined;
    if (wireType === 0) {
      const [v, p2] = varintAt(head, q, head.length);
      f = { field, wireType, value: v, start: pos + q, length: p2 - q };
      q = p2;
    } else if (wireType === 1 || wireType === 5) {
      const n = wireType === 1 ? 8 : 4;
      if (pos + q + n > end) throw new WireError('truncated fixed field');
      f = { field, wireType, start: pos + q, length: n };
      q += n;
    } else if (wireType === 2) {
      const [len, p2] = varintAt(head, q, head.length);
      const payload = pos + p2;
      if (BigInt(payload) + len > BigInt(end))
        throw new WireError('length-delimited field runs past its message');
      f = { field, wireType, start: payload, length: Number(len) };
      q = p2 + Number(len);
    } else if (wireType === 3) {
      if (groups.length >= MAX_GROUP_DEPTH) throw new WireError('groups nested too deeply');
      groups.push({ field, start: pos + q });
    } else if (wireType === 4) {
      const open = groups.pop();
      if (open === undefined || open.field !== field)
        throw new WireError(`end of group ${field} that was never started`);
      if (groups.length === 0)
        await onField({ field, wireType: 3, start: open.start, length: pos - open.start });
    } else {
      throw new WireError(`unsupported wire type ${wireType}`);
    }
    // fields inside a group are part of the skipped group
    if (f !== undefined && groups.length === 0) await onField(f);
    pos += q;
  }
  if (groups.length > 0) throw new WireError(`group ${groups[groups.length - 1]?.field} has no end`);
}
