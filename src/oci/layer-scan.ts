// The controller's format scan of an OCI model, once per manifest digest: every layer is streamed whole
// from the registry and checked against its digest (a range read could be served different bytes than
// the runtime will pull), unpacked to a scratch file if compressed, and every file in it scanned by the
// same scanner the runtime verifier runs (src/scanning), with no deny list: a record holds what the
// files ARE, and each policy applies its own `formats.deny` when it reads the record. Pickle globals some
// policy allows are treated as data, and the ones the model uses are recorded: a policy that does not
// allow one of them refuses the model (src/policy/oci-evidence.ts).
//
// Bounded: bytes per layer and in total, files, and time. What cannot be scanned (zstd layers, a layer
// over the limit) makes the scan `incomplete` with the reason — never "clean".
import { createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { scanWith } from '../scanning/index.ts';
import { FileSource, SliceSource, type ByteSource } from '../scanning/source.ts';
import { readTarEntries, TarError } from '../scanning/tar.ts';
import { DEFAULT_LIMITS, type ScanLimits } from '../scanning/types.ts';
import type { ScanFacts, ScanProblem } from './evidence.ts';
import type { ImageManifest } from './manifest.ts';
import { classifyLayer } from './media-types.ts';
import type { RepositoryRef } from './reference.ts';
import type { RegistryClient } from './registry.ts';

export interface LayerScanOptions {
  /** A directory for unpacked layers (one at a time, deleted after). */
  scratchDir: string;
  /** Bytes of one layer once unpacked (default 32 GiB). */
  maxLayerBytes?: number;
  /** Bytes over all layers (default 256 GiB). */
  maxTotalBytes?: number;
  /** Files over all layers (default 100,000). */
  maxFiles?: number;
  scanLimits?: Partial<ScanLimits>;
  /** Pickle globals to treat as data (the union of the policies' formats.allowPickleGlobals). */
  allowGlobals?: readonly string[];
}

/** The allowed globals a scan treated as data: a policy that allows fewer may not accept its verdict. */
class UsedGlobals extends Set<string> {
  readonly used = new Set<string>();
  override has(name: string): boolean {
    const hit = super.has(name);
    if (hit) this.used.add(name);
    return hit;
  }
}

const GiB = 1024 ** 3;
const EMPTY = new Set<string>();

class Bounded extends Transform {
  total = 0;
  constructor(
    private readonly max: number,
    private readonly what: string,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.total += chunk.length;
    if (this.total > this.max)
      cb(new Error(`${this.what} is over the ${this.max}-byte limit of the controller's scan`));
    else cb(null, chunk);
  }
}

/** Every file's path inside a layer must stay inside the model: no absolute path, no `..`. */
function unsafeEntry(name: string, type: string, linkName: string): string | undefined {
  const clean = name.replace(/^\.\//, '');
  const parts = clean.split('/');
  if (clean.startsWith('/') || parts.includes('..'))
    return `path ${JSON.stringify(name)} leaves the model directory`;
  if (type === '2' && (linkName.startsWith('/') || escapes(parts.slice(0, -1), linkName)))
    return `symbolic link ${JSON.stringify(name)} points outside the model (${JSON.stringify(linkName)})`;
  if (type === '1' && (linkName.startsWith('/') || linkName.split('/').includes('..')))
    return `hard link ${JSON.stringify(name)} points outside the model (${JSON.stringify(linkName)})`;
  if (type === '3' || type === '4' || type === '6') return `${JSON.stringify(name)} is a device or FIFO`;
  return undefined;
}

/** Does a relative link from directory `dir` climb above the root? */
function escapes(dir: string[], link: string): boolean {
  let depth = dir.filter((p) => p !== '' && p !== '.').length;
  for (const p of link.split('/')) {
    if (p === '..') depth--;
    else if (p !== '' && p !== '.') depth++;
    if (depth < 0) return true;
  }
  return false;
}

export async function scanLayers(
  client: RegistryClient,
  repo: RepositoryRef,
  manifest: ImageManifest,
  layerNames: readonly string[],
  o: LayerScanOptions,
): Promise<ScanFacts> {
  const limits: ScanLimits = { ...DEFAULT_LIMITS, ...o.scanLimits };
  const maxLayer = o.maxLayerBytes ?? 32 * GiB;
  const maxTotal = o.maxTotalBytes ?? 256 * GiB;
  const maxFiles = o.maxFiles ?? 100_000;
  const facts: ScanFacts = { status: 'complete', files: 0, bytes: 0, formats: {}, problems: [] };
  const allow = new UsedGlobals([...new Set(o.allowGlobals ?? [])].sort());
  if (allow.size > 0) facts.allowGlobals = [...allow];
  const problem = (p: ScanProblem) => {
    if (facts.problems.length < 20) facts.problems.push(p);
    else facts.moreProblems = (facts.moreProblems ?? 0) + 1;
  };
  const incomplete = (reason: string) => {
    facts.status = 'incomplete';
    facts.reason ??= reason;
  };
  const scanOne = async (src: ByteSource, name: string) => {
    facts.files++;
    const report = await scanWith(src, name, limits, allow, EMPTY);
    for (const f of [report.format, ...report.contains]) if (!(f in facts.formats)) facts.formats[f] = name;
    // Over the controller's (smaller) limits is not a verdict on the file: the verifier, with the
    // runtime's limits, scans it at pod start instead.
    const serious = report.findings.filter((f) => f.severity !== 'info' && f.severity !== undefined);
    if (serious.length > 0 && serious.every((f) => f.rule === 'limit-exceeded')) {
      incomplete(`${name} is over the limits of the controller's scan (${serious[0]!.detail})`);
      return;
    }
    if (report.verdict !== 'clean') {
      const f = report.findings.find((x) => x.severity !== 'info') ?? report.findings[0];
      problem({
        file: name,
        verdict: report.verdict,
        rule: f?.rule ?? report.verdict,
        detail: f?.detail ?? '',
      });
    }
  };

  const dir = await mkdtemp(join(o.scratchDir, 'modelgate-scan-'));
  try {
    for (const [i, layer] of manifest.layers.entries()) {
      const name = layerNames[i] ?? `layer ${i}`;
      const { packing } = classifyLayer(layer.mediaType);
      if (packing === 'tar+zstd' || packing === 'unknown') {
        incomplete(
          packing === 'unknown'
            ? `layer ${i} (${name}) has media type ${layer.mediaType}, which the controller does not unpack`
            : `layer ${i} (${name}) is zstd-compressed, which the controller cannot unpack`,
        );
        continue;
      }
      if (packing !== 'tar+gzip' && layer.size > maxLayer) {
        incomplete(
          `layer ${i} (${name}) is ${layer.size} bytes, over the ${maxLayer}-byte limit of the controller's scan`,
        );
        continue;
      }
      if (facts.bytes + layer.size > maxTotal) {
        incomplete(`the layers are over the ${maxTotal}-byte limit of the controller's scan`);
        break;
      }
      const file = join(dir, `layer-${i}`);
      const bounded = new Bounded(maxLayer, `layer ${i} (${name})`);
      try {
        const blob = Readable.from(
          client.streamBlob(repo, layer.digest, packing === 'tar+gzip' ? maxTotal : maxLayer),
        );
        if (packing === 'tar+gzip') await pipeline(blob, createGunzip(), bounded, createWriteStream(file));
        else await pipeline(blob, bounded, createWriteStream(file));
      } catch (err) {
        const message = (err as Error).message;
        if (/limit of the controller's scan/.test(message)) {
          incomplete(message);
          await rm(file, { force: true });
          continue;
        }
        throw err; // a registry failure or a digest mismatch: no verdict at all
      }
      facts.bytes += bounded.total;
      const handle = await open(file, 'r');
      try {
        const src = new FileSource(handle, bounded.total);
        if (packing === 'raw') {
          await scanOne(src, name);
          continue;
        }
        let entries;
        try {
          entries = await readTarEntries(src, limits.maxArchiveMembers);
        } catch (err) {
          if (!(err instanceof TarError)) throw err;
          problem({
            file: name,
            verdict: 'rejected',
            rule: 'layer-not-tar',
            detail: `layer ${i} is not a readable tar archive: ${err.message}`,
          });
          continue;
        }
        for (const f of entries.findings)
          problem({ file: name, verdict: f.severity ?? 'rejected', rule: f.rule, detail: f.detail });
        for (const e of entries.entries) {
          const base = e.name.split('/').pop() ?? '';
          if (base.startsWith('.wh.')) continue; // whiteouts delete files; they add none
          const unsafe = unsafeEntry(e.name, e.type, e.linkName);
          if (unsafe) {
            problem({ file: `${name}!${e.name}`, verdict: 'rejected', rule: 'unsafe-entry', detail: unsafe });
            continue;
          }
          if (e.type !== '0' && e.type !== '\0' && e.type !== '7') continue; // directories, links
          if (facts.files >= maxFiles) {
            incomplete(`more than ${maxFiles} files`);
            break;
          }
          await scanOne(new SliceSource(src, e.offset, e.size), `${name}!${e.name.replace(/^\.\//, '')}`);
        }
      } finally {
        await handle.close();
        await rm(file, { force: true });
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  if (allow.used.size > 0) facts.usedGlobals = [...allow.used].sort();
  return facts;
}
