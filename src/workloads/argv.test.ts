import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expandVariables, programOf, simpleShellWords } from './argv.ts';

const literal = (vars: Record<string, string>) => (n: string) =>
  n in vars ? { kind: 'literal' as const, value: vars[n]! } : undefined;

describe('$(VAR) expansion, as the kubelet does it', () => {
  it('expands defined variables, leaves undefined ones, and reads $$ as a literal $', () => {
    const env = literal({ MODEL: 'org/m' });
    expect(expandVariables('--model=$(MODEL)', env).value).toBe('--model=org/m');
    expect(expandVariables('$(NOPE)', env).value).toBe('$(NOPE)');
    expect(expandVariables('$$(MODEL)', env).value).toBe('$(MODEL)');
    expect(expandVariables('$$$(MODEL)', env).value).toBe('$org/m');
    expect(expandVariables('a$b', env).value).toBe('a$b');
  });

  it('reports variables whose value is not known at admission', () => {
    const r = expandVariables('$(A)-$(B)', (n) =>
      n === 'A' ? { kind: 'unknown', from: 'ConfigMap c' } : undefined,
    );
    expect(r.unknown).toEqual(['A']);
  });

  it('reads a name as the kubelet does: everything up to the first ")"; an incomplete reference stays', () => {
    const env = literal({ 'my model': 'evil/x', A: 'a' });
    expect(expandVariables('$(my model)', env).value).toBe('evil/x');
    expect(expandVariables('$(A$(A)', env).value).toBe('$(A$(A)'); // the name "A$(A" is not defined
    expect(expandVariables('x$(A', env).value).toBe('x$(A');
    expect(expandVariables('$($($(A)', env).value).toBe('$($($(A)');
    expect(expandVariables('$', env).value).toBe('$');
  });

  it('reads a megabyte of "$(" without a ")" in linear work (one scan for the ")")', () => {
    let lookups = 0;
    const text = '$('.repeat(500_000);
    const r = expandVariables(text, () => {
      lookups++;
      return undefined;
    });
    expect(r.value).toBe(text);
    expect(lookups).toBe(0);
  });

  it('never grows beyond the text and its values (linear; property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const r = expandVariables(s, literal({ A: 'x' }));
        expect(r.value.length).toBeLessThanOrEqual(s.length);
      }),
    );
  });
});

describe('what a container runs', () => {
  it('reads through launchers and python -m', () => {
    expect(programOf(['/usr/bin/env', 'A=1', 'vllm'], ['serve', 'm'])).toMatchObject({
      kind: 'program',
      program: 'vllm',
      args: ['serve', 'm'],
    });
    expect(programOf(['tini', '--', 'tritonserver'], ['--model-repository=/m'])).toMatchObject({
      program: 'tritonserver',
    });
    expect(
      programOf(['python3', '-u', '-m', 'vllm.entrypoints.openai.api_server'], ['--model', 'x']),
    ).toMatchObject({ module: 'vllm.entrypoints.openai.api_server', args: ['--model', 'x'] });
    expect(programOf([], ['--model', 'x'])).toEqual({ kind: 'entrypoint', args: ['--model', 'x'] });
  });

  it('reads a simple sh -c line as its command, and any other script as a script', () => {
    expect(programOf(['sh', '-c', 'exec vllm serve "org/m" --port 8000'], [])).toMatchObject({
      program: 'vllm',
      args: ['serve', 'org/m', '--port', '8000'],
    });
    expect(programOf(['bash', '-lc', 'vllm serve $M'], [])).toMatchObject({
      kind: 'script',
      interpreter: 'bash',
    });
    expect(programOf(['sh', '-c', 'a && b'], [])).toMatchObject({ kind: 'script' });
    expect(programOf(['sh', 'start.sh'], [])).toMatchObject({ kind: 'script' });
    expect(programOf(['python', '-c', 'print(1)'], [])).toMatchObject({
      kind: 'script',
      interpreter: 'python',
    });
    expect(programOf(['busybox', 'sh', '-c', 'wget $U'], [])).toMatchObject({ kind: 'script' });
  });

  it('splits only literal simple commands (property: quoted literal words come back as they were)', () => {
    const word = fc
      .stringMatching(/^[A-Za-z0-9_./:=@-]{1,12}$/)
      .filter((w) => w !== 'exec' && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w));
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 8 }), fc.boolean(), (words, quote) => {
        const line = words.map((w) => (quote ? `'${w}'` : w)).join(' ');
        expect(simpleShellWords(line)).toEqual(words);
      }),
    );
    for (const bad of [
      'a; b',
      'a | b',
      'a > f',
      'echo $X',
      'echo `x`',
      'a && b',
      '"unterminated',
      "x='y",
      'A=1 vllm',
    ])
      expect(simpleShellWords(bad), bad).toBeUndefined();
  });
});
