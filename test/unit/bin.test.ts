// bin/modelgate.js runs the sources in a checkout (so an edit always takes effect), and dist/ only when
// it was built after the newest source, or when there are no sources (a package, the container image).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { version } from '../../src/cli/main.ts';

const ROOT = join(import.meta.dirname, '..', '..');

function layout(opts: { src: boolean; dist: boolean }): string {
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-bin-'));
  mkdirSync(join(dir, 'bin'));
  copyFileSync(join(ROOT, 'bin', 'modelgate.js'), join(dir, 'bin', 'modelgate.js'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  if (opts.src) {
    mkdirSync(join(dir, 'src', 'cli'), { recursive: true });
    writeFileSync(
      join(dir, 'src', 'cli', 'index.ts'),
      "const from: string = 'sources';\nconsole.log(from);\n",
    );
  }
  if (opts.dist) {
    mkdirSync(join(dir, 'dist', 'cli'), { recursive: true });
    writeFileSync(join(dir, 'dist', 'cli', 'index.js'), "console.log('dist');\n");
  }
  return dir;
}
const run = (dir: string) =>
  execFileSync(process.execPath, [join(dir, 'bin', 'modelgate.js')], { encoding: 'utf8' }).trim();
const touch = (p: string, secondsAgo: number) => {
  const t = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(p, t, t);
};

describe('bin/modelgate.js', () => {
  it('runs the sources in a checkout, even when an older dist/ exists', () => {
    const dir = layout({ src: true, dist: true });
    touch(join(dir, 'dist', 'cli', 'index.js'), 60);
    expect(run(dir)).toBe('sources');
  });

  it('runs dist/ when it was built after the newest source, or when there are no sources', () => {
    const dir = layout({ src: true, dist: true });
    touch(join(dir, 'src', 'cli', 'index.ts'), 60);
    expect(run(dir)).toBe('dist');
    expect(run(layout({ src: false, dist: true }))).toBe('dist');
  });

  it('--version is the package version', async () => {
    const { default: pkg } = await import('../../package.json', { with: { type: 'json' } });
    expect(version()).toBe(pkg.version);
  });
});
