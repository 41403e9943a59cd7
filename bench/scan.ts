// Scanner throughput: a large clean PyTorch-style pickle (plain and inside a torch zip with large
// storages), safetensors files of growing size (scan time must not grow with tensor bytes), the shared
// fixture corpus, and the generated scanner corpus (corpus/CORPUS.md); side by side with picklescan
// and, on the generated corpus, ModelAudit (same venv as scripts/compare-scanners.ts, telemetry off).
// Prints a table and, last, one JSON line, also written to docs/perf/scan.json. The peers need
// `npm run setup` (or `bash scripts/venv-scanners.sh`); without them only modelgate is timed.
// A few minutes on 2 cores (ModelAudit alone takes most of it; BENCH_SKIP_MODELAUDIT=1 skips it);
// temporary files are sparse where possible (up to 64 GiB apparent, a few GiB on disk at most).
//   npm run bench:scan
import { execFile } from 'node:child_process';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { scanPaths } from '../src/scanning/index.ts';
import { crc32 } from '../src/scanning/zip.ts';
import { emitResult } from './perf-output.ts';
import { PEER_ENV } from '../scripts/compare-scanners.ts';

const run = promisify(execFile);
const repo = resolve(fileURLToPath(new URL('..', import.meta.url)));
const corpus = join(repo, 'test/fixtures/model-scanning');
const enc = new TextEncoder();

class Bytes {
  private chunks: Uint8Array[] = [];
  private cur = new Uint8Array(1 << 20);
  private n = 0;
  length = 0;
  push(...bs: (number[] | Uint8Array)[]): void {
    for (const b of bs) {
      if (this.n + b.length > this.cur.length) this.flush(b.length);
      this.cur.set(b, this.n);
      this.n += b.length;
      this.length += b.length;
    }
  }
  private flush(min: number): void {
    this.chunks.push(this.cur.subarray(0, this.n));
    this.cur = new Uint8Array(Math.max(1 << 20, min));
    this.n = 0;
  }
  done(): Uint8Array {
    this.flush(0);
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

const u32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const uni = (s: string): number[] => {
  const b = enc.encode(s);
  return b.length < 256 ? [0x8c, b.length, ...b] : [0x58, ...u32(b.length), ...b];
};
const binint = (n: number): number[] => (n < 256 ? [0x4b, n] : [0x4a, ...u32(n)]);

/** A torch.save-style state dict pickle (protocol 2) with `tensors` entries rebuilt by _rebuild_tensor_v2. */
export function torchStateDictPickle(tensors: number): Uint8Array {
  const b = new Bytes();
  b.push([0x80, 0x02], enc.encode('ccollections\nOrderedDict\n'), [0x71, 0x00, 0x29, 0x52, 0x71, 0x01]);
  b.push(enc.encode('ctorch._utils\n_rebuild_tensor_v2\n'), [0x71, 0x02, 0x30]);
  b.push(enc.encode('ctorch\nFloatStorage\n'), [0x71, 0x03, 0x30]);
  b.push([0x28]);
  for (let i = 0; i < tensors; i++) {
    b.push(uni(`model.layers.${i >> 3}.mlp.proj_${i & 7}.weight`));
    b.push(
      [0x68, 0x02, 0x28],
      [0x28],
      uni('storage'),
      [0x68, 0x03],
      uni(String(i)),
      uni('cpu'),
      binint(4096 * 4096),
      [0x74, 0x51],
    );
    b.push(binint(0), binint(4096), binint(4096), [0x86], binint(4096), binint(1), [0x86], [0x89]);
    b.push(enc.encode('ccollections\nOrderedDict\n'), [0x29, 0x52, 0x74, 0x52]);
    if (i % 1000 === 999) b.push([0x75, 0x28]);
  }
  b.push([0x75, 0x2e]);
  return b.done();
}

/** A stored (uncompressed) torch zip: data.pkl plus `storageBytes`-sized sparse storages. */
async function writeTorchZip(
  path: string,
  pickle: Uint8Array,
  storages: number,
  storageBytes: number,
): Promise<void> {
  const fh = await open(path, 'w');
  const central: Uint8Array[] = [];
  let offset = 0;
  const add = async (name: string, data: Uint8Array | number, crc: number) => {
    const nameB = enc.encode(name);
    const size = typeof data === 'number' ? data : data.length;
    const local = Uint8Array.from([
      ...u32(0x04034b50),
      20,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      ...u32(crc),
      ...u32(size),
      ...u32(size),
      nameB.length,
      0,
      0,
      0,
      ...nameB,
    ]);
    await fh.write(local, 0, local.length, offset);
    if (typeof data !== 'number') await fh.write(data, 0, data.length, offset + local.length);
    central.push(
      Uint8Array.from([
        ...u32(0x02014b50),
        20,
        0,
        20,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        ...u32(crc),
        ...u32(size),
        ...u32(size),
        nameB.length,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        ...u32(offset),
        ...nameB,
      ]),
    );
    offset += local.length + size;
  };
  await add('archive/data.pkl', pickle, crc32(pickle));
  await add('archive/version', enc.encode('3\n'), crc32(enc.encode('3\n')));
  for (let i = 0; i < storages; i++) await add(`archive/data/${i}`, storageBytes, 0);
  const cd = Uint8Array.from(central.flatMap((c) => [...c]));
  await fh.write(cd, 0, cd.length, offset);
  const eocd = Uint8Array.from([
    ...u32(0x06054b50),
    0,
    0,
    0,
    0,
    central.length & 0xff,
    central.length >> 8,
    central.length & 0xff,
    central.length >> 8,
    ...u32(cd.length),
    ...u32(offset),
    0,
    0,
  ]);
  await fh.write(eocd, 0, eocd.length, offset + cd.length);
  await fh.close();
}

/** A sparse safetensors file: `tensors` U8 tensors totalling `totalBytes`, header only on disk. */
async function writeSafetensors(path: string, tensors: number, totalBytes: number): Promise<void> {
  const per = Math.floor(totalBytes / tensors);
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  for (let i = 0; i < tensors; i++)
    header[`t${i}`] = { dtype: 'U8', shape: [per], data_offsets: [i * per, (i + 1) * per] };
  const h = enc.encode(JSON.stringify(header));
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(h.length), true);
  const fh = await open(path, 'w');
  await fh.write(len, 0, 8, 0);
  await fh.write(h, 0, h.length, 8);
  await fh.truncate(8 + h.length + per * tensors);
  await fh.close();
}

interface Timing {
  wallMs: number;
  /** user + system CPU time: stable on a shared machine where wall time is not */
  cpuMs: number;
}

async function time(fn: () => Promise<unknown>, repeat = 3): Promise<Timing> {
  let best: Timing = { wallMs: Infinity, cpuMs: Infinity };
  for (let i = 0; i < repeat; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    const c = process.cpuUsage(c0);
    const t = { wallMs: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 };
    if (t.cpuMs < best.cpuMs) best = t;
  }
  return best;
}

async function venvPython(): Promise<string | undefined> {
  try {
    const env =
      process.env.MODELGATE_SCANNERS_VENV ??
      (await run('bash', [join(repo, 'scripts/venv-scanners.sh')])).stdout.trim().split('\n').pop();
    return env ? join(env, 'bin/python') : undefined;
  } catch {
    return undefined;
  }
}

/** picklescan's scan_file_path on the paths, timed in-process (best of 3 by CPU time). */
async function picklescanTiming(python: string, paths: string[]): Promise<Timing | undefined> {
  const code = `
import sys, time
from picklescan.scanner import scan_file_path
best = None
for _ in range(3):
    t0, c0 = time.perf_counter(), time.process_time()
    for p in sys.argv[1:]:
        try: scan_file_path(p)
        except Exception: pass
    t = ((time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000)
    best = t if best is None or t[1] < best[1] else best
print(best[0], best[1])
`;
  try {
    const { stdout } = await run(python, ['-c', code, ...paths], { maxBuffer: 64 << 20, timeout: 240_000 });
    const [wall, cpu] = (stdout.trim().split('\n').pop() ?? '').split(' ').map(Number);
    return wall === undefined || cpu === undefined ? undefined : { wallMs: wall, cpuMs: cpu };
  } catch {
    return undefined;
  }
}

/**
 * ModelAudit's scan (modelaudit.core.scan_model_directory_or_file, what its CLI runs per path) on
 * the paths in one process: wall and CPU time of one pass (it is slow; best of 3 would take minutes).
 */
async function modelauditTiming(python: string, paths: string[]): Promise<Timing | undefined> {
  const code = `
import sys, time, logging
logging.disable(logging.CRITICAL)
from modelaudit.core import scan_model_directory_or_file
t0, c0 = time.perf_counter(), time.process_time()
for p in sys.argv[1:]:
    try: scan_model_directory_or_file(p)
    except Exception: pass
print((time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000)
`;
  try {
    const { stdout } = await run(python, ['-c', code, ...paths], {
      env: PEER_ENV,
      maxBuffer: 64 << 20,
      timeout: 3_600_000,
    });
    const [wall, cpu] = (stdout.trim().split('\n').pop() ?? '').split(' ').map(Number);
    return wall === undefined || cpu === undefined || Number.isNaN(wall)
      ? undefined
      : { wallMs: wall, cpuMs: cpu };
  } catch {
    return undefined;
  }
}

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? listFiles(p) : n.endsWith('.md') ? [] : [p];
  });
}

interface Row {
  name: string;
  bytes: number;
  modelgate: Timing;
  picklescan?: Timing;
  modelaudit?: Timing;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'modelgate-bench-'));
  const rows: Row[] = [];
  try {
    const pickle = torchStateDictPickle(Number(process.env.BENCH_TENSORS ?? 100_000));
    const pklPath = join(dir, 'state_dict.pkl');
    await writeFile(pklPath, pickle);
    const zipPath = join(dir, 'checkpoint.pt');
    await writeTorchZip(zipPath, pickle, 6, 512 * 1024 * 1024); // stays under 4 GiB: the bench writer does not emit zip64
    const python = await venvPython();
    await scanPaths(listFiles(corpus)); // warm the JIT so the first row is not a cold start
    const add = async (name: string, paths: string[], bytes: number, peer = true) => {
      const modelgate = await time(() => scanPaths(paths));
      const reports = await scanPaths(paths);
      if (!name.includes('corpus') && reports.some((r) => r.verdict !== 'clean'))
        throw new Error(`${name}: expected clean, got ${JSON.stringify(reports[0]?.findings.slice(0, 3))}`);
      const picklescan = peer && python ? await picklescanTiming(python, paths) : undefined;
      rows.push({ name, bytes, modelgate, ...(picklescan === undefined ? {} : { picklescan }) });
    };
    await add(
      `torch pickle, ${pickle.length >> 20} MiB, ${Number(process.env.BENCH_TENSORS ?? 100_000) / 1000}k tensors`,
      [pklPath],
      pickle.length,
    );
    await add(`torch zip: same data.pkl + 6 x 512 MiB storages`, [zipPath], statSync(zipPath).size);
    for (const gib of [1, 8, 64]) {
      const p = join(dir, `model-${gib}g.safetensors`);
      await writeSafetensors(p, 2000, gib * 1024 ** 3);
      await add(`safetensors, ${gib} GiB, 2000 tensors (sparse)`, [p], statSync(p).size, false);
    }
    const generated = listFiles(join(corpus, 'corpus')).filter(
      (f) => !f.endsWith('.json') || !f.endsWith('manifest.json'),
    );
    const fixtures = listFiles(corpus).filter((f) => !generated.includes(f) && !f.endsWith('manifest.json'));
    await add(
      `fixture corpus, ${fixtures.length} files`,
      fixtures,
      fixtures.reduce((n, f) => n + statSync(f).size, 0),
    );
    const gen = generated.filter((f) => !f.endsWith('manifest.json'));
    await add(
      `scanner corpus, ${gen.length} files`,
      gen,
      gen.reduce((n, f) => n + statSync(f).size, 0),
    );
    const last = rows[rows.length - 1];
    if (last !== undefined && python && process.env.BENCH_SKIP_MODELAUDIT === undefined) {
      const ma = await modelauditTiming(python, gen);
      if (ma !== undefined) last.modelaudit = ma;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const mib = (b: number) => (b / 1024 ** 2).toFixed(b < 1024 ** 2 ? 2 : 0);
  const ms = (t: Timing | undefined) =>
    t === undefined ? '-' : `${t.cpuMs.toFixed(0)} (${t.wallMs.toFixed(0)})`;
  console.log(
    `${'input'.padEnd(50)} ${'MiB'.padStart(7)} ${'modelgate cpu (wall) ms'.padStart(24)} ${'MiB/cpu-s'.padStart(10)} ${'picklescan cpu (wall) ms'.padStart(25)} ${'ratio'.padStart(6)}`,
  );
  for (const r of rows) {
    const ratio =
      r.picklescan === undefined
        ? '-'
        : `${(r.picklescan.cpuMs / Math.max(r.modelgate.cpuMs, 0.1)).toFixed(1)}x`;
    const rate = (r.bytes / 1024 ** 2 / Math.max(r.modelgate.cpuMs / 1000, 1e-4)).toFixed(0);
    console.log(
      `${r.name.padEnd(50)} ${mib(r.bytes).padStart(7)} ${ms(r.modelgate).padStart(24)} ${rate.padStart(10)} ${ms(r.picklescan).padStart(25)} ${ratio.padStart(6)}`,
    );
  }
  for (const r of rows.filter((x) => x.modelaudit !== undefined)) {
    const m = r.modelaudit as Timing;
    console.log(
      `${r.name}: ModelAudit 0.2.54 ${ms(m)} ms; ModelAudit / modelgate: ${(m.cpuMs / Math.max(r.modelgate.cpuMs, 0.1)).toFixed(0)}x by CPU, ${(m.wallMs / Math.max(r.modelgate.wallMs, 0.1)).toFixed(0)}x by wall time`,
    );
  }
  console.log(
    'Times are best of 3 by CPU time (user+system), wall time in parentheses (ModelAudit: one pass); ratio = picklescan CPU / modelgate CPU. ' +
      'safetensors bytes are never read, so that time tracks the header, not the file size.',
  );
  const round = (t: Timing | undefined) =>
    t === undefined ? null : { cpuMs: Math.round(t.cpuMs * 10) / 10, wallMs: Math.round(t.wallMs * 10) / 10 };
  // MB/s by CPU time (the stable measure on a shared machine); ratio = picklescan CPU / modelgate CPU.
  const mbps = (bytes: number, t: Timing | undefined) =>
    t === undefined ? null : Math.round(bytes / 1e6 / Math.max(t.cpuMs / 1000, 1e-4));
  emitResult('scan', {
    rows: rows.map((r) => ({
      name: r.name,
      bytes: r.bytes,
      modelgate: round(r.modelgate),
      picklescan: round(r.picklescan),
      modelgate_MBps: mbps(r.bytes, r.modelgate),
      picklescan_MBps: mbps(r.bytes, r.picklescan),
      picklescan_to_modelgate_cpu_ratio:
        r.picklescan === undefined
          ? null
          : Number((r.picklescan.cpuMs / Math.max(r.modelgate.cpuMs, 0.1)).toFixed(2)),
      ...(r.modelaudit === undefined
        ? {}
        : {
            modelaudit: round(r.modelaudit),
            modelaudit_to_modelgate_cpu_ratio: Math.round(
              r.modelaudit.cpuMs / Math.max(r.modelgate.cpuMs, 0.1),
            ),
            modelaudit_to_modelgate_wall_ratio: Math.round(
              r.modelaudit.wallMs / Math.max(r.modelgate.wallMs, 0.1),
            ),
          }),
    })),
  });
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  await main();
