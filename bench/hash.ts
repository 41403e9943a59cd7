// Hashing benchmark (issue 9): a 1 GiB model of a few large files and many small ones, hashed with a
// warm page cache by openssl, sha256sum, node:crypto, @noble/hashes, modelgate (1 worker and all
// cores, full `verify` path: signature + re-hash + compare) and the real `model_signing verify`.
// Prints a table, then one JSON line, also written to docs/perf/hash.json. verifier_* ratios are
// throughput relative to `openssl dgst -sha256`; model_signing_ratio is modelgate verify time (all cores,
// the default) / `model_signing verify` time, so below 1 means modelgate is faster.
// Needs: `npm ci`, then `npm run setup` (or just `bash scripts/venv-model-signing.sh`) for the
// model_signing virtualenv (without it that row and ratio are null), openssl, sha256sum and GNU time
// (/usr/bin/time) on the PATH, ~1 GiB free in $TMPDIR. About 40 s on 2 cores (well under the 5-minute limit).
//   npx tsx bench/hash.ts [--size-mib 1024] [--keep]
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { loadSigner, signModel } from '../src/signing/index.ts';
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

/**
 * modelgate runs as production does, compiled to JavaScript (not through the tsx loader, which every
 * worker thread would have to load too), each in a fresh process so its peak RSS is its own.
 */
function compileVerifier(): string {
  const out = join(root, '.cache', 'bench-hash');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../tsconfig.json',
      compilerOptions: { noEmit: false, rootDir: '../../src', outDir: './dist', sourceMap: false },
      files: ['../../src/signing/index.ts', '../../src/hashing/worker.ts'],
      include: [],
    }),
  );
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(out, 'tsconfig.json')], { stdio: 'inherit' });
  writeFileSync(join(out, 'child.mjs'), CHILD);
  return join(out, 'child.mjs');
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

function inProcess(files: string[], make: () => { update(b: Uint8Array): unknown; digest(): unknown }, limit = Infinity): { ms: number } {
  const buf = Buffer.allocUnsafe(MiB);
  const started = performance.now();
  for (const f of files) {
    const h = make();
    const fd = openSync(f, 'r');
    let total = 0;
    for (let n = readSync(fd, buf, 0, buf.length, null); n > 0 && total < limit; n = readSync(fd, buf, 0, buf.length, null)) {
      h.update(buf.subarray(0, n));
      total += n;
    }
    closeSync(fd);
    h.digest();
  }
  return { ms: performance.now() - started };
}

async function main(): Promise<void> {
  const sizeMiB = Number(args[args.indexOf('--size-mib') + 1] || 1024) || 1024;
  const cores = availableParallelism();
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-bench-'));
  const model = join(dir, 'model');
  try {
    // A few large files (3/4 of the size) and many 64 KiB files (the rest).
    const large = Math.round((sizeMiB * 3) / 4 / 4);
    const smallCount = Math.round((sizeMiB - 4 * large) * 16);
    mkdirSync(join(model, 'shards'), { recursive: true });
    const block = randomBytes(16 * MiB);
    for (let i = 0; i < 4; i++) {
      const fd = openSync(join(model, `model-0000${i + 1}-of-00004.safetensors`), 'w');
      for (let w = 0; w < large; w += 16) writeFileSync(fd, block.subarray(0, Math.min(16, large - w) * MiB));
      closeSync(fd);
    }
    for (let i = 0; i < smallCount; i++) writeFileSync(join(model, 'shards', `part-${String(i).padStart(5, '0')}.bin`), block.subarray((i % 255) * 65536, (i % 255) * 65536 + 65536));
    const files = listFiles(model);
    const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
    inProcess(files, () => ({ update: () => undefined, digest: () => undefined })); // warm the page cache
    const mbps = (ms: number) => bytes / 1e6 / (ms / 1000);

    const results: Record<string, { ms: number; maxRssKiB?: number }> = {};
    results['sha256sum'] = timeCommand('sha256sum', files);
    results['node:crypto sha256 (1 thread)'] = bestOf(3, () => inProcess(files, () => createHash('sha256')));
    // @noble/hashes is an order of magnitude slower: time the large files' first 128 MiB and scale.
    const largest = [...files].sort((a, b) => statSync(b).size - statSync(a).size)[0] ?? '';
    const sample = [largest];
    const sampleBytes = Math.min(128 * MiB, statSync(largest).size);
    const noble = inProcess(sample, () => nobleSha256.create(), sampleBytes);
    results['@noble/hashes sha256 (1 thread)'] = { ms: (noble.ms * bytes) / Math.max(1, sampleBytes) };

    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyPem = join(dir, 'key.pem');
    const pubPem = join(dir, 'key.pub');
    writeFileSync(keyPem, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(pubPem, publicKey.export({ type: 'spki', format: 'pem' }));
    const bundle = join(dir, 'model.sig');
    writeFileSync(bundle, (await signModel(model, loadSigner(readFileSync(keyPem, 'utf8')))).bundle);
    const compiled = compileVerifier();
    const runChild = (workers: number) => () => {
      const out = execFileSync(process.execPath, [compiled, model, bundle, pubPem, String(workers)], { encoding: 'utf8', cwd: root });
      return JSON.parse(out.trim().split('\n').pop() ?? '{}') as { ms: number; maxRssKiB: number };
    };
    // Interleave openssl and modelgate runs and keep the best of each: the machine may be shared.
    const openssl = () => timeCommand('openssl', ['dgst', '-sha256', ...files]);
    const oneWorker = runChild(1);
    const allWorkers = runChild(cores);
    for (let i = 0; i < 4; i++) {
      for (const [name, f] of [['openssl dgst -sha256', openssl], ['modelgate verify, 1 worker', oneWorker], [`modelgate verify, ${cores} workers`, allWorkers]] as const) {
        const r = f();
        const prev = results[name];
        if (!prev || r.ms < prev.ms) results[name] = r;
      }
    }

    const venvScript = join(root, 'scripts', 'venv-model-signing.sh');
    let msBin = '';
    try {
      msBin = execFileSync('bash', [venvScript], { encoding: 'utf8' }).trim().split('\n').pop() ?? '';
    } catch {
      msBin = '';
    }
    const msCli = join(msBin, 'model_signing');
    if (msBin && existsSync(msCli)) {
      const msSig = join(dir, 'ms.sig');
      execFileSync(msCli, ['sign', 'key', model, '--private_key', keyPem, '--signature', msSig], { stdio: 'ignore' });
      results['model_signing verify (Python)'] = bestOf(2, () => timeCommand(msCli, ['verify', 'key', model, '--signature', msSig, '--public_key', pubPem]));
    }

    const base = mbps(results['openssl dgst -sha256']?.ms ?? 1);
    const rows = Object.entries(results).map(([name, r]) => ({ name, MBps: mbps(r.ms), ratio: mbps(r.ms) / base, ms: r.ms, rss: r.maxRssKiB }));
    console.log(`model: ${files.length} files, ${(bytes / MiB).toFixed(0)} MiB, ${cores} cores, warm page cache, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    console.log('tool'.padEnd(40), 'MB/s'.padStart(8), 'x openssl'.padStart(10), 'ms'.padStart(8), 'peak RSS MiB'.padStart(13));
    for (const r of rows) console.log(r.name.padEnd(40), r.MBps.toFixed(0).padStart(8), r.ratio.toFixed(2).padStart(10), r.ms.toFixed(0).padStart(8), (r.rss ? (r.rss / 1024).toFixed(0) : '-').padStart(13));
    const one = results['modelgate verify, 1 worker'];
    const all = results[`modelgate verify, ${cores} workers`];
    const ms = results['model_signing verify (Python)'];
    const summary = {
      bytes,
      files: files.length,
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
      /** model_signing's throughput relative to openssl (what earlier runs called model_signing_ratio). */
      model_signing_openssl_ratio: ms ? Number((mbps(ms.ms) / base).toFixed(3)) : null,
      verifier_peak_rss_MiB: Math.round((Math.max(one?.maxRssKiB ?? 0, all?.maxRssKiB ?? 0)) / 1024),
      loadavg_1m: Number(loadavg()[0]?.toFixed(2)),
    };
    emitResult('hash', { ...summary, rows: rows.map((r) => ({ name: r.name, MBps: Math.round(r.MBps), ratio: Number(r.ratio.toFixed(3)), ms: Math.round(r.ms), peak_rss_MiB: r.rss ? Math.round(r.rss / 1024) : null })) });
  } finally {
    if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
