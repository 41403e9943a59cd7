// The image and the chart agree. No Docker engine runs here, so these are static checks of the
// Dockerfile against the chart, the CLI and .dockerignore; `docker build` itself runs in the release job.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import yaml from 'js-yaml';

const repo = join(import.meta.dirname, '..', '..');
const dockerfile = readFileSync(join(repo, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(join(repo, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const values = yaml.load(readFileSync(join(repo, 'charts', 'modelgate', 'values.yaml'), 'utf8')) as {
  podSecurityContext: { runAsUser: number; runAsGroup: number };
};
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { engines: { node: string } };

/** Instructions with heredoc bodies removed (so a launcher script is not read as instructions). */
function instructions(): string[] {
  const lines = dockerfile.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    out.push(line);
    const heredoc = /<<-?'?([A-Z_]+)'?/.exec(line);
    if (heredoc)
      while (i + 1 < lines.length && lines[++i]!.trim() !== heredoc[1]) {
        /* skip the body */
      }
  }
  return out.filter((l) => /^[A-Z]+\s/.test(l));
}

describe('Dockerfile', () => {
  const ins = instructions();

  it('runs as the non-root UID/GID the chart sets', () => {
    const users = ins.filter((l) => l.startsWith('USER '));
    expect(users).toHaveLength(1);
    expect(users[0]).toBe(
      `USER ${values.podSecurityContext.runAsUser}:${values.podSecurityContext.runAsGroup}`,
    );
    expect(values.podSecurityContext.runAsUser).not.toBe(0);
  });

  it('is multi-stage on Node 20, with a distroless or slim runtime, and no floating tags', () => {
    const froms = ins.filter((l) => l.startsWith('FROM '));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/ARG NODE_VERSION=20\.\d+/);
    expect(pkg.engines.node).toMatch(/^>=20\./);
    expect(dockerfile).toMatch(
      /ARG RUNTIME_IMAGE=(gcr\.io\/distroless\/nodejs20-debian12:nonroot|node:20[\w.-]*-slim)/,
    );
    for (const f of froms) expect(f).not.toMatch(/:latest\b/);
  });

  it('installs production dependencies only in the runtime image, and runs no install scripts', () => {
    expect(dockerfile).toMatch(/npm ci --omit=dev --ignore-scripts/);
    const runtimeStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtimeStage).toMatch(/COPY --from=prod-deps .*node_modules/);
    expect(runtimeStage).not.toMatch(/COPY --from=build \S*node_modules/);
  });

  it('uses an exec-form entrypoint and puts `modelgate` on PATH for the injected verifier', () => {
    const entrypoint = ins.find((l) => l.startsWith('ENTRYPOINT '));
    expect(entrypoint).toBe('ENTRYPOINT ["/usr/local/bin/modelgate"]');
    // The webhook injects the verifier with command ["modelgate"] (src/mutation/verifier-container.ts).
    const injector = readFileSync(join(repo, 'src', 'mutation', 'verifier-container.ts'), 'utf8');
    expect(injector).toContain("command: ['modelgate']");
    expect(dockerfile).toMatch(
      /COPY [^\n]*<<'LAUNCHER' \/usr\/local\/bin\/modelgate\n#!\/nodejs\/bin\/node\nimport\('\/app\/bin\/modelgate\.js'\)/,
    );
    expect(ins.find((l) => l.startsWith('ENV PATH='))).toMatch(/(^|[=:])\/usr\/local\/bin(:|$)/);
  });

  it('sends the build everything it copies from the context (.dockerignore)', () => {
    const fromContext = ins
      .filter((l) => l.startsWith('COPY ') && !l.includes('--from=') && !l.includes('<<'))
      .flatMap((l) =>
        l
          .replace(/^COPY\s+/, '')
          .split(/\s+/)
          .filter((t) => !t.startsWith('--'))
          .slice(0, -1),
      );
    expect(fromContext.length).toBeGreaterThan(0);
    expect(dockerignore[0]).toBe('*');
    for (const src of fromContext) {
      const name = src.replace(/\/$/, '');
      expect(
        dockerignore.includes(`!${name}`) || dockerignore.includes(`!${name}/`),
        `${src} is excluded by .dockerignore`,
      ).toBe(true);
    }
  });
});
