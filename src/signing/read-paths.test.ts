import { describe, expect, it } from 'vitest';
import { uncoveredReadPath } from './read-paths.ts';

const signed = new Set(['config.json', 'model.safetensors', 'tokenizer/tokenizer.json', 'sub/extra/a.bin']);
const ignore = ['.git', '.gitattributes', 'ignore-me', 'sub/extra', 'model.sig'];

describe('uncoveredReadPath: a server reads only what the signature covers', () => {
  it('accepts the root, a listed file and a directory of listed files', () => {
    for (const p of ['', '.', './', 'config.json', './model.safetensors', 'tokenizer', 'tokenizer/', 'sub'])
      expect(uncoveredReadPath([p], signed, ignore), p).toBeUndefined();
    // A file the signature lists is checked even under an ignore path (model_signing 1.0 signed .git files).
    expect(uncoveredReadPath(['sub/extra/a.bin'], signed, ignore)).toBeUndefined();
  });

  it('refuses a path under an ignore path, the bundle, or one the signature does not list', () => {
    expect(uncoveredReadPath(['ignore-me/evil.gguf'], signed, ignore)?.reason).toContain('ignore-me');
    expect(uncoveredReadPath(['ignore-me'], signed, ignore)?.reason).toContain('ignores');
    expect(uncoveredReadPath(['.git/objects/x'], signed, ignore)?.path).toBe('.git/objects/x');
    expect(uncoveredReadPath(['sub/extra'], signed, ignore)?.reason).toContain('sub/extra');
    expect(uncoveredReadPath(['model.sig'], signed, ignore)?.reason).toContain('ignores');
    expect(uncoveredReadPath(['other.gguf'], signed, ignore)?.reason).toContain('lists no file');
    expect(uncoveredReadPath(['tokenizer/vocab.txt'], signed, ignore)?.path).toBe('tokenizer/vocab.txt');
  });

  it('refuses paths that leave the model, and reports the first uncovered of several', () => {
    expect(uncoveredReadPath(['../x'], signed, ignore)?.reason).toBe('it is outside the model');
    expect(uncoveredReadPath(['/etc/passwd'], signed, ignore)?.reason).toBe('it is outside the model');
    expect(uncoveredReadPath(['tokenizer/../../x'], signed, ignore)?.reason).toBe('it is outside the model');
    expect(uncoveredReadPath(['config.json', 'a/../ignore-me/x', 'nope'], signed, ignore)?.path).toBe(
      'ignore-me/x',
    );
  });
});
