// The fixture corpus table (test/fixtures/model-scanning/SOURCES.md): each fixture with the verdict it
// must get. Shared by the fixture tests and scripts/compare-scanners.ts.
import type { Verdict } from './types.ts';

export type Expectation = 'dangerous' | 'clean' | 'reject';

export interface CorpusRow {
  fixture: string;
  /** The SOURCES.md "expected verdict" cell. */
  text: string;
  expected: Expectation;
  /** modelgate verdicts that satisfy the row. */
  accepts: Verdict[];
  /** Dotted names the row says a finding should mention (any one suffices). */
  names: string[];
}

/**
 * Rows of a fixture table: the first cell names the fixture, the first later cell starting with
 * DANGEROUS/FLAGGED/CLEAN/REJECT/VALID is the expectation (FLAGGED: suspicious or dangerous). `prefix` is prepended to fixture names (tables in
 * subdirectories, like generated/GENERATED.md).
 */
export function parseCorpusTable(markdown: string, prefix = ''): CorpusRow[] {
  const out: CorpusRow[] = [];
  for (const line of markdown.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const name = cells[1];
    const text = cells.slice(2).find((c) => /^(DANGEROUS|FLAGGED|CLEAN|REJECT|VALID)/.test(c));
    if (name === undefined || text === undefined || !/^[\w.-]+(\/[\w.-]+)*$/.test(name)) continue;
    const fixture = prefix + name;
    let expected: Expectation;
    let accepts: Verdict[];
    if (/^DANGEROUS/.test(text)) {
      expected = 'dangerous';
      accepts = /or REJECT/.test(text) ? ['dangerous', 'rejected'] : ['dangerous'];
    } else if (/^FLAGGED/.test(text)) {
      // allowlist-first: anything not known to be data is flagged; suspicious is enough
      expected = 'dangerous';
      accepts = /or REJECT/.test(text)
        ? ['dangerous', 'suspicious', 'rejected']
        : ['dangerous', 'suspicious'];
    } else if (/^REJECT/.test(text)) {
      expected = 'reject';
      accepts = ['rejected'];
    } else if (/^(CLEAN|VALID)/.test(text)) {
      expected = 'clean';
      accepts = ['clean'];
    } else {
      throw new Error(`SOURCES.md: unmapped expectation for ${fixture}: ${text}`);
    }
    const head = text.split(/ — | \(|; /)[0] ?? '';
    const names =
      expected === 'dangerous' && /^DANGEROUS/.test(text)
        ? [...head.matchAll(/\b[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)+\b/g)].map((m) => m[0])
        : [];
    out.push({ fixture, text, expected, accepts, names });
  }
  return out;
}
