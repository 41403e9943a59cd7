import { describe, expect, it } from 'vitest';
import { compileSelector } from './selector.ts';

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
