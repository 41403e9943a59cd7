// Route one byte source (a file, or a member inside an archive) to the scanner for its format, found
// by content. Archives recurse here for each member, to a bounded depth.
import { gunzipSync, inflateSync } from 'node:zlib';
import { claimedFormats, extensionOf, sniff, SNIFF_BYTES, type SniffedFormat } from './detect.ts';
import { scanGguf } from './gguf.ts';
import { scanHdf5 } from './hdf5.ts';
import { parseJsonStrict, JsonError } from './json.ts';
import { kerasConfigFindings } from './keras.ts';
import { parseNpyHeader } from './numpy.ts';
import { scanOnnx } from './onnx.ts';
import { opcodeName } from './pickle.ts';
import { scanPickleSource, scanPickleStream } from './pickle-file.ts';
import { scanSafetensors } from './safetensors.ts';
import { BufferSource, SliceSource, type ByteSource } from './source.ts';
import { readTarEntries, TarError } from './tar.ts';
import { scanTfSavedModel } from './tf-savedmodel.ts';
import { LimitExceeded, type Finding, type ScanContext } from './types.ts';
import {
  crc32,
  decompressMember,
  hasZipTrailer,
  isBadZip,
  isTraversalName,
  locateMember,
  readZipDirectory,
  type ZipEntry,
} from './zip.ts';

interface Where {
  /** Name used for extension hints (member name inside an archive, else the file path). */
  name: string;
  depth: number;
  /** Display path of an archive member, e.g. `archive/data.pkl` or `outer/inner.zip!a.pkl`. */
  member?: string;
}

const LENIENT_PICKLE_MAX = 8 * 1024 * 1024;
const DATA_ONLY_FORMATS = new Set(['safetensors', 'gguf', 'onnx', 'numpy', 'npz']);

function emit(ctx: ScanContext, where: Where, findings: Finding[]): void {
  for (const f of findings)
    ctx.add(where.member !== undefined && f.member === undefined ? { ...f, member: where.member } : f);
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
  const kind = sniff(head, src.size, where.name);
  let format = await scanByKind(kind, head, src, ctx, where);
  const polyglot = format === 'zip-polyglot';
  if (polyglot) format = 'pickle';
  const claimed = claimedFormats(where.name);
  if (
    claimed !== undefined &&
    !claimed.includes(format) &&
    !(format === 'pickle' && claimed.includes('pytorch-legacy'))
  ) {
    const ext = extensionOf(where.name);
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
  if (kind !== 'zip' && !polyglot && src.size >= 22 && (await hasZipTrailer(src))) {
    // zipfile.is_zipfile looks at the end of the file; torch.load and pickle.load look at the start.
    const before = ctx.findings.length;
    const inner = await scanZip(src, ctx, where, true);
    if (inner !== undefined) {
      emit(ctx, where, [
        {
          rule: 'polyglot-zip',
          severity: 'suspicious',
          detail: `the file is both ${format} and a zip archive (${inner}); different loaders see different contents, so both were scanned`,
        },
      ]);
    } else ctx.findings.length = before;
  }
  // Unidentified members of an archive (a README in a zip) do not make the archive "unknown".
  if (where.depth === 0 || (format !== 'unknown' && format !== 'image')) ctx.formats.add(format);
  return format;
}

async function scanByKind(
  kind: SniffedFormat,
  head: Uint8Array,
  src: ByteSource,
  ctx: ScanContext,
  where: Where,
): Promise<string> {
  switch (kind) {
    case 'pickle':
      return scanPickleFlow(src, ctx, where);
    case 'zip':
      return (await scanZip(src, ctx, where, false)) ?? 'zip';
    case 'numpy':
      return scanNpy(head, src, ctx, where);
    case 'hdf5': {
      const { findings, hasModelConfig } = await scanHdf5(src, ctx);
      emit(ctx, where, findings);
      if (hasModelConfig) ctx.formats.add('keras');
      return 'hdf5';
    }
    case 'gguf':
      emit(ctx, where, await scanGguf(src, ctx));
      return 'gguf';
    case 'safetensors':
      emit(ctx, where, await scanSafetensors(src, ctx));
      return 'safetensors';
    case 'onnx':
      emit(ctx, where, await scanOnnx(src, ctx));
      return 'onnx';
    case 'tf-savedmodel':
      emit(ctx, where, await scanTfSavedModel(src, ctx));
      return 'tf-savedmodel';
    case 'tar':
      return scanTar(src, ctx, where);
    case 'gzip':
      return scanGzip(src, ctx, where);
    case 'zlib':
      return scanZlib(head, src, ctx, where);
    case '7z':
    case 'compressed':
      emit(ctx, where, [
        {
          rule: 'unsupported-archive',
          severity: 'rejected',
          detail: `${kind === '7z' ? '7-Zip' : 'bzip2/xz/zstd/rar'} content cannot be inspected by modelgate; convert the model to safetensors or an uncompressed archive`,
          offset: 0,
        },
      ]);
      return kind;
    case 'image':
      return 'image';
    case 'unknown':
      return scanUnknown(head, src, ctx, where);
  }
}

/**
 * No magic. A name that promises a pickle (.pkl, .pt, .bin, ...) is parsed as one and must parse;
 * anything else counts as a pickle only if it parses completely (protocol 0/1 text pickles).
 */
async function scanUnknown(
  head: Uint8Array,
  src: ByteSource,
  ctx: ScanContext,
  where: Where,
): Promise<string> {
  if (src.size === 0) return 'unknown';
  if (claimedFormats(where.name)?.includes('pickle')) return scanPickleFlow(src, ctx, where);
  if (src.size > LENIENT_PICKLE_MAX || opcodeName(head[0] ?? 0) === undefined) return 'unknown';
  const data = await src.read(0, src.size);
  const probe = scanPickleStream(data, ctx, { windowEndsEarly: false, depth: where.depth });
  return probe.complete ? scanPickleFlow(src, ctx, where) : 'unknown';
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
  const v = head.length >= 12 ? new DataView(head.buffer, head.byteOffset, head.byteLength) : undefined;
  if (v && (head[6] === 2 || head[6] === 3)) {
    const n = v.getUint32(8, true);
    if (n > ctx.limits.maxHeaderBytes) throw new LimitExceeded('maxHeaderBytes', `.npy header of ${n} bytes`);
    bytes = await src.read(0, 12 + n);
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

function zipKind(entries: ZipEntry[]): string {
  const names = entries.map((e) => e.name);
  const files = names.filter((n) => !n.endsWith('/'));
  if (names.some((n) => /^(?:[^/]+\/)?data\.pkl$/.test(n))) {
    return names.some((n) => /^(?:[^/]+\/)?(?:code\/|constants\.pkl$)/.test(n))
      ? 'torchscript'
      : 'pytorch-zip';
  }
  if (files.length > 0 && files.every((n) => n.toLowerCase().endsWith('.npy'))) return 'npz';
  if (
    names.includes('config.json') &&
    (names.includes('model.weights.h5') || names.includes('metadata.json'))
  )
    return 'keras';
  return 'zip';
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
  const seen = new Set<string>();
  for (const e of dir.entries) {
    ctx.checkTime();
    const memberPath = where.member === undefined ? e.name : `${where.member}!${e.name}`;
    const at = (f: Finding): Finding => ({ ...f, member: memberPath });
    if (seen.has(e.name)) {
      emit(ctx, where, [
        at({
          rule: 'zip-duplicate-member',
          severity: 'rejected',
          detail: 'two members have this name; readers differ on which one they load',
        }),
      ]);
    }
    seen.add(e.name);
    if (isTraversalName(e.name)) {
      emit(ctx, where, [
        at({
          rule: 'archive-path-traversal',
          severity: 'dangerous',
          detail:
            'member path leaves the extraction directory (zip slip): extracting writes outside the model directory',
        }),
      ]);
    }
    if (e.name.endsWith('/')) continue;
    if ((e.flags & 0x41) !== 0) {
      emit(ctx, where, [
        at({
          rule: 'zip-encrypted',
          severity: 'rejected',
          detail: `member is flagged encrypted (flags 0x${e.flags.toString(16)}): its contents cannot be inspected, yet PyTorch ignores the flag and loads it`,
        }),
      ]);
    }
    if ((e.flags & 0x20) !== 0) {
      emit(ctx, where, [
        at({
          rule: 'zip-patched-data',
          severity: 'rejected',
          detail:
            'member is flagged as compressed patched data (flag 0x20), which readers handle inconsistently',
        }),
      ]);
    }
    if (e.method !== 0 && e.method !== 8) {
      emit(ctx, where, [
        at({
          rule: 'zip-unsupported-compression',
          severity: 'rejected',
          detail: `compression method ${e.method} cannot be inspected`,
        }),
      ]);
      continue;
    }
    if ((kind === 'pytorch-zip' || kind === 'torchscript') && /^(?:[^/]+\/)?data\/\d+$/.test(e.name)) {
      continue; // raw tensor storage: never unpickled
    }
    let loc;
    try {
      loc = await locateMember(src, dir, e);
    } catch (err) {
      if (!isBadZip(err)) throw err;
      emit(ctx, where, [at({ rule: 'zip-malformed', severity: 'rejected', detail: err.message })]);
      continue;
    }
    emit(ctx, where, loc.findings.map(at));
    let member: ByteSource;
    let whole: Uint8Array | undefined;
    if (e.method === 0) {
      if (e.compressedSize !== e.uncompressedSize && (e.flags & 0x41) === 0) {
        emit(ctx, where, [
          at({
            rule: 'zip-size-mismatch',
            severity: 'rejected',
            detail: `stored member says ${e.uncompressedSize} bytes but holds ${e.compressedSize}`,
          }),
        ]);
      }
      member = new SliceSource(src, loc.dataOffset, e.compressedSize);
      if (e.compressedSize <= 16 * 1024 * 1024) whole = await member.read(0, e.compressedSize);
    } else {
      if (e.compressedSize > ctx.limits.maxPickleBytes)
        throw new LimitExceeded('maxPickleBytes', `member ${e.name} is ${e.compressedSize} compressed bytes`);
      ctx.chargeRead(e.compressedSize);
      const raw = await src.read(loc.dataOffset, e.compressedSize);
      try {
        whole = decompressMember(e, raw, Math.min(ctx.limits.maxPickleBytes, e.uncompressedSize + 1));
      } catch (err) {
        if (err instanceof LimitExceeded) {
          emit(ctx, where, [
            at({
              rule: 'zip-size-mismatch',
              severity: 'rejected',
              detail: `member inflates to more than the ${e.uncompressedSize} bytes it declares`,
            }),
          ]);
          continue;
        }
        if (!isBadZip(err)) throw err;
        emit(ctx, where, [at({ rule: 'zip-malformed', severity: 'rejected', detail: err.message })]);
        continue;
      }
      if (whole.length !== e.uncompressedSize) {
        emit(ctx, where, [
          at({
            rule: 'zip-size-mismatch',
            severity: 'rejected',
            detail: `member inflates to ${whole.length} bytes, not the declared ${e.uncompressedSize}`,
          }),
        ]);
      }
      member = new BufferSource(whole);
    }
    if (whole !== undefined && (e.flags & 0x41) === 0 && crc32(whole) !== e.crc32) {
      emit(ctx, where, [
        at({
          rule: 'zip-crc-mismatch',
          severity: 'rejected',
          detail: 'CRC-32 does not match the member data: the archive was altered after it was written',
        }),
      ]);
    }
    if (kind === 'keras' && e.name === 'config.json' && whole !== undefined) {
      emit(ctx, where, kerasJson(whole).map(at));
      continue;
    }
    await scanSource(member, ctx, { name: e.name, depth: where.depth + 1, member: memberPath });
  }
  return kind;
}

function kerasJson(b: Uint8Array): Finding[] {
  try {
    const json = parseJsonStrict(new TextDecoder('utf-8', { fatal: true }).decode(b));
    return kerasConfigFindings(numbersToPlain(json));
  } catch (e) {
    return [
      {
        rule: 'keras-malformed-config',
        severity: 'rejected',
        detail: `config.json does not parse: ${e instanceof JsonError ? e.message : String(e)}`,
      },
    ];
  }
}

function numbersToPlain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(numbersToPlain);
  if (typeof v === 'object' && v !== null)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, numbersToPlain(x)]));
  return v;
}

async function scanTar(src: ByteSource, ctx: ScanContext, where: Where): Promise<string> {
  let entries;
  try {
    const res = await readTarEntries(src, ctx.limits.maxArchiveMembers);
    entries = res.entries;
    emit(ctx, where, res.findings);
  } catch (e) {
    if (!(e instanceof TarError)) throw e;
    emit(ctx, where, [{ rule: 'tar-malformed', severity: 'rejected', detail: e.message }]);
    return 'tar';
  }
  for (const e of entries) {
    const memberPath = where.member === undefined ? e.name : `${where.member}!${e.name}`;
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
    if (e.type === '1' || e.type === '2') {
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
    if (e.type === '3' || e.type === '4' || e.type === '6') {
      emit(ctx, where, [
        at({
          rule: 'tar-special-file',
          severity: 'rejected',
          detail: 'device or FIFO entry in a model archive',
        }),
      ]);
      continue;
    }
    if (e.type !== '0' && e.type !== '7') continue;
    await scanSource(new SliceSource(src, e.offset, e.size), ctx, {
      name: e.name,
      depth: where.depth + 1,
      member: memberPath,
    });
  }
  return 'tar';
}

/** A zlib stream (joblib's default compressor); if it does not inflate it was not zlib after all. */
async function scanZlib(head: Uint8Array, src: ByteSource, ctx: ScanContext, where: Where): Promise<string> {
  const max = ctx.limits.maxPickleBytes;
  if (src.size > max) throw new LimitExceeded('maxPickleBytes', `zlib file of ${src.size} bytes`);
  ctx.chargeRead(src.size);
  let inner: Uint8Array;
  try {
    inner = new Uint8Array(inflateSync(await src.read(0, src.size), { maxOutputLength: max }));
  } catch (e) {
    if (e instanceof RangeError)
      throw new LimitExceeded('maxPickleBytes', `zlib content inflates past ${max} bytes`);
    return scanUnknown(head, src, ctx, where);
  }
  await scanSource(new BufferSource(inner), ctx, {
    name: where.name,
    depth: where.depth + 1,
    member: `${where.member ?? ''}${where.member ? '!' : ''}(inflated)`,
  });
  return 'zlib';
}

async function scanGzip(src: ByteSource, ctx: ScanContext, where: Where): Promise<string> {
  const max = ctx.limits.maxPickleBytes;
  if (src.size > max) throw new LimitExceeded('maxPickleBytes', `gzip file of ${src.size} bytes`);
  ctx.chargeRead(src.size);
  let inner: Uint8Array;
  try {
    inner = new Uint8Array(gunzipSync(await src.read(0, src.size), { maxOutputLength: max }));
  } catch (e) {
    if (e instanceof RangeError)
      throw new LimitExceeded('maxPickleBytes', `gzip content inflates past ${max} bytes`);
    emit(ctx, where, [{ rule: 'gzip-malformed', severity: 'rejected', detail: (e as Error).message }]);
    return 'gzip';
  }
  const name = where.name.replace(/\.(gz|tgz)$/i, (m) => (m.toLowerCase() === '.tgz' ? '.tar' : ''));
  await scanSource(new BufferSource(inner), ctx, {
    name,
    depth: where.depth + 1,
    member: `${where.member ?? ''}${where.member ? '!' : ''}(gunzipped)`,
  });
  return 'gzip';
}
