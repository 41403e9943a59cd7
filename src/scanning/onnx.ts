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
/**
 * Operator domains onnxruntime implements itself (or that are ONNX's own). A node of any other domain
 * that no function of the model defines runs a custom operator from a library the serving process
 * loads — native code the file does not carry.
 */
const KNOWN_DOMAINS = new Set([
  '',
  'ai.onnx',
  'ai.onnx.ml',
  'ai.onnx.training',
  'ai.onnx.preview.training',
  'com.microsoft',
  'com.microsoft.nchwc',
  'com.microsoft.experimental',
  'com.microsoft.dml',
  'com.ms.internal.nhwc',
  'org.pytorch.aten',
  'ai.onnx.contrib',
]);
/** Custom operators that call back into Python (onnxruntime-extensions PyOp and the like). */
const PYTHON_OPS = /^(py_?op|py_?func|python_?op|pyfunction)$/i;
const utf8 = new TextDecoder();

export async function scanOnnx(src: ByteSource, ctx: ScanContext): Promise<Finding[]> {
  const findings: Finding[] = [];
  const r = new CachedReader(src);
  let fields = 0;
  const nodes: { domain: string; op: string; offset: number }[] = [];
  const localFunctions = new Set<string>();
  const walk = async (kind: Kind, start: number, end: number, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH) throw new WireError('messages nested too deeply');
    let key: string | undefined;
    let value: string | undefined;
    let domain = '';
    let op = '';
    let fnName = '';
    await readFieldsAt(r, start, end, async (f) => {
      if ((++fields & 0xfff) === 0) ctx.checkTime();
      if (kind === 'entry' && f.wireType === 2 && (f.field === 1 || f.field === 2) && f.length < 65536) {
        const s = utf8.decode(await r.bytes(f.start, f.length));
        if (f.field === 1) key = s;
        else value = s;
        return;
      }
      // NodeProto op_type (4) and domain (7); FunctionProto name (1) and domain (10): the last one given counts
      if (kind === 'node' && f.wireType === 2 && (f.field === 4 || f.field === 7) && f.length < 4096) {
        const s = utf8.decode(await r.bytes(f.start, f.length));
        if (f.field === 4) op = s;
        else domain = s;
        return;
      }
      if (kind === 'function' && f.wireType === 2 && (f.field === 1 || f.field === 10) && f.length < 4096) {
        const s = utf8.decode(await r.bytes(f.start, f.length));
        if (f.field === 1) fnName = s;
        else domain = s;
      }
      const child = CHILDREN[kind][f.field];
      if (child !== undefined && f.wireType === 2) await walk(child, f.start, f.start + f.length, depth + 1);
    });
    if (kind === 'node') nodes.push({ domain, op, offset: start });
    if (kind === 'function') localFunctions.add(`${domain}\0${fnName}`);
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
    const reported = new Set<string>();
    for (const n of nodes) {
      const id = `${n.domain}\0${n.op}`;
      if (localFunctions.has(id) || reported.has(id)) continue;
      if (PYTHON_OPS.test(n.op)) {
        reported.add(id);
        findings.push({
          rule: 'onnx-python-op',
          severity: 'dangerous',
          detail: `node op ${JSON.stringify(n.op)} (domain ${JSON.stringify(n.domain)}) is a custom operator that calls Python code in the serving process`,
          offset: n.offset,
        });
      } else if (!KNOWN_DOMAINS.has(n.domain)) {
        reported.add(id);
        findings.push({
          rule: 'onnx-custom-op',
          severity: 'suspicious',
          detail: `node op ${JSON.stringify(n.op)} of domain ${JSON.stringify(n.domain)} is neither an ONNX or onnxruntime operator nor a function of the model: it runs native code from a custom-op library the serving process loads; review that library`,
          offset: n.offset,
        });
      }
    }
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
