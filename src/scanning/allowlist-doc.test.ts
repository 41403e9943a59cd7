import { describe, expect, it } from 'vitest';
import { documentedAllowlist, renderAllowlistMarkdown } from './allowlist-doc.test-support.ts';

describe('docs/scanning.md', () => {
  it('lists every allowlist entry with its shapes (regenerate: npx tsx src/scanning/allowlist-doc.test-support.ts --write)', () => {
    expect(documentedAllowlist()).toBe(renderAllowlistMarkdown());
  });
});
