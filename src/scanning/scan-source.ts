// Route one byte source (a file, or a member inside an archive) to the scanner for its format, found
// by content; the name only explains a refusal. Archives and compressed streams recurse here for each
// member, to a bounded depth. Whatever the format, bytes that `pickle.load` would execute from offset 0
// (a protocol-0 pickle has no magic; a GIF header, a tar member name or an HDF5 user block can hold one)
// are probed, and what such a partial load would run is reported.
import {
  claimedFormats,
  extensionOf,
  HDF5_SIGNATURE,
  joblibZfileStart,
  sniff,
  SNIFF_BYTES,
  type SniffedFormat,
} from './detect.ts';
import { protobufKind } from './detect-protobuf.ts';
import { COMPRESSION_NAMES, decompress, type Compression } from './decompress.ts';
import { scanGguf } from './gguf.ts';
import { scanHdf5 } from './hdf5.ts';
import { scanJsonText } from './json-files.ts';
import { JsonError, parsePythonJson } from './json.ts';
import { looksLikeKerasConfig } from './keras.ts';
import { npyHeaderExtent, parseNpyHeader } from './numpy.ts';
import { scanOnnx } from './onnx.ts';
import { textProtoKind } from './pbtxt.ts';
import { scanPickleSource, type PickleStreamResult } from './pickle-file.ts';
import { runPickle } from './pickle.ts';
import { scanSafetensors } from './safetensors.ts';
import { BufferSource, SliceSource, type ByteSource } from './source.ts';
import { readTarEntries, TarError } from './tar.ts';
import { readFields, WireError } from './protobuf.ts';
import { embeddedKerasFindings, scanTfSavedModel, scanTfText } from './tf-savedmodel.ts';
import { looksLikeTflite, scanTflite } from './tflite.ts';
import { LimitExceeded, type Finding, type ScanContext } from './types.ts';
import { hasZipTrailer, isBadZip, isTraversalName, readZipDirectory, zipKind, zipMembers } from './zip.ts';

interface Where {
  /** Name used to explain refusals (member name inside an archive, else the file path). */
  name: string;
  depth: number;
  /** Display path of an archive member, e.g. `archive/data.pkl` or `outer/inner.zip!a.pkl`. */
  member?: string;
}

/** What a format scanner reports back to the router. */
interface Scanned {
  format: string;
  /** Byte ranges scanned as archive members (a zip found at the end of a tar inside a member is not a polyglot). */
  members?: [number, number][];
  /** The bytes were already run as a pickle from offset 0. */
  pickleDone?: boolean;
}

const DATA_ONLY_FORMATS = new Set(['safetensors', 'gguf', 'onnx', 'numpy', 'npz']);
/** Formats whose first bytes can also be the start of a pickle (see probePickle). */
const PICKLE_PREFIX_POSSIBLE = new Set<SniffedFormat>([
  'unknown',
  'image',
  'tar',
  'hdf5',
  'gguf',
  'lzma',
  'tflite',
]);
const TEXT_PROBE_BYTES = 64 * 1024;

function emit(ctx: ScanContext, where: Where, findings: Finding[]): void {
  for (const f of findings)
    ctx.add(where.member !== undefined && f.member === undefined ? { ...f, member: where.member } : f);
}

function memberOf(where: Where, name: string): string {
  return where.member === undefined ? name : `${where.member}!${name}`;
}

/** Scan `src`; returns the format name reported for it. */
export async function scanSource(src: ByteSource, ctx: ScanContext, where: Where): Promise<string> {
  ctx.checkTime();
  if (where.depth > ctx.limits.maxNestingDepth) {
    emit(ctx, where, [
      {
        rule: 'limit-exceeded',
        severity: 'rejected',
        detail: `archives nested deeper than ${ctx.limits.maxNestingDepth} levels`,
      },
    ]);
    return 'unknown';
  }
  const head = await src.read(0, SNIFF_BYTES);
  let kind = sniff(head, src.size);
  if (kind === 'unknown' && (await hdf5AtDeepOffset(src))) kind = 'hdf5';
  const scanned = await scanByKind(kind, head, src, ctx, where);
  let format = scanned.format;
  const zipAfterPickle = format === 'zip-polyglot';
  if (zipAfterPickle) format = 'pickle';
  if (!scanned.pickleDone && PICKLE_PREFIX_POSSIBLE.has(kind) && head.length > 0) {
    const probe = await probePickle(src, ctx, where, format);
    if (probe && format === 'unknown') format = 'pickle';
  }
  checkClaimedFormat(ctx, where, format);
  if (!zipAfterPickle) await checkTrailingZip(src, ctx, where, kind, format, scanned.members ?? []);
  // Unidentified members of an archive (a README in a zip) do not make the archive "unknown".
  if (where.depth === 0 || (format !== 'unknown' && format !== 'image')) ctx.formats.add(format);
  return format;
}

/** HDF5 puts its superblock after a user block of 512, 1024, 2048, ... bytes. */
async function hdf5AtDeepOffset(src: ByteSource): Promise<boolean> {
  for (let at = 4096; at + 8 <= src.size && at <= 1 << 30; at *= 2) {
    const b = await src.read(at, 8);
    if (HDF5_SIGNATURE.every((x, i) => b[i] === x)) return true;
  }
  return false;
}

function checkClaimedFormat(ctx: ScanContext, where: Where, format: string): void {
  const claimed = claimedFormats(where.name);
  if (
    claimed === undefined ||
    claimed.includes(format) ||
    (format === 'pickle' && claimed.includes('pytorch-legacy'))
  )
    return;
  const ext = extensionOf(where.name);
  // raw tensor data named .bin (scanClaimed has ruled out every format and a pickle)
  if (format === 'unknown' && ext === 'bin') return;
  if (format === 'unknown' || format === 'image') {
    emit(ctx, where, [
      {
        rule: 'format-unrecognised',
        severity: 'rejected',
        detail: `named .${ext} but the content is ${format === 'image' ? 'an image' : 'no model format modelgate knows'}; a loader may still try to parse it`,
        offset: 0,
      },
    ]);
  } else {
    // Disguised code (a pickle named .safetensors) is suspicious; disguised data is only reported.
    emit(ctx, where, [
      {
        rule: 'format-mismatch',
        severity: DATA_ONLY_FORMATS.has(format) ? 'info' : 'suspicious',
        detail: `named .${ext} but the content is ${format}; a file that disguises its format is scanned as what it is`,
        offset: 0,
      },
    ]);
  }
}

/**
 * zipfile.is_zipfile looks at the end of a file; torch.load and pickle.load look at the start. A file
 * that ends in a zip directory is also scanned as that zip — unless the zip is one of its own members
 * (a tar whose last member is a checkpoint), which was scanned already.
 */
async function checkTrailingZip(
  src: ByteSource,
  ctx: ScanContext,
  where: Where,
  kind: SniffedFormat,
  format: string,
  members: [number, number][],
): Promise<void> {
  if (kind === 'zip' || format === 'zip-polyglot' || src.size < 22 || !(await hasZipTrailer(src))) return;
  let dir;
  try {
    dir = await readZipDirectory(src, ctx);
  } catch (e) {
    if (isBadZip(e) || e instanceof LimitExceeded) return;
    throw e;
  }
  if (dir.entries.length === 0) return;
  const zipStart = dir.prefixBytes + Math.min(...dir.entries.map((e) => e.localHeaderOffset));
  if (members.some(([start, end]) => zipStart >= start && dir.eocdEnd <= end)) return;
  const before = ctx.findings.length;
  const inner = await scanZip(src, ctx, where, true);
  if (inner === undefined) {
    ctx.findings.length = before;
    return;
  }
  emit(ctx, where, [
    {
      rule: 'polyglot-zip',
      severity: 'suspicious',
      detail: `the file is both ${format} and a zip archive (${inner}); different loaders see different contents, so both were scanned`,
    },
  ]);
}

async function scanByKind(
  kind: SniffedFormat,
  head: Uint8Array,
  src: ByteSource,
  ctx: ScanContext,
  where: Where,
): Promise<Scanned> {
  switch (kind) {
    case 'pickle':
      return { format: await scanPickleFlow(src, ctx, where), pickleDone: true };
    case 'zip':
      return { format: (await scanZip(src, ctx, where, false)) ?? 'zip' };
    case 'numpy':
      return { format: await scanNpy(head, src, ctx, where) };
    case 'hdf5': {
      const { findings, hasModelConfig } = await scanHdf5(src, ctx);
      emit(ctx, where, findings);
      if (hasModelConfig) ctx.formats.add('keras');
      return { format: 'hdf5' };
    }
    case 'gguf':
      emit(ctx, where, await scanGguf(src, ctx));
      return { format: 'gguf' };
    case 'safetensors':
      emit(ctx, where, await scanSafetensors(src, ctx));
      return { format: 'safetensors' };
    case 'tar':
      return scanTar(src, ctx, where);
    case 'gzip':
    case 'zlib':
    case 'bzip2':
    case 'xz':
    case 'lzma':
    case 'lz4':
      return scanCompressed(kind, head, src, ctx, where);
    case 'joblib-zfile': {
      const at = joblibZfileStart(head) ?? 21;
      const body = new SliceSource(src, at, src.size - at);
      await scanCompressed('zlib', await body.read(0, SNIFF_BYTES), body, ctx, where);
      return { format: 'zlib' };
    }
    case '7z':
    case 'compressed':
      emit(ctx, where, [
        {
          rule: 'unsupported-archive',
          severity: 'rejected',
          detail: `${kind === '7z' ? '7-Zip' : 'zstd/rar'} content cannot be inspected by modelgate; convert the model to safetensors or an uncompressed archive`,
          offset: 0,
        },
      ]);
      return { format: kind };
    case 'tflite': {
      emit(ctx, where, await scanTflite(src, ctx));
      // TFLite metadata appends its associated files (labels, vocabularies) as a zip: scanned as
      // members, not a polyglot.
      if (src.size >= 22 && (await hasZipTrailer(src))) {
        await scanZip(src, ctx, where, true);
        return { format: 'tflite', members: [[0, src.size]] };
      }
      return { format: 'tflite' };
    }
    case 'image':
      return { format: 'image' };
    case 'unknown':
      return scanUnknown(head, src, ctx, where);
  }
}

/**
 * No magic: a protobuf (ONNX, TensorFlow) recognised by its field layout, a text format (JSON configs,
 * text protobufs), or a pickle (probed after this); a name that promises a format only decides which
 * parser explains the refusal of content nothing recognises.
 */
async function scanUnknown(
  head: Uint8Array,
  src: ByteSource,
  ctx: ScanContext,
  where: Where,
): Promise<Scanned> {
  if (src.size === 0) {
    if (claimedFormats(where.name) !== undefined) return { format: await scanClaimed(src, ctx, where, head) };
    return { format: 'unknown' };
  }
  const proto = head[0] !== 0x80 ? await protobufKind(src) : undefined;
  if (proto === 'onnx') {
    emit(ctx, where, await scanOnnx(src, ctx));
    return { format: 'onnx' };
  }
  // a SavedModel's fingerprint.pb: data, reported as part of the SavedModel format
  if (proto === 'tf-fingerprint') return { format: 'tf-savedmodel' };
  if (proto === 'tf-savedmodel' || proto === 'tf-graphdef') {
    emit(ctx, where, await scanTfSavedModel(src, ctx, proto === 'tf-savedmodel' ? 'savedmodel' : 'graphdef'));
    return { format: 'tf-savedmodel' };
  }
  if (src.size <= 16 * 1024 * 1024 && proto === undefined && head[0] !== 0x80) {
    const keras = await kerasInProtobuf(src, ctx);
    if (keras !== undefined) {
      emit(ctx, where, keras);
      return { format: 'keras' };
    }
  }
  const text = await textFormat(head, src, ctx, where);
  if (text !== undefined) return { format: text };
  const probe = await probePickle(src, ctx, where, 'unknown');
  if (probe) return { format: 'pickle', pickleDone: true };
  return { format: await scanClaimed(src, ctx, where, head), pickleDone: true };
}

/** keras_metadata.pb and similar: a protobuf whose string fields hold Keras configs. */
async function kerasInProtobuf(src: ByteSource, ctx: ScanContext): Promise<Finding[] | undefined> {
  const b = await src.read(0, src.size);
  if (indexOfBytes(b, CLASS_NAME) < 0) return undefined;
  try {
    readFields(b);
  } catch (e) {
    if (e instanceof WireError) return undefined;
    throw e;
  }
  ctx.chargeRead(b.length);
  return embeddedKerasFindings(b);
}

const CLASS_NAME = new TextEncoder().encode('"class_name"');
function indexOfBytes(hay: Uint8Array, needle: Uint8Array): number {
  const first = needle[0] ?? 0;
  for (let i = hay.indexOf(first); i >= 0 && i + needle.length <= hay.length; i = hay.indexOf(first, i + 1)) {
    let ok = true;
    for (let j = 1; j < needle.length && ok; j++) ok = hay[i + j] === needle[j];
    if (ok) return i;
  }
  return -1;
}

/** Opcodes that import by name (GLOBAL, INST, STACK_GLOBAL): failing there is a damaged pickle. */
const NAME_OPCODES = new Set([0x63, 0x69, 0x93]);

/**
 * Raw numbers, not a damaged pickle: pickle.load fails on them without having imported anything, and
 * not at an opcode that imports by name (an EXT code is no import: no process registers any).
 */
async function isRawData(src: ByteSource, ctx: ScanContext): Promise<boolean> {
  const head = await src.read(0, 64);
  const run = runPickle(head, 0, {
    limits: ctx.limits,
    allowGlobals: ctx.allowGlobals,
    budget: { opcodes: 0 },
  });
  if (run.error === undefined || run.imports.length > 0) return false;
  return !NAME_OPCODES.has(head[run.error.offset] ?? 0x63);
}

/** Content nothing recognised, under a name that promises a format: that format's parser says why it is refused. */
async function scanClaimed(
  src: ByteSource,
  ctx: ScanContext,
  where: Where,
  head: Uint8Array,
): Promise<string> {
  const claimed = claimedFormats(where.name) ?? [];
  if (extensionOf(where.name) === 'bin' && src.size > 0 && (await isRawData(src, ctx))) {
    // `.bin` names raw tensor data as often as checkpoints (ONNX external data, OpenVINO weights, TF
    // shards). Every format with a magic was ruled out, and pickle.load fails within the first bytes
    // on garbage opcodes, before reading any name: data, not a model loader's input.
    emit(ctx, where, [
      {
        rule: 'unrecognised-binary',
        severity: 'info',
        detail:
          'no model format recognised and not a pickle (pickle.load and torch.load fail on it before importing or calling anything): raw data such as ONNX external tensors or OpenVINO weights',
        offset: 0,
      },
    ]);
    return 'unknown';
  }
  if (claimed.includes('pickle')) return scanPickleFlow(src, ctx, where);
  if (claimed.includes('safetensors')) {
    emit(ctx, where, await scanSafetensors(src, ctx));
    return 'safetensors';
  }
  if (claimed.includes('onnx')) {
    const findings = await scanOnnx(src, ctx);
    emit(ctx, where, findings);
    return findings.some((f) => f.severity === 'rejected') ? 'onnx' : 'unknown';
  }
  if (claimed.includes('numpy') && head.length > 0) {
    emit(ctx, where, [
      { rule: 'numpy-malformed-header', severity: 'rejected', detail: 'no .npy magic string' },
    ]);
    return 'numpy';
  }
  return 'unknown';
}

/** JSON (Keras configs, tokenizer configs with chat templates) and text protobufs. */
async function textFormat(
  head: Uint8Array,
  src: ByteSource,
  ctx: ScanContext,
  where: Where,
): Promise<string | undefined> {
  let i = 0;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09))
    i++;
  if (i >= head.length) return undefined;
  const first = head[i];
  const start = new TextDecoder('latin1').decode(head.subarray(0, TEXT_PROBE_BYTES));
  const tp = first === 0x7b ? undefined : textProtoKind(start);
  if (first !== 0x7b && tp === undefined) return undefined;
  if (src.size > ctx.limits.maxHeaderBytes) return undefined;
  ctx.chargeRead(src.size);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await src.read(0, src.size));
  } catch {
    return undefined;
  }
  if (tp !== undefined) {
    emit(ctx, where, scanTfText(text, tp));
    return 'tf-savedmodel';
  }
  const res = scanJsonText(text);
  if (res === undefined) return undefined;
  emit(ctx, where, res.findings);
  return res.keras ? 'keras' : 'unknown';
}

/**
 * Run the bytes as `pickle.load` would, from offset 0. Reported only when they behave like a pickle
 * (pickle-file.ts Evidence): a call, a denylisted import, or a complete stream with imports; a text
 * line that merely reads as an import of an unknown module is noted (info). Returns true when the
 * bytes are a pickle.
 */
async function probePickle(
  src: ByteSource,
  ctx: ScanContext,
  where: Where,
  format: string,
): Promise<boolean> {
  const before = ctx.formats.size;
  let res: PickleStreamResult;
  try {
    res = await scanPickleSource(src, ctx, {
      depth: where.depth,
      probe: true,
      ...(where.member === undefined ? {} : { member: where.member }),
    });
  } catch (e) {
    if (e instanceof LimitExceeded && format !== 'unknown') return false;
    throw e;
  }
  if (res.evidence === 'none') return false;
  if (res.evidence === 'weak') {
    const names = [...res.imports].slice(0, 4).join(', ');
    emit(ctx, where, [
      {
        rule: 'pickle-like-text',
        severity: 'info',
        detail: `the first bytes read as a pickle that imports ${names} and then fails before calling anything; not treated as a pickle`,
        offset: 0,
      },
    ]);
    return false;
  }
  emit(ctx, where, res.findings);
  ctx.formats.add('pickle');
  if (format !== 'unknown' && format !== 'pickle') {
    emit(ctx, where, [
      {
        rule: 'polyglot-pickle',
        severity: 'suspicious',
        detail: `the file is ${format} and also starts with a pickle: pickle.load (and torch.load of a non-zip file) runs what the pickle imports and calls`,
        offset: 0,
      },
    ]);
  }
  void before;
  return true;
}

async function scanPickleFlow(src: ByteSource, ctx: ScanContext, where: Where): Promise<string> {
  const res = await scanPickleSource(src, ctx, {
    depth: where.depth,
    ...(where.member === undefined ? {} : { member: where.member }),
  });
  emit(ctx, where, res.findings);
  ctx.formats.add('pickle');
  if (res.zipAt !== undefined) {
    const inner = await scanZip(src, ctx, where, true);
    emit(ctx, where, [
      {
        rule: 'polyglot-zip',
        severity: 'suspicious',
        detail: `a zip archive${inner ? ` (${inner})` : ''} follows the pickle: torch.load runs the leading pickle while zip-based scanners see only the archive`,
        offset: res.zipAt,
      },
    ]);
    return 'zip-polyglot';
  }
  if (res.legacyTorch) return 'pytorch-legacy';
  if ([...res.imports].some((n) => n.startsWith('joblib.'))) return 'joblib';
  return 'pickle';
}

async function scanNpy(head: Uint8Array, src: ByteSource, ctx: ScanContext, where: Where): Promise<string> {
  let bytes = head;
  const ext = npyHeaderExtent(head);
  if (ext !== undefined && ext.start + ext.length > head.length) {
    if (ext.length > ctx.limits.maxHeaderBytes)
      throw new LimitExceeded('maxHeaderBytes', `.npy header of ${ext.length} bytes`);
    bytes = await src.read(0, ext.start + ext.length);
  }
  const h = parseNpyHeader(bytes);
  if ('rule' in h) {
    emit(ctx, where, [h]);
    return 'numpy';
  }
  if (h.objectDtype) {
    const sub = new SliceSource(src, h.dataOffset, src.size - h.dataOffset);
    const res = await scanPickleSource(sub, ctx, {
      depth: where.depth + 1,
      ...(where.member === undefined ? {} : { member: where.member }),
    });
    emit(
      ctx,
      where,
      res.findings.map((f) => ({
        ...f,
        ...(f.offset === undefined ? {} : { offset: f.offset + h.dataOffset }),
      })),
    );
    emit(ctx, where, [
      {
        rule: 'numpy-object-array',
        severity: 'info',
        detail: `object dtype ${h.descr}: the array is a pickle, loaded only with allow_pickle=True`,
      },
    ]);
    ctx.formats.add('pickle');
  } else if (h.dataBytes !== undefined && h.dataOffset + h.dataBytes > src.size) {
    emit(ctx, where, [
      {
        rule: 'numpy-truncated',
        severity: 'rejected',
        detail: `array needs ${h.dataBytes} bytes after the header; the file has ${src.size - h.dataOffset}`,
      },
    ]);
  }
  return 'numpy';
}

/** Scan a zip (possibly with data prepended). Returns the zip kind, or undefined when `quiet` and it is not a readable zip. */
async function scanZip(
  src: ByteSource,
  ctx: ScanContext,
  where: Where,
  quiet: boolean,
): Promise<string | undefined> {
  let dir;
  try {
    dir = await readZipDirectory(src, ctx);
  } catch (e) {
    // Probing a non-zip file for a trailing zip directory: garbage that looks like one is not a zip.
    if (quiet && (isBadZip(e) || e instanceof LimitExceeded)) return undefined;
    if (!isBadZip(e)) throw e;
    emit(ctx, where, [
      {
        rule: 'zip-malformed',
        severity: 'rejected',
        detail: `${e.message}; an archive that does not parse cannot be judged`,
      },
    ]);
    return 'zip';
  }
  if (quiet && dir.entries.length === 0) return undefined;
  const kind = zipKind(dir.entries);
  emit(ctx, where, quiet ? dir.findings.filter((f) => f.rule !== 'zip-prepended-data') : dir.findings);
  ctx.formats.add(kind);
  if (kind === 'torchscript') {
    emit(ctx, where, [
      {
        rule: 'torchscript-code',
        severity: 'info',
        detail:
          'TorchScript archive: its code/ members are programs that torch.jit.load compiles and runs (TorchScript, not arbitrary Python); refuse with --deny-format torchscript if your servers do not need it',
      },
    ]);
  }
  const torch = kind === 'pytorch-zip' || kind === 'torchscript';
  // raw tensor storages are never unpickled
  const skip = (name: string): boolean => torch && /^(?:[^/]+\/)?data\/\d+$/.test(name);
  for await (const m of zipMembers(src, ctx, dir, skip)) {
    const memberPath = memberOf(where, m.entry.name);
    emit(
      ctx,
      where,
      m.findings.map((f) => ({ ...f, member: memberPath })),
    );
    if (m.source === undefined) continue;
    if (kind === 'keras' && m.entry.name === 'config.json')
      await requireKerasConfig(m.source, ctx, where, memberPath);
    await scanSource(m.source, ctx, { name: m.entry.name, depth: where.depth + 1, member: memberPath });
  }
  return kind;
}

/** Keras loads config.json of a .keras archive first; one that does not parse cannot be judged. */
async function requireKerasConfig(
  src: ByteSource,
  ctx: ScanContext,
  where: Where,
  member: string,
): Promise<void> {
  if (src.size > ctx.limits.maxHeaderBytes)
    throw new LimitExceeded('maxHeaderBytes', `Keras config.json of ${src.size} bytes`);
  let problem: string | undefined;
  try {
    const json = parsePythonJson(
      new TextDecoder('utf-8', { fatal: true }).decode(await src.read(0, src.size)),
    );
    if (!looksLikeKerasConfig(json)) problem = 'it is not a Keras model config (no class_name and config)';
  } catch (e) {
    problem = e instanceof JsonError ? e.message : 'it is not UTF-8 text';
  }
  if (problem !== undefined)
    emit(ctx, where, [
      {
        rule: 'keras-malformed-config',
        severity: 'rejected',
        detail: `config.json of a .keras archive does not parse: ${problem}`,
        member,
      },
    ]);
}

async function scanTar(src: ByteSource, ctx: ScanContext, where: Where): Promise<Scanned> {
  let entries;
  try {
    const res = await readTarEntries(src, ctx.limits.maxArchiveMembers);
    entries = res.entries;
    emit(ctx, where, res.findings);
  } catch (e) {
    if (!(e instanceof TarError)) throw e;
    emit(ctx, where, [{ rule: 'tar-malformed', severity: 'rejected', detail: e.message }]);
    return { format: 'tar' };
  }
  const members: [number, number][] = [];
  for (const e of entries) {
    const memberPath = memberOf(where, e.name);
    const at = (f: Finding): Finding => ({ ...f, member: memberPath });
    if (isTraversalName(e.name)) {
      emit(ctx, where, [
        at({
          rule: 'archive-path-traversal',
          severity: 'dangerous',
          detail:
            'member path leaves the extraction directory: extracting writes outside the model directory',
        }),
      ]);
    }
    if (e.kind === 'link') {
      const escapes = isTraversalName(e.linkName);
      emit(ctx, where, [
        at({
          rule: 'tar-link',
          severity: escapes ? 'dangerous' : 'suspicious',
          detail: `link to ${JSON.stringify(e.linkName)}${escapes ? ', outside the model directory' : ''}`,
        }),
      ]);
      continue;
    }
    if (e.kind === 'special') {
      emit(ctx, where, [
        at({
          rule: 'tar-special-file',
          severity: 'rejected',
          detail: 'device or FIFO entry in a model archive',
        }),
      ]);
      continue;
    }
    if (e.kind === 'dir') continue;
    if (e.kind === 'data') {
      emit(ctx, where, [
        at({
          rule: 'tar-entry-with-data',
          severity: 'rejected',
          detail: `a type ${JSON.stringify(e.type)} entry (not a file) carries ${e.size} bytes: Python's tarfile reads the next header inside them while GNU tar skips them, so the tools see different archives`,
        }),
      ]);
    }
    if (e.type !== '0' && e.type !== '\0' && e.kind === 'file') {
      emit(ctx, where, [
        at({
          rule: 'tar-member-type',
          severity: 'info',
          detail: `member of type ${JSON.stringify(e.type)}: GNU tar and Python extract it as a regular file, so it was scanned as one`,
        }),
      ]);
    }
    members.push([e.offset, e.offset + e.size]);
    await scanSource(new SliceSource(src, e.offset, e.size), ctx, {
      name: e.name,
      depth: where.depth + 1,
      member: memberPath,
    });
  }
  return { format: 'tar', members };
}

/** A compressed stream: decompress (bounded) and scan what comes out; a damaged stream is refused after its prefix is scanned. */
async function scanCompressed(
  kind: Compression,
  head: Uint8Array,
  src: ByteSource,
  ctx: ScanContext,
  where: Where,
): Promise<Scanned> {
  const max = ctx.limits.maxPickleBytes;
  if (src.size > max) {
    if ((kind === 'zlib' || kind === 'lzma') && looksLikeTflite(head))
      return scanByKind('tflite', head, src, ctx, where);
    throw new LimitExceeded('maxPickleBytes', `${COMPRESSION_NAMES[kind]} file of ${src.size} bytes`);
  }
  ctx.chargeRead(src.size);
  const out = decompress(kind, await src.read(0, src.size), { maxOutput: max, tick: () => ctx.checkTime() });
  const format = kind === 'gzip' || kind === 'zlib' ? kind : 'compressed';
  if (out.error !== undefined && out.data.length === 0 && (kind === 'zlib' || kind === 'lzma')) {
    // a byte pattern that only looked like this compressor's header (a TFLite root offset of 376 reads
    // as a zlib header)
    return looksLikeTflite(head)
      ? scanByKind('tflite', head, src, ctx, where)
      : scanUnknown(head, src, ctx, where);
  }
  if (out.error !== undefined) {
    emit(ctx, where, [
      {
        rule: 'compressed-malformed',
        severity: 'rejected',
        detail: `${COMPRESSION_NAMES[kind]} stream is damaged (${out.error}); a streaming loader has already read the ${out.data.length} bytes before the damage, which were scanned`,
      },
    ]);
  }
  const name = where.name.replace(/\.(gz|tgz|bz2|tbz2?|xz|txz|lzma|lz4)$/i, (m) =>
    /^\.t/i.test(m) ? '.tar' : '',
  );
  await scanSource(new BufferSource(out.data), ctx, {
    name,
    depth: where.depth + 1,
    member: `${where.member ?? ''}${where.member ? '!' : ''}(${kind === 'zlib' || kind === 'gzip' ? (kind === 'gzip' ? 'gunzipped' : 'inflated') : `${kind}-decompressed`})`,
  });
  return { format };
}
