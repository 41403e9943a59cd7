// The two recipes of the modelgate image agree: the Dockerfile (the release recipe, built by `docker build`
// in the release job) and the local build from this machine's parts (scripts/image/modelgate-image.ts, what
// the real node runs in the e2e suite). The local image is built here and its config and layers are read
// back; every expectation comes from the Dockerfile's text, the chart, or npm itself.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModelgateImage, repoRoot, type ModelgateImage } from '../../scripts/image/modelgate-image.ts';
import { readLayout, type ImageConfig } from '../../scripts/image/oci.ts';

const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
const values = yaml.load(readFileSync(join(repoRoot, 'charts', 'modelgate', 'values.yaml'), 'utf8')) as {
  podSecurityContext: { runAsUser: number; runAsGroup: number };
};

interface Entry {
  mode: string;
  owner: string;
  path: string;
  link?: string;
}
let image: ModelgateImage;
let config: ImageConfig;
/** Path -> entry, later layers over earlier ones (as the runtime merges them). */
const files = new Map<string, Entry>();

function listLayer(path: string): Entry[] {
  const r = spawnSync('tar', ['--numeric-owner', '-tvf', path], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`tar -tvf ${path}: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const m = /^(\S+)\s+(\d+\/\d+)\s+\d+\s+\S+\s+\S+\s+\.(\/.*?)(?: -> (.*))?$/.exec(line);
      if (!m) throw new Error(`unexpected tar listing line: ${line}`);
      return {
        mode: m[1]!,
        owner: m[2]!,
        path: m[3]!.replace(/\/$/, '') || '/',
        ...(m[4] ? { link: m[4] } : {}),
      };
    });
}

/** One instruction's argument from the Dockerfile text (last occurrence: the final stage). */
function instruction(name: string): string {
  const all = [...dockerfile.matchAll(new RegExp(`^${name} (.+)$`, 'gm'))];
  const last = all.at(-1)?.[1];
  if (!last) throw new Error(`Dockerfile has no ${name}`);
  return last.trim();
}

beforeAll(async () => {
  image = await buildModelgateImage();
  const layout = await readLayout(image.layout);
  config = layout.config;
  for (const layer of layout.manifest.layers)
    for (const entry of listLayer(join(image.layout, 'blobs', 'sha256', layer.digest.slice(7))))
      files.set(entry.path, entry);
}, 600_000);

describe('the local modelgate image and the Dockerfile', () => {
  it('runs as the Dockerfile USER, which is the chart UID/GID', () => {
    expect(config.config.User).toBe(instruction('USER'));
    expect(config.config.User).toBe(
      `${values.podSecurityContext.runAsUser}:${values.podSecurityContext.runAsGroup}`,
    );
    const passwd = files.get('/etc/passwd');
    expect(passwd?.owner).toBe('0/0');
    expect(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8')).toContain('USER 65532:65532');
  });

  it('has the Dockerfile ENTRYPOINT, CMD, WORKDIR, ENV and LABELs', () => {
    expect(config.config.Entrypoint).toEqual(JSON.parse(instruction('ENTRYPOINT')));
    expect(config.config.Cmd).toEqual(JSON.parse(instruction('CMD')));
    expect(config.config.WorkingDir).toBe(instruction('WORKDIR'));
    for (const env of [...dockerfile.matchAll(/^ENV (\S+)=(\S+)$/gm)])
      expect(config.config.Env).toContain(`${env[1]}=${env[2]}`);
    const labels = [...dockerfile.matchAll(/(org\.opencontainers\.image\.[a-z]+)="([^"]*)"/g)];
    expect(labels.length).toBeGreaterThanOrEqual(5);
    for (const [, key, value] of labels)
      expect(config.config.Labels?.[key!]).toBe(value!.replace('${VERSION}', pkg.version));
    expect(config.architecture).toBe('amd64');
    expect(config.os).toBe('linux');
  });

  it('puts every COPY where the Dockerfile does, owned by root and read-only to the runtime user', () => {
    const launcher = /<<'LAUNCHER' (\S+)\n([\s\S]*?)\nLAUNCHER\n/.exec(dockerfile);
    expect(launcher).not.toBeNull();
    expect(files.get(launcher![1]!)?.mode).toBe('-rwxr-xr-x');
    // The launcher's interpreter is where the Dockerfile's distroless base keeps node.
    const interpreter = launcher![2]!.split('\n')[0]!.slice(2);
    expect(files.get(interpreter)?.mode).toMatch(/^-r.x/);
    for (const p of [
      '/app/package.json',
      '/app/bin/modelgate.js',
      '/app/dist/cli/index.js',
      '/app/node_modules',
    ])
      expect(files.has(p), p).toBe(true);
    const layer = image.stage.copies.map((c) => c.destination);
    expect(layer).toEqual(['./node_modules', './dist', './', './bin', '/usr/local/bin/modelgate']);
    for (const [path, entry] of files) {
      if (!path.startsWith('/app') && !path.startsWith('/usr/local/bin')) continue;
      expect(entry.owner, path).toBe('0/0');
      expect(entry.mode.slice(5, 6), `${path} group-writable`).not.toBe('w');
      expect(entry.mode.slice(8, 9), `${path} world-writable`).not.toBe('w');
    }
  });

  it('ships exactly the production dependencies npm installs with --omit=dev, and no test files', () => {
    const r = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    const expected = r.stdout
      .split('\n')
      .filter((l) => l.startsWith(join(repoRoot, 'node_modules')))
      .map((l) => `/app/${l.slice(repoRoot.length + 1)}`)
      .sort();
    expect(expected.length).toBeGreaterThan(50);
    const shipped = [...files.keys()]
      .filter((p) => {
        const m = /^\/app\/node_modules\/((?:@[^/]+\/)?[^/]+(?:\/node_modules\/(?:@[^/]+\/)?[^/]+)*)$/.exec(
          p,
        );
        return m && files.has(`${p}/package.json`);
      })
      .sort();
    expect(shipped).toEqual(expected);
    expect(
      [...files.keys()].filter(
        (p) => /\.test\.(js|ts)$|\.test-support\./.test(p) && p.startsWith('/app/dist'),
      ),
    ).toEqual([]);
    expect(files.has('/app/node_modules/vitest')).toBe(false);
  });

  it('has what the distroless base provides: the nonroot user, a writable /tmp, no shell', () => {
    expect(files.get('/tmp')?.mode).toBe('drwxrwxrwt');
    expect(files.get('/home/nonroot')?.owner).toBe('65532/65532');
    expect(files.has('/bin/sh')).toBe(false);
    expect(files.has('/usr/bin/env')).toBe(false);
  });
});
