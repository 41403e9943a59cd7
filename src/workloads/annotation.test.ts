import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseModelsAnnotation } from './annotation.ts';

const D = 'sha256:' + 'd'.repeat(64);

describe('modelgate.io/models annotation', () => {
  it('parses every signature source', () => {
    const r = parseModelsAnnotation(
      JSON.stringify([
        { name: 'a', volume: 'v1', digest: D, signature: { path: 'model.sig' } },
        {
          name: 'b',
          volume: 'v2',
          subPath: 'x/y',
          uri: 'pvc://c',
          digest: D,
          signature: { configMapRef: { name: 'cm', key: 'model.sig' } },
        },
        { name: 'c', volume: 'v3', digest: D, signature: { inline: 'eyJhIjoxfQ==' } },
      ]),
    );
    expect(r.errors).toEqual([]);
    expect(r.models.map((m) => m.signature)).toEqual([
      { path: 'model.sig' },
      { configMapRef: { name: 'cm', key: 'model.sig' } },
      { inline: 'eyJhIjoxfQ==' },
    ]);
  });

  it.each([
    ['not json', 'is not valid JSON'],
    ['{}', 'must be a JSON array'],
    ['[1]', '[0] must be an object'],
    [
      JSON.stringify([{ name: 'a', volume: 'v', digest: 'sha256:short' }]),
      '.digest must be "sha256:" followed by 64',
    ],
    [
      JSON.stringify([{ name: 'a', volume: 'v', digest: D, signature: { path: '../../etc/passwd' } }]),
      'without ".."',
    ],
    [
      JSON.stringify([{ name: 'a', volume: 'v', digest: D, signature: { path: 'a', inline: 'b' } }]),
      'exactly one of path, configMapRef or inline',
    ],
    [JSON.stringify([{ name: 'a', volume: 'v', digest: D, extra: 1 }]), 'unknown field "extra"'],
    [
      JSON.stringify([
        { name: 'a', volume: 'v', digest: D },
        { name: 'a', volume: 'w', digest: D },
      ]),
      'declared twice',
    ],
    [JSON.stringify([{ name: 'a', digest: D }]), '.volume must name the pod volume'],
  ])('reports %s', (text, expected) => {
    expect(parseModelsAnnotation(text).errors.join('\n')).toContain(expected);
  });

  it('never throws on arbitrary text or JSON', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (t) => {
        const r = parseModelsAnnotation(t);
        expect(Array.isArray(r.models) && Array.isArray(r.errors)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
