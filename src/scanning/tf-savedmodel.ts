// TensorFlow SavedModel / GraphDef protobufs, binary (saved_model.pb, frozen graphs) and text format
// (saved_model.pbtxt): PyFunc-family ops call back into Python code the loading process has
// registered; file ops read or write the node's filesystem. Messages are walked by their schema
// (tensorflow/core/protobuf/saved_model.proto, meta_graph.proto, framework/graph.proto, node_def.proto,
// function.proto), the way protobuf reads them: a NodeDef's `op` is the last one given, repeated
// messages accumulate, unknown fields and groups are skipped.
import { isObject, JsonError, parsePythonJson } from './json.ts';
import { kerasConfigFindings } from './keras.ts';
import { parseTextProto, TextProtoError, type TextMessage } from './pbtxt.ts';
import { readFields, WireError, type WireField } from './protobuf.ts';
import type { ByteSource } from './source.ts';
import type { Finding, ScanContext } from './types.ts';

const PYTHON_OPS = new Set(['PyFunc', 'PyFuncStateless', 'EagerPyFunc']);
/**
 * Ops that read or write files named by their inputs or attributes. The saver ops every SavedModel
 * carries (SaveV2, RestoreV2, MergeV2Checkpoints, ShardedFilename) are not listed: they only touch the
 * model's own variables directory, under names the serving runtime builds.
 */
const FILE_OPS = new Set([
  'ReadFile',
  'WriteFile',
  'MatchingFiles',
  'ImmutableConst',
  // summary writers write event files to a directory given at run time
  'CreateSummaryFileWriter',
  'CreateSummaryDbWriter',
  'WriteSummary',
  'WriteScalarSummary',
  'WriteHistogramSummary',
  'WriteImageSummary',
  'WriteAudioSummary',
  'WriteGraphSummary',
  'WriteRawProtoSummary',
  'ImportEvent',
  // tf.data sources and sinks that read or write files
  'DatasetToTFRecord',
  'ExperimentalDatasetToTFRecord',
  'SaveDataset',
  'SaveDatasetV2',
  'LoadDataset',
  'SnapshotDataset',
  'SnapshotDatasetV2',
  'TextLineDataset',
  'TFRecordDataset',
  'TFRecordDatasetV2',
  'FixedLengthRecordDataset',
  'FixedLengthRecordDatasetV2',
  'SqlDataset',
  'ExperimentalSqlDataset',
  'LMDBDataset',
  'ExperimentalLMDBDataset',
  'CSVDataset',
  'CSVDatasetV2',
  'ExperimentalCSVDataset',
  // queue-based readers (TF1)
  'WholeFileReader',
  'WholeFileReaderV2',
  'TextLineReader',
  'TextLineReaderV2',
  'TFRecordReader',
  'TFRecordReaderV2',
  'FixedLengthRecordReader',
  'FixedLengthRecordReaderV2',
  'LMDBReader',
  // debugger ops dump tensors to the file:// URLs in their attributes
  'DebugIdentity',
  'DebugIdentityV2',
  'DebugIdentityV3',
  'DebugNanCount',
  'DebugNumericSummary',
  'DebugNumericSummaryV2',
  'LoadAndRemapMatrix',
]);
/** PrintV2 writes to stderr by default; an `output_stream` of `file://...` appends to that file. */
const PRINT_OPS = new Set(['PrintV2']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

export type TfKind = 'savedmodel' | 'graphdef';
type Msg = 'savedmodel' | 'metagraph' | 'graph' | 'library' | 'function' | 'node';
/** field number -> child message, per message: the paths on which NodeDefs live. */
const CHILDREN: Record<Msg, Record<number, Msg>> = {
  savedmodel: { 2: 'metagraph' },
  metagraph: { 2: 'graph' },
  graph: { 1: 'node', 2: 'library' },
  library: { 1: 'function' },
  function: { 3: 'node' },
  node: {},
};
/** The same paths by field name, for text format. */
const TEXT_CHILDREN: Record<Msg, Record<string, Msg>> = {
  savedmodel: { meta_graphs: 'metagraph' },
  metagraph: { graph_def: 'graph' },
  graph: { node: 'node', library: 'library' },
  library: { function: 'function' },
  function: { node_def: 'node' },
  node: {},
};

/** What running `op` does, for a TensorFlow node (also a TFLite Flex operator): a finding or undefined. */
export function tfOpFinding(
  nodeName: string | undefined,
  op: string,
  offset?: number,
  outputStream?: string,
): Finding | undefined {
  const at = offset === undefined ? {} : { offset };
  if (PRINT_OPS.has(op) && outputStream !== undefined && /^file:/i.test(outputStream.trim()))
    return {
      rule: 'tf-file-op',
      severity: 'suspicious',
      detail: `node ${JSON.stringify(nodeName ?? '')} uses op ${op} with output_stream ${JSON.stringify(outputStream)}, which appends to a file on the node`,
      ...at,
    };
  if (PYTHON_OPS.has(op))
    return {
      rule: 'tf-python-op',
      severity: 'dangerous',
      detail: `node ${JSON.stringify(nodeName ?? '')} uses op ${op}, which runs Python code in the serving process`,
      ...at,
    };
  if (FILE_OPS.has(op))
    return {
      rule: 'tf-file-op',
      severity: 'suspicious',
      detail: `node ${JSON.stringify(nodeName ?? '')} uses op ${op}, which touches the node's filesystem`,
      ...at,
    };
  return undefined;
}

function str(b: Uint8Array, f: WireField | undefined): string | undefined {
  if (f === undefined || f.wireType !== 2) return undefined;
  try {
    return utf8.decode(b.subarray(f.start, f.start + f.length));
  } catch {
    return '\ufffd';
  }
}

/** The string value (AttrValue.s) of a NodeDef attribute (field 5: map entries of key 1, AttrValue 2); the last entry wins. */
function binaryAttr(b: Uint8Array, nodeFields: WireField[], key: string): string | undefined {
  let found: string | undefined;
  for (const e of nodeFields) {
    if (e.field !== 5 || e.wireType !== 2) continue;
    const entry = readFields(b, e.start, e.start + e.length);
    const k = entry.filter((f) => f.field === 1 && f.wireType === 2).pop();
    const v = entry.filter((f) => f.field === 2 && f.wireType === 2).pop();
    if (k === undefined || v === undefined || str(b, k) !== key) continue;
    const s = readFields(b, v.start, v.start + v.length)
      .filter((f) => f.field === 2 && f.wireType === 2)
      .pop();
    found = str(b, s) ?? found;
  }
  return found;
}

/**
 * The op a serialised NodeDef runs (the TFLite Flex delegate builds its kernel from one) and what that
 * op does; throws WireError when the bytes are not a NodeDef.
 */
export function judgeNodeDef(b: Uint8Array): { op: string | undefined; finding: Finding | undefined } {
  const fields = readFields(b, 0, b.length);
  const last = (n: number): WireField | undefined =>
    fields.filter((f) => f.field === n && f.wireType === 2).pop();
  const op = str(b, last(2));
  const finding =
    op === undefined
      ? undefined
      : tfOpFinding(str(b, last(1)), op, undefined, binaryAttr(b, fields, 'output_stream'));
  return { op, finding };
}

/** Walk a binary SavedModel or GraphDef held in `b`; throws WireError when it does not parse. */
export function findGraphOps(b: Uint8Array, kind: TfKind, tick: () => void = () => undefined): Finding[] {
  const findings: Finding[] = [];
  let visits = 0;
  const visit = (msg: Msg, start: number, end: number, depth: number): void => {
    if (depth > 16) throw new WireError('messages nested too deeply');
    if ((++visits & 0xfff) === 0) tick();
    const fields = readFields(b, start, end);
    if (msg === 'node') {
      // protobuf keeps the last value of a non-repeated field; a wrong wire type makes it an unknown field
      const last = (n: number): WireField | undefined =>
        fields.filter((f) => f.field === n && f.wireType === 2).pop();
      const op = str(b, last(2));
      const f =
        op === undefined
          ? undefined
          : tfOpFinding(str(b, last(1)), op, start, binaryAttr(b, fields, 'output_stream'));
      if (f !== undefined) findings.push(f);
      return;
    }
    for (const f of fields) {
      const child = CHILDREN[msg][f.field];
      if (child !== undefined && f.wireType === 2) visit(child, f.start, f.start + f.length, depth + 1);
    }
  };
  visit(kind === 'savedmodel' ? 'savedmodel' : 'graph', 0, b.length, 0);
  return findings;
}

/** `attr { key: "k" value { s: "..." } }` in text format. */
function textAttr(entry: TextMessage, key: string): string | undefined {
  let k: string | undefined;
  let s: string | undefined;
  for (const [name, v] of entry.fields) {
    if (name === 'key' && typeof v === 'string') k = v;
    if (name === 'value' && typeof v === 'object')
      for (const [n2, v2] of v.fields) if (n2 === 's' && typeof v2 === 'string') s = v2;
  }
  return k === key ? s : undefined;
}

/** Walk a text-format SavedModel or GraphDef. */
export function findTextGraphOps(root: TextMessage, kind: TfKind): Finding[] {
  const findings: Finding[] = [];
  const visit = (msg: Msg, m: TextMessage, depth: number): void => {
    if (depth > 16) return;
    if (msg === 'node') {
      let op: string | undefined;
      let name: string | undefined;
      let outputStream: string | undefined;
      for (const [k, v] of m.fields) {
        if (k === 'op' && typeof v === 'string') op = v;
        if (k === 'name' && typeof v === 'string') name = v;
        if (k === 'attr' && typeof v === 'object')
          outputStream = textAttr(v, 'output_stream') ?? outputStream;
      }
      const f = op === undefined ? undefined : tfOpFinding(name, op, undefined, outputStream);
      if (f !== undefined) findings.push(f);
      return;
    }
    for (const [k, v] of m.fields) {
      const child = TEXT_CHILDREN[msg][k];
      if (child !== undefined && typeof v === 'object') visit(child, v, depth + 1);
    }
  };
  visit(kind === 'savedmodel' ? 'savedmodel' : 'graph', root, 0);
  return findings;
}

export async function scanTfSavedModel(src: ByteSource, ctx: ScanContext, kind: TfKind): Promise<Finding[]> {
  if (src.size > ctx.limits.maxHeaderBytes) {
    return [
      {
        rule: 'limit-exceeded',
        severity: 'rejected',
        detail: `TensorFlow protobuf of ${src.size} bytes is larger than the ${ctx.limits.maxHeaderBytes}-byte limit`,
      },
    ];
  }
  ctx.chargeRead(src.size);
  const b = await src.read(0, src.size);
  try {
    return findGraphOps(b, kind, () => ctx.checkTime());
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    return [
      {
        rule: 'tf-malformed',
        severity: 'rejected',
        detail: `not a valid TensorFlow protobuf: ${e.message}`,
      },
    ];
  }
}

/** Text format (saved_model.pbtxt, graph.pbtxt). */
export function scanTfText(text: string, kind: TfKind): Finding[] {
  try {
    return findTextGraphOps(parseTextProto(text), kind);
  } catch (e) {
    if (!(e instanceof TextProtoError)) throw e;
    return [
      {
        rule: 'tf-malformed',
        severity: 'rejected',
        detail: `not a valid text-format protobuf: ${e.message}`,
      },
    ];
  }
}

/**
 * Keras configs carried inside a protobuf (keras_metadata.pb of a TensorFlow SavedModel holds each
 * layer's config as a JSON string): string fields that hold a Keras config are judged as Keras.
 */
export function embeddedKerasFindings(b: Uint8Array): Finding[] {
  const out: Finding[] = [];
  const visit = (start: number, end: number, depth: number): void => {
    if (depth > 4 || out.length > 50) return;
    let fields: WireField[];
    try {
      fields = readFields(b, start, end);
    } catch {
      return;
    }
    for (const f of fields) {
      if (f.wireType !== 2) continue;
      if (b[f.start] === 0x7b) {
        try {
          const json = parsePythonJson(new TextDecoder().decode(b.subarray(f.start, f.start + f.length)));
          if (isObject(json)) out.push(...kerasConfigFindings(json).map((x) => ({ ...x, offset: f.start })));
          continue;
        } catch (e) {
          if (!(e instanceof JsonError) && !(e instanceof RangeError)) throw e;
        }
      }
      visit(f.start, f.start + f.length, depth + 1);
    }
  };
  visit(0, b.length, 0);
  return out;
}
