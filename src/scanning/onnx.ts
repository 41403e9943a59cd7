// ONNX: tensors may keep their bytes in "external data" files named by a path inside the model. An
// absolute path or one with `..` makes the runtime read any file on the node (path traversal).
// Schema: https://github.com/onnx/onnx/blob/main/onnx/onnx.proto (field numbers below).
import { readFieldsAt, WireError } from './protobuf.ts';
import { CachedReader, type ByteSource } from './source.ts';
import type { Finding, ScanContext } from './types.ts';
import { isTraversalName } from './zip.ts';

type Kind =
  'model' | 'training' | 'graph' | 'function' | 'node' | 'attribute' | 'tensor' | 'sparse' | 'entry';
/** field number -> message kind, per message kind; fields not listed are skipped unread. */
const CHILDREN: Record<Kind, Record<number, Kind>> = {
  // graph, training_info (TrainingInfoProto: initialization and algorithm graphs), functions
  model: { 7: 'graph', 20: 'training', 25: 'function' },
  training: { 1: 'graph', 2: 'graph' },
  graph: { 1: 'node', 5: 'tensor', 15: 'sparse' },
  // nodes, and attribute_proto (defaults of the function's attributes)
  function: { 7: 'node', 11: 'attribute' },
  node: { 5: 'attribute' },
  attribute: { 5: 'tensor', 6: 'graph', 10: 'tensor', 11: 'graph', 22: 'sparse', 23: 'sparse' },
  sparse: { 1: 'tensor', 2: 'tensor' },
  tensor: { 13: 'entry' },
  entry: {},
};
const MAX_DEPTH = 32;
const utf8 = new TextDecoder();

export async function scanOnnx(src: ByteSource, ctx: ScanContext): Promise<Finding[]> {
  const findings: Finding[] = [];
  const r = new CachedReader(src);
  let fields = 0;
  const walk = async (kind: Kind, start: number, end: number, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH) throw new WireError('messages nested too deeply');
    let key: string | undefined;
    let value: string | undefined;
    await readFieldsAt(r, start, end, async (f) => {
      if ((++fields & 0xfff) === 0) ctx.checkTime();
      if (kind === 'entry' && f.wireType === 2 && (f.field === 1 || f.field === 2) && f.length < 65536) {
        const s = utf8.decode(await r.bytes(f.start, f.length));
        if (f.field === 1) key = s;
        else value = s;
        return;
      }
      const child = CHILDREN[kind][f.field];
      if (child !== undefined && f.wireType === 2) await walk(child, f.start, f.start + f.length, depth + 1);
    });
    if (kind === 'entry' && key === 'location' && value !== undefined && isTraversalName(value)) {
      findings.push({
        rule: 'onnx-external-data-traversal',
        severity: 'dangerous',
        detail: `a tensor's external data location ${JSON.stringify(value)} leaves the model directory; loading reads that file from the node`,
        offset: start,
      });
    }
  };
  try {
    await walk('model', 0, src.size, 0);
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    findings.push({
      rule: 'onnx-malformed',
      severity: 'rejected',
      detail: `not a valid ONNX protobuf: ${e.message}`,
    });
  }
  return findings;
}
