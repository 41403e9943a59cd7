// The modelgate image, built here without Docker: nothing can pull the Dockerfile's base images on these
// machines, so this builds an image with the same layout from local parts. The Dockerfile stays the
// release recipe and the one source of the image's metadata and paths (dockerfile.ts reads its final
// stage); what stands in for the distroless base is this machine's Node runtime and the libraries `ldd`
// lists, with distroless's users (root, nobody, nonroot 65532), /tmp and CA bundle.
//
// Layers, in the Dockerfile's order: the base, then one per COPY of the final stage:
//   --from=prod-deps  node_modules   the production dependencies of package-lock.json (no dev packages),
//                                    copied from this clone's node_modules (npm ci --omit=dev's set)
//   --from=build      dist           `tsc -p tsconfig.build.json` of src/
//   context           package.json, bin/
//   heredoc           /usr/local/bin/modelgate (the launcher)
// Every file is owned by 0:0 (--chown=0:0) and not writable by the runtime user, as in the release image.
// Cached in .cache/image/modelgate-<hash>/ (an OCI image layout), keyed by everything that goes in.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { absoluteDestination, runtimeStage, type RuntimeStage } from './dockerfile.ts';
import { createLayerTar, readLayout, writeImageLayout, type ImageRuntimeConfig } from './oci.ts';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NONROOT = 65532;

/** Files under `dir` (recursively), repo-relative, sorted; skips what .dockerignore excludes from src/. */
function filesUnder(dir: string, skip: (rel: string) => boolean = () => false): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const rel = relative(repoRoot, p);
      if (skip(rel)) continue;
      if (e.isDirectory()) walk(p);
      else out.push(rel);
    }
  };
  walk(dir);
  return out.sort();
}

const isTestFile = (rel: string): boolean => /\.test\.ts$|\.test-support\.ts$|\/__fixtures__(\/|$)/.test(rel);

/** The package-lock entries `npm ci --omit=dev` installs: "node_modules/a", "node_modules/a/node_modules/b". */
export function productionPackages(lockText: string): string[] {
  const lock = JSON.parse(lockText) as { packages?: Record<string, { dev?: boolean; link?: boolean }> };
  return Object.entries(lock.packages ?? {})
    .filter(([path, entry]) => path !== '' && !entry.dev && !entry.link)
    .map(([path]) => path)
    .sort();
}

/** The Node runtime and the shared libraries it loads (ldd), as [source, path in the image]. */
function nodeRuntimeFiles(): [string, string][] {
  const node = realpathSync(process.execPath);
  const ldd = spawnSync('ldd', [node], { encoding: 'utf8' });
  if (ldd.status !== 0) throw new Error(`ldd ${node} failed: ${ldd.stderr}`);
  const files: [string, string][] = [[node, '/nodejs/bin/node']];
  for (const line of ldd.stdout.split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m?.[1]) files.push([realpathSync(m[1]), m[1]]);
  }
  return files;
}

/** The distroless stand-in: Node, its libraries, users, /tmp, the CA bundle. */
function fillBase(root: string): string[] {
  const env: string[] = [];
  for (const [source, target] of nodeRuntimeFiles()) {
    mkdirSync(join(root, dirname(target)), { recursive: true });
    copyFileSync(source, join(root, target));
    chmodSync(join(root, target), 0o755);
  }
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(
    join(root, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n',
  );
  writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n');
  const caBundle = '/etc/ssl/certs/ca-certificates.crt';
  if (existsSync(caBundle)) {
    mkdirSync(join(root, 'etc', 'ssl', 'certs'), { recursive: true });
    copyFileSync(caBundle, join(root, caBundle));
    env.push(`SSL_CERT_FILE=${caBundle}`);
  }
  for (const dir of ['tmp', 'root', 'home/nonroot']) mkdirSync(join(root, dir), { recursive: true });
  spawnSync('chown', ['-R', '0:0', root]);
  chmodSync(join(root, 'tmp'), 0o1777);
  chmodSync(join(root, 'root'), 0o700);
  chownSync(join(root, 'home', 'nonroot'), NONROOT, NONROOT);
  chmodSync(join(root, 'home', 'nonroot'), 0o700);
  return env;
}

function tsc(outDir: string): void {
  const result = spawnSync(
    process.execPath,
    [
      join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      'tsconfig.build.json',
      '--outDir',
      outDir,
    ],
    { cwd: repoRoot, encoding: 'utf8' },
  );
  if (result.status !== 0)
    throw new Error(`tsc -p tsconfig.build.json failed:\n${result.stdout}${result.stderr}`);
}

/** Copies one package directory without its own node_modules (nested packages are separate entries). */
function copyPackage(from: string, to: string): void {
  cpSync(from, to, {
    recursive: true,
    filter: (src) => relative(from, src).split('/')[0] !== 'node_modules' || src === from,
  });
}

/** Everything that decides the image's bytes: the cache key. */
function inputs(): string {
  const hash = createHash('sha256');
  const files = [
    'Dockerfile',
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'tsconfig.build.json',
    ...filesUnder(join(repoRoot, 'src'), isTestFile),
    ...filesUnder(join(repoRoot, 'bin')),
    ...filesUnder(join(repoRoot, 'scripts', 'image'), (rel) => rel.endsWith('.test.ts')),
  ];
  for (const f of files)
    hash
      .update(`${f}\0`)
      .update(readFileSync(join(repoRoot, f)))
      .update('\0');
  const node = realpathSync(process.execPath);
  hash.update(`${node}\0${statSync(node).size}\0${process.version}`);
  return hash.digest('hex').slice(0, 16);
}

export interface ModelgateImage {
  /** OCI image layout directory. */
  layout: string;
  digest: string;
  config: ImageRuntimeConfig;
  stage: RuntimeStage;
}

/** Builds (or reuses) the local modelgate image; returns its OCI layout. */
export async function buildModelgateImage(log: (line: string) => void = () => {}): Promise<ModelgateImage> {
  const stage = runtimeStage(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
  const key = inputs();
  const layout = join(repoRoot, '.cache', 'image', `modelgate-${key}`);
  if (existsSync(join(layout, 'index.json'))) {
    const { digest, config } = await readLayout(layout);
    return { layout, digest, config: config.config, stage };
  }
  const started = Date.now();
  log(`building the modelgate image from local parts (.cache/image/modelgate-${key})`);
  const work = join(repoRoot, '.cache', 'image', `.build-${key}-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const tars: string[] = [];
    const layer = (name: string, fill: (root: string) => void, keepOwners = false): void => {
      const root = join(work, name);
      mkdirSync(root, { recursive: true });
      fill(root);
      const tar = join(work, `${name}.tar`);
      createLayerTar(root, tar, { keepOwners });
      tars.push(tar);
    };
    const baseEnv: string[] = [];
    layer('base', (root) => baseEnv.push(...fillBase(root)), true);

    const workdir = stage.workdir ?? '/';
    const lockText = readFileSync(join(repoRoot, 'package-lock.json'), 'utf8');
    stage.copies.forEach((copy, index) => {
      const dest = absoluteDestination(copy.destination, workdir);
      layer(`copy-${index}`, (root) => {
        const target = join(root, dest);
        if (copy.heredoc !== undefined) {
          mkdirSync(dirname(target), { recursive: true });
          writeFileSync(target, copy.heredoc);
          chmodSync(target, Number.parseInt(copy.chmod ?? '0644', 8));
        } else if (copy.from === 'prod-deps') {
          for (const pkg of productionPackages(lockText))
            copyPackage(join(repoRoot, pkg), join(target, pkg.slice('node_modules/'.length)));
        } else if (copy.from === 'build') {
          tsc(target);
        } else if (copy.from === undefined) {
          for (const source of copy.sources) {
            const from = join(repoRoot, source);
            const into = copy.destination.endsWith('/') ? join(target, source) : target;
            mkdirSync(dirname(into), { recursive: true });
            cpSync(from, into, { recursive: true });
          }
        } else {
          throw new Error(
            `Dockerfile COPY --from=${copy.from}: the local image build knows only build and prod-deps`,
          );
        }
        // The directories the COPY creates on the way (WORKDIR, /usr/local/bin) are root's, 0755.
        for (let d = dirname(target); d.startsWith(root) && d !== root; d = dirname(d)) chmodSync(d, 0o755);
      });
    });

    const env = new Map<string, string>(baseEnv.map((e) => e.split('=', 2) as [string, string]));
    for (const [k, v] of stage.env) env.set(k, v);
    const config: ImageRuntimeConfig = {
      ...(stage.user ? { User: stage.user } : {}),
      ...(stage.entrypoint ? { Entrypoint: stage.entrypoint } : {}),
      ...(stage.cmd ? { Cmd: stage.cmd } : {}),
      Env: [...env].map(([k, v]) => `${k}=${v}`),
      WorkingDir: workdir,
      Labels: stage.labels,
    };
    const { digest } = await writeImageLayout(join(work, 'layout'), tars, config);
    rmSync(layout, { recursive: true, force: true });
    renameSync(join(work, 'layout'), layout);
    log(`built the modelgate image ${digest} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return { layout, digest, config, stage };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
