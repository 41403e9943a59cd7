// Which protobuf a magic-less file is, decided by its content: the top-level fields of an ONNX
// ModelProto, a TensorFlow SavedModel and a GraphDef have different numbers and wire types, so the
// field layout tells them apart whatever the file is called (a PyFunc graph named .onnx or model.bin
// is still a TensorFlow graph). Only the top level is read, by range.
import { readFieldsAt, WireError, type WireField } from './protobuf.ts';
import { CachedReader, type ByteSource } from './source.ts';

export type ProtobufKind = 'onnx' | 'tf-savedmodel' | 'tf-graphdef' | 'tf-fingerprint';

/** field number -> wire type, per message kind (onnx.proto ModelProto, saved_model.proto, graph.proto). */
const ONNX: Record<number, number> = {
  1: 0,
  2: 2,
  3: 2,
  4: 2,
  5: 0,
  6: 2,
  7: 2,
  8: 2,
  14: 2,
  20: 2,
  25: 2,
  26: 2,
};
const SAVED_MODEL: Record<number, number> = { 1: 0, 2: 2 };
const GRAPH_DEF: Record<number, number> = { 1: 2, 2: 2, 3: 0, 4: 2, 5: 2 };
/**
 * fingerprint.proto FingerprintDef, the `fingerprint.pb` of every SavedModel since TensorFlow 2.12: five
 * uint64 hashes, a VersionDef and a uuid string. Data only.
 */
const FINGERPRINT: Record<number, number> = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 2, 7: 2 };
/** Enough top-level fields to tell the kinds apart; a huge graph is classified by its first ones. */
const MAX_TOP_FIELDS = 10_000;
class Enough extends Error {}

function fits(fields: WireField[], schema: Record<number, number>): boolean {
  return fields.every((f) => schema[f.field] === f.wireType || f.wireType === 3);
}

/** Does a NodeDef-shaped message (field 2 a UTF-8 op name) sit at `f`? */
async function looksLikeNode(r: CachedReader, f: WireField): Promise<boolean> {
  if (f.length > 1 << 20) return false;
  let op = false;
  let ok = true;
  try {
    await readFieldsAt(r, f.start, f.start + f.length, async (g) => {
      if (g.field === 2 && g.wireType === 2 && g.length > 0 && g.length < 256) {
        const s = await r.bytes(g.start, g.length);
        op ||= /^[A-Za-z_][A-Za-z0-9_>.]*$/.test(new TextDecoder().decode(s));
      } else if (g.field === 2 || (g.field <= 7 && g.wireType !== 2 && g.wireType !== 3)) ok = false;
    });
  } catch (e) {
    if (e instanceof WireError) return false;
    throw e;
  }
  return ok && op;
}

export async function protobufKind(src: ByteSource): Promise<ProtobufKind | undefined> {
  if (src.size < 2) return undefined;
  const r = new CachedReader(src);
  const fields: WireField[] = [];
  try {
    await readFieldsAt(r, 0, src.size, async (f) => {
      fields.push(f);
      if (fields.length >= MAX_TOP_FIELDS) throw new Enough();
    });
  } catch (e) {
    if (e instanceof WireError) return undefined;
    if (!(e instanceof Enough)) throw e;
  }
  const has = (n: number): boolean => fields.some((f) => f.field === n && f.wireType === 2);
  if (has(7) && fits(fields, ONNX)) return 'onnx';
  if (has(2) && fits(fields, SAVED_MODEL)) return 'tf-savedmodel';
  if (fields.some((f) => f.field <= 5 && f.wireType === 0) && fits(fields, FINGERPRINT))
    return 'tf-fingerprint';
  if (fits(fields, GRAPH_DEF)) {
    const node = fields.find((f) => f.field === 1);
    if (node !== undefined && (await looksLikeNode(r, node))) return 'tf-graphdef';
  }
  return undefined;
}
