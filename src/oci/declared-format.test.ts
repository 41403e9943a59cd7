import { describe, expect, it } from 'vitest';
import { expandDeniedFormats } from '../api/formats.ts';
import { declaredFormats, deniedDeclarations } from './declared-format.ts';

describe('declaredFormats', () => {
  it('reads ModelPack config.format and named layers', () => {
    const d = declaredFormats('modelpack', { config: { format: 'PyTorch' } }, [
      { name: 'weights/model.pt', named: true },
      { name: 'layer_001.tar.gz', named: false },
      { name: 'model.bin', named: true },
    ]);
    expect(d.map((x) => [x.source, x.value])).toEqual([
      ['config.format', 'PyTorch'],
      ['layer weights/model.pt', 'pt'],
    ]);
    expect(d[0]!.formats).toContain('pickle');
  });

  it('reads a Kitfile (KitOps config) and keeps unknown words unmapped', () => {
    const d = declaredFormats(
      'kitops',
      { model: { format: 'mlx', framework: 'joblib', parts: [{ format: 'onnx' }] } },
      [],
    );
    expect(d.map((x) => [x.source, x.formats])).toEqual([
      ['model.format', []],
      ['model.framework', ['joblib', 'pickle']],
      ['model.parts[0].format', ['onnx']],
    ]);
  });

  it('ignores configs that are not objects and image configs', () => {
    expect(declaredFormats('modelpack', 'nonsense', [])).toEqual([]);
    expect(declaredFormats('oci-image', { config: { format: 'pickle' } }, [])).toEqual([]);
  });

  it('a deny list refuses the declarations it names (groups expanded)', () => {
    const d = declaredFormats('modelpack-legacy', { config: { format: 'pytorch' } }, [
      { name: 'a.safetensors', named: true },
    ]);
    expect(deniedDeclarations(d, expandDeniedFormats(['pickle'])).map((x) => x.format)).toEqual(['pickle']);
    expect(deniedDeclarations(d, expandDeniedFormats(['pytorch'])).map((x) => x.format)).toEqual([
      'pytorch-zip',
    ]);
    expect(deniedDeclarations(d, expandDeniedFormats(['gguf']))).toEqual([]);
  });
});
