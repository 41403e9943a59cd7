import { describe, expect, it } from 'vitest';
import { absoluteDestination, instructions, runtimeStage } from './dockerfile.ts';

const DOCKERFILE = `# syntax=docker/dockerfile:1.7
ARG BASE=example/base:1
FROM node:20 AS build
RUN echo build
FROM \${BASE}
ARG VERSION=1.2.3
LABEL a="x \\"quoted\\"" \\
      b="v\${VERSION}"
WORKDIR /app
ENV A=1 B=two
COPY --from=build --chown=0:0 /src/dist ./dist
COPY --chown=0:0 --chmod=0755 <<'EOF2' /usr/local/bin/run
#!/bin/sh
echo hi
EOF2
ENV A=3
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/run"]
CMD ["--help"]
`;

describe('the Dockerfile reader', () => {
  it('reads the final stage with ARG defaults, continuation lines, heredocs and ENV overrides', () => {
    const stage = runtimeStage(DOCKERFILE);
    expect(stage.base).toBe('example/base:1');
    expect(stage.labels).toEqual({ a: 'x "quoted"', b: 'v1.2.3' });
    expect(stage.env).toEqual([
      ['B', 'two'],
      ['A', '3'],
    ]);
    expect(stage.user).toBe('65532:65532');
    expect(stage.entrypoint).toEqual(['/usr/local/bin/run']);
    expect(stage.cmd).toEqual(['--help']);
    expect(stage.copies).toEqual([
      { from: 'build', chown: '0:0', sources: ['/src/dist'], destination: './dist' },
      {
        chown: '0:0',
        chmod: '0755',
        sources: [],
        destination: '/usr/local/bin/run',
        heredoc: '#!/bin/sh\necho hi\n',
      },
    ]);
    expect(instructions(DOCKERFILE).filter((i) => i.keyword === 'RUN')).toHaveLength(1);
  });

  it('refuses what the local build cannot reproduce, and shell-form ENTRYPOINT', () => {
    expect(() => runtimeStage(`FROM x\nRUN apt-get install y\n`)).toThrow(/uses RUN/);
    expect(() => runtimeStage(`FROM x\nENTRYPOINT /bin/run\n`)).toThrow();
    expect(() => runtimeStage(`FROM \${NOPE}\n`)).toThrow(/without a default/);
    expect(() => runtimeStage(`FROM x\nCOPY <<EOF /a\nbody\nUSER 1\n`)).toThrow(/no closing EOF/);
  });

  it('makes COPY destinations absolute against WORKDIR', () => {
    expect(absoluteDestination('./dist', '/app')).toBe('/app/dist');
    expect(absoluteDestination('./', '/app')).toBe('/app');
    expect(absoluteDestination('/usr/local/bin/x', '/app')).toBe('/usr/local/bin/x');
  });
});
