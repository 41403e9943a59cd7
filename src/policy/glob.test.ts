import { describe, expect, it } from 'vitest';
import { compileGlob } from './glob.ts';
import { compileSelector } from './selector.ts';

describe('source globs', () => {
  it.each([
    ['oci://registry.example.com/models/**', 'oci://registry.example.com/models/llama@sha256:abc', true],
    ['oci://registry.example.com/models/**', 'oci://registry.example.com/models/team/a/b:v1', true],
    ['oci://registry.example.com/models/**', 'oci://registry.example.com/modelsX/a', false],
    ['oci://registry.example.com/models/**', 'oci://evil.example.com/registry.example.com/models/a', false],
    ['hf://example-org/*', 'hf://example-org/llama', true],
    ['hf://example-org/*', 'hf://example-org/llama:' + 'a'.repeat(40), true],
    ['hf://example-org/*', 'hf://example-org/team/llama', false],
    ['s3://bucket/**/model.bin', 's3://bucket/model.bin', true],
    ['s3://bucket/**/model.bin', 's3://bucket/a/b/model.bin', true],
    ['s3://bucket/a.b', 's3://bucket/aXb', false],
  ])('%s ~ %s = %s', (glob, uri, expected) => {
    expect(compileGlob(glob).test(uri)).toBe(expected);
  });
});

describe('label selectors', () => {
  it('implements matchLabels and every operator', () => {
    const sel = compileSelector({
      matchLabels: { env: 'prod' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['gold', 'silver'] },
        { key: 'legacy', operator: 'DoesNotExist' },
        { key: 'team', operator: 'Exists' },
        { key: 'zone', operator: 'NotIn', values: ['eu'] },
      ],
    });
    expect(sel({ env: 'prod', tier: 'gold', team: 'x' })).toBe(true);
    expect(sel({ env: 'prod', tier: 'gold', team: 'x', zone: 'eu' })).toBe(false);
    expect(sel({ env: 'prod', tier: 'bronze', team: 'x' })).toBe(false);
    expect(sel({ env: 'prod', tier: 'gold', team: 'x', legacy: '' })).toBe(false);
    expect(sel({ env: 'dev', tier: 'gold', team: 'x' })).toBe(false);
    expect(compileSelector(undefined)({})).toBe(true);
    expect(compileSelector({})({ a: 'b' })).toBe(true);
  });
});
