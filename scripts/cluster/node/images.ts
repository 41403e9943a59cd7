// The images the real node needs before any pod runs, built from the cached node parts (nothing can be
// pulled from a public registry here) and pushed to the run's registry by digest:
//   pause    the sandbox image: the static program from test/cluster/node/pause
//   busybox  a shell and coreutils (Debian's busybox-static) for test workloads
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createLayerTar, pushLayout, writeImageLayout } from '../../image/oci.ts';

export interface NodeImages {
  pause: string;
  busybox: string;
}

/** Busybox applets test workloads use (sh for scripts; the rest for checks inside pods). */
function busyboxApplets(busybox: string): string[] {
  const out = spawnSync(busybox, ['--list'], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`${busybox} --list failed: ${out.stderr}`);
  return out.stdout.split('\n').filter((a) => /^[a-z0-9_.[-]+$/.test(a) && a !== 'busybox');
}

async function buildAndPush(
  workDir: string,
  name: string,
  fill: (root: string) => void,
  runtime: Parameters<typeof writeImageLayout>[2],
  registry: string,
): Promise<string> {
  const root = join(workDir, `${name}-root`);
  mkdirSync(root, { recursive: true, mode: 0o755 });
  fill(root);
  const tar = join(workDir, `${name}.tar`);
  createLayerTar(root, tar);
  const layout = join(workDir, `${name}-layout`);
  await writeImageLayout(layout, [tar], runtime);
  const digest = await pushLayout(layout, registry, `modelgate-local/${name}`, 'local');
  return `${registry}/modelgate-local/${name}@${digest}`;
}

/** Builds the pause and busybox images in a scratch directory under `runDir` and pushes them. */
export async function pushNodeImages(
  runDir: string,
  parts: { containerdDir: string; debianDir: string },
  registry: string,
): Promise<NodeImages> {
  const work = mkdtempSync(join(runDir, 'images-'));
  try {
    const pause = await buildAndPush(
      work,
      'pause',
      (root) => {
        copyFileSync(join(parts.containerdDir, 'bin', 'pause'), join(root, 'pause'));
        chmodSync(join(root, 'pause'), 0o755);
      },
      { Entrypoint: ['/pause'], User: '65535:65535' },
      registry,
    );
    const busybox = await buildAndPush(
      work,
      'busybox',
      (root) => {
        const bin = join(root, 'bin');
        mkdirSync(bin, { mode: 0o755 });
        const src = join(parts.debianDir, 'root', 'bin', 'busybox');
        copyFileSync(src, join(bin, 'busybox'));
        chmodSync(join(bin, 'busybox'), 0o755);
        for (const applet of busyboxApplets(src)) symlinkSync('busybox', join(bin, applet));
        mkdirSync(join(root, 'tmp'), { mode: 0o1777 });
        chmodSync(join(root, 'tmp'), 0o1777);
      },
      { Cmd: ['sh'], Env: ['PATH=/bin'] },
      registry,
    );
    return { pause, busybox };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
