// Hashing benchmark (issues 4 and 9), two models with a warm page cache:
// - a 1 GiB model of a few large files, laid out like a sharded Hugging Face checkpoint (four
//   safetensors shards and the small JSON files next to them): the budget figures;
// - a model directory of many small files (4,096 files of 64 KiB in 64 directories): the per-file cost.
// Each is hashed by `openssl dgst -sha256` (the per-core limit: SHA-NI), modelgate (1 worker and all
// cores, the full `verify` path: signature + re-hash + compare) and the real `model_signing verify`;
// the checkpoint also by sha256sum, node:crypto and @noble/hashes. Prints a table per model, then one
// JSON line, also written to docs/perf/hash.json. verifier_* ratios are throughput relative to
// `openssl dgst -sha256`; model_signing_ratio is modelgate verify time (all cores, the default) /
// `model_signing verify` time, so below 1 means modelgate is faster. The top-level figures are the
// checkpoint's; `small_files` holds the same figures for the many-small-files model.
// Needs: `npm ci`, then `npm run setup` (or just `bash scripts/venv-model-signing.sh`) for the
// model_signing virtualenv (without it those rows and ratios are null), openssl, sha256sum and GNU time
// (/usr/bin/time) on the PATH, ~1.3 GiB free in $TMPDIR. About a minute on 2 cores (limit: 5 minutes).
//   npx tsx bench/hash.ts [--size-mib 1024] [--small-files 4096] [--keep]
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { loadSigner, signModel } from '../src/signing/index.ts';
import { compileSources } from './compile.ts';
import { emitResult } from './perf-output.ts';

const MiB = 1 << 20;
const args = process.argv.slice(2);
const root = fileURLToPath(new URL('..', import.meta.url));

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** modelgate runs as production does, compiled (bench/compile.ts), each run in a fresh process so its peak RSS is its own. */
function compileVerifier(): string {
  const dist = compileSources('bench-hash', ['signing/index.ts', 'hashing/worker.ts']);
  const child = join(dist, '..', 'child.mjs');
  writeFileSync(child, CHILD);
  return child;
}

const CHILD = `
const [model, bundle, pub, workers] = process.argv.slice(2);
const { verifyModel } = await import('./dist/signing/index.js');
const { readFileSync } = await import('node:fs');
const started = performance.now();
const r = await verifyModel(model, readFileSync(bundle), { method: 'key', publicKeyPem: readFileSync(pub, 'utf8') }, { workers: Number(workers), bundlePath: bundle });
const ms = performance.now() - started;
if (!r.valid) throw new Error(r.reason);
// VmHWM, not getrusage(): Linux carries ru_maxrss over execve, so it would report the parent's peak.
const hwm = Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? process.resourceUsage().maxRSS);
console.log(JSON.stringify({ ms, maxRssKiB: hwm }));
`;

function bestOf<T extends { ms: number }>(n: number, f: () => T): T {
  let best: T | undefined;
  for (let i = 0; i < n; i++) {
    const r = f();
    if (!best || r.ms < best.ms) best = r;
  }
  return best as T;
}

function timeCommand(cmd: string, argv: string[]): { ms: number; maxRssKiB: number } {
  // GNU time reports the child's peak RSS.
  const started = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...argv], { encoding: 'utf8', maxBuffer: 64 * MiB });
  const ms = performance.now() - started;
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr.slice(-500)}`);
  const lines = r.stderr.trim().split('\n');
  return { ms, maxRssKiB: Number(lines[lines.length - 1]) };
}

function inProcess(
  files: string[],
  make: () => { update(b: Uint8Array): unknown; digest(): unknown },
  limit = Infinity,
): { ms: number } {
  const buf = Buffer.allocUnsafe(MiB);
  const started = performance.now();
  for (const f of files) {
    const h = make();
    const fd = openSync(f, 'r');
    let total = 0;
    for (
      let n = readSync(fd, buf, 0, buf.length, null);
      n > 0 && total < limit;
      n = readSync(fd, buf, 0, buf.length, null)
    ) {
      h.update(buf.subarray(0, n));
      total += n;
    }
    closeSync(fd);
    h.digest();
  }
  return { ms: performance.now() - started };
}

const writeBlock = (path: string, block: Buffer, bytes: number) => {
  const fd = openSync(path, 'w');
  for (let done = 0; done < bytes; done += block.length)
    writeFileSync(fd, block.subarray(0, Math.min(block.length, bytes - done)));
  closeSync(fd);
};

/** A sharded checkpoint of `sizeMiB`: four equal safetensors shards plus the small files beside them. */
function makeCheckpoint(model: string, sizeMiB: number, block: Buffer): void {
  mkdirSync(model, { recursive: true });
  const json = (n: number) => Buffer.from(JSON.stringify({ data: block.subarray(0, n).toString('base64') }));
  const small: Record<string, Buffer> = {
    'config.json': json(1500),
    'generation_config.json': json(200),
    'model.safetensors.index.json': json(24_000),
    'special_tokens_map.json': json(400),
    'tokenizer.json': json(1_500_000),
    'tokenizer_config.json': json(40_000),
  };
  for (const [name, content] of Object.entries(small)) writeFileSync(join(model, name), content);
  const smallBytes = Object.values(small).reduce((n, b) => n + b.length, 0);
  const shard = Math.floor((sizeMiB * MiB - smallBytes) / 4);
  for (let i = 1; i <= 4; i++) writeBlock(join(model, `model-0000${i}-of-00004.safetensors`), block, shard);
}

/** `count` files of 64 KiB, 64 to a directory. */
function makeSmallFiles(model: string, count: number, block: Buffer): void {
  for (let i = 0; i < count; i++) {
    const sub = join(model, `part-${String(Math.floor(i / 64)).padStart(3, '0')}`);
    if (i % 64 === 0) mkdirSync(sub, { recursive: true });
    writeFileSync(
      join(sub, `${String(i).padStart(5, '0')}.bin`),
      block.subarray((i % 255) * 65536, (i % 255) * 65536 + 65536),
    );
  }
}

interface Measured {
  ms: number;
  maxRssKiB?: number;
}

interface Figures {
  bytes: number;
  files: number;
  results: Record<string, Measured>;
}

function summarise(f: Figures, cores: number) {
  const mbps = (ms: number) => f.bytes / 1e6 / (ms / 1000);
  const base = mbps(f.results['openssl dgst -sha256']?.ms ?? 1);
  const one = f.results['modelgate verify, 1 worker'];
  const all = f.results[`modelgate verify, ${cores} workers`];
  const ms = f.results['model_signing verify (Python)'];
  const rows = Object.entries(f.results).map(([name, r]) => ({
    name,
    MBps: mbps(r.ms),
    ratio: mbps(r.ms) / base,
    ms: r.ms,
    rss: r.maxRssKiB,
  }));
  return {
    rows,
    summary: {
      bytes: f.bytes,
      files: f.files,
      cores,
      openssl_MBps: Math.round(base),
      verifier_1worker_MBps: Math.round(mbps(one?.ms ?? 0)),
      verifier_allcores_MBps: Math.round(mbps(all?.ms ?? 0)),
      model_signing_MBps: ms ? Math.round(mbps(ms.ms)) : null,
      verifier_1worker_ratio: Number((mbps(one?.ms ?? 0) / base).toFixed(3)),
      verifier_allcores_ratio: Number((mbps(all?.ms ?? 0) / base).toFixed(3)),
      /** Issue 9's definition: modelgate verify time (default: all cores) / model_signing verify time; < 1 is faster. */
      model_signing_ratio: ms && all ? Number((all.ms / ms.ms).toFixed(3)) : null,
      model_signing_1worker_ratio: ms && one ? Number((one.ms / ms.ms).toFixed(3)) : null,
      /** model_signing's throughput relative to openssl. */
      model_signing_openssl_ratio: ms ? Number((mbps(ms.ms) / base).toFixed(3)) : null,
      verifier_peak_rss_MiB: Math.round(Math.max(one?.maxRssKiB ?? 0, all?.maxRssKiB ?? 0) / 1024),
    },
  };
}

function printTable(title: string, f: Figures, cores: number): void {
  const { rows } = summarise(f, cores);
  console.log(
    `\n${title}: ${f.files} files, ${(f.bytes / MiB).toFixed(0)} MiB, ${cores} cores, warm page cache, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log(
    'tool'.padEnd(40),
    'MB/s'.padStart(8),
    'x openssl'.padStart(10),
    'ms'.padStart(8),
    'peak RSS MiB'.padStart(13),
  );
  for (const r of rows)
    console.log(
      r.name.padEnd(40),
      r.MBps.toFixed(0).padStart(8),
      r.ratio.toFixed(2).padStart(10),
      r.ms.toFixed(0).padStart(8),
      (r.rss ? (r.rss / 1024).toFixed(0) : '-').padStart(13),
    );
}

async function main(): Promise<void> {
  const option = (name: string, fallback: number) =>
    Number(args[args.indexOf(name) + 1] || fallback) || fallback;
  const sizeMiB = option('--size-mib', 1024);
  const smallCount = option('--small-files', 4096);
  const cores = availableParallelism();
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-bench-'));
  try {
    const block = randomBytes(16 * MiB);
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyPem = join(dir, 'key.pem');
    const pubPem = join(dir, 'key.pub');
    writeFileSync(keyPem, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(pubPem, publicKey.export({ type: 'spki', format: 'pem' }));
    const compiled = compileVerifier();

    const venvScript = join(root, 'scripts', 'venv-model-signing.sh');
    let msBin = '';
    try {
      msBin = execFileSync('bash', [venvScript], { encoding: 'utf8' }).trim().split('\n').pop() ?? '';
    } catch {
      msBin = '';
    }
    const msCli = join(msBin, 'model_signing');
    const haveModelSigning = msBin !== '' && existsSync(msCli);

    /** openssl and modelgate (1 worker, all cores) interleaved, best of `rounds`; model_signing best of `msRounds`. */
    const measure = async (
      model: string,
      rounds: number,
      msRounds: number,
      results: Record<string, Measured>,
    ): Promise<Figures> => {
      const files = listFiles(model);
      const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
      const bundle = join(dir, `${model.split('/').pop() ?? 'model'}.sig`);
      writeFileSync(bundle, (await signModel(model, loadSigner(readFileSync(keyPem, 'utf8')))).bundle);
      inProcess(files, () => ({ update: () => undefined, digest: () => undefined })); // warm the page cache
      const runChild = (workers: number) => () => {
        const out = execFileSync(process.execPath, [compiled, model, bundle, pubPem, String(workers)], {
          encoding: 'utf8',
          cwd: root,
        });
        return JSON.parse(out.trim().split('\n').pop() ?? '{}') as Measured;
      };
      // Interleave openssl and modelgate runs and keep the best of each: the machine may be shared.
      const openssl = () => timeCommand('openssl', ['dgst', '-sha256', ...files]);
      for (let i = 0; i < rounds; i++) {
        for (const [name, f] of [
          ['openssl dgst -sha256', openssl],
          ['modelgate verify, 1 worker', runChild(1)],
          [`modelgate verify, ${cores} workers`, runChild(cores)],
        ] as const) {
          const r = f();
          const prev = results[name];
          if (!prev || r.ms < prev.ms) results[name] = r;
        }
      }
      if (haveModelSigning) {
        const msSig = join(dir, `${model.split('/').pop() ?? 'model'}.ms.sig`);
        execFileSync(msCli, ['sign', 'key', model, '--private_key', keyPem, '--signature', msSig], {
          stdio: 'ignore',
        });
        results['model_signing verify (Python)'] = bestOf(msRounds, () =>
          timeCommand(msCli, ['verify', 'key', model, '--signature', msSig, '--public_key', pubPem]),
        );
      }
      return { bytes, files: files.length, results };
    };

    // The checkpoint: the budget figures, and the single-thread hash functions for reference.
    const checkpoint = join(dir, 'checkpoint');
    makeCheckpoint(checkpoint, sizeMiB, block);
    const ckFiles = listFiles(checkpoint);
    const ckBytes = ckFiles.reduce((n, f) => n + statSync(f).size, 0);
    inProcess(ckFiles, () => ({ update: () => undefined, digest: () => undefined }));
    const ckResults: Record<string, Measured> = {};
    ckResults['sha256sum'] = timeCommand('sha256sum', ckFiles);
    ckResults['node:crypto sha256 (1 thread)'] = bestOf(3, () =>
      inProcess(ckFiles, () => createHash('sha256')),
    );
    // @noble/hashes is an order of magnitude slower: time the largest file's first 128 MiB and scale.
    const largest = [...ckFiles].sort((a, b) => statSync(b).size - statSync(a).size)[0] ?? '';
    const sampleBytes = Math.min(128 * MiB, statSync(largest).size);
    const noble = inProcess([largest], () => nobleSha256.create(), sampleBytes);
    ckResults['@noble/hashes sha256 (1 thread)'] = { ms: (noble.ms * ckBytes) / Math.max(1, sampleBytes) };
    const ck = await measure(checkpoint, 6, 2, ckResults);
    printTable('checkpoint (a few large files)', ck, cores);
    if (!args.includes('--keep')) rmSync(checkpoint, { recursive: true, force: true });

    const smallDir = join(dir, 'small-files');
    makeSmallFiles(smallDir, smallCount, block);
    const sf = await measure(smallDir, 6, 1, {});
    printTable('many small files', sf, cores);

    const round = (rows: ReturnType<typeof summarise>['rows']) =>
      rows.map((r) => ({
        name: r.name,
        MBps: Math.round(r.MBps),
        ratio: Number(r.ratio.toFixed(3)),
        ms: Math.round(r.ms),
        peak_rss_MiB: r.rss ? Math.round(r.rss / 1024) : null,
      }));
    const a = summarise(ck, cores);
    const b = summarise(sf, cores);
    emitResult('hash', {
      model: 'checkpoint: 4 safetensors shards + 6 small JSON files',
      ...a.summary,
      loadavg_1m: Number(loadavg()[0]?.toFixed(2)),
      rows: round(a.rows),
      small_files: {
        model: `${smallCount} files of 64 KiB in ${Math.ceil(smallCount / 64)} directories`,
        ...b.summary,
        rows: round(b.rows),
      },
    });
  } finally {
    if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
