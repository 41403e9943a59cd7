import { describe, expect, it } from 'vitest';
import { scanBuffer } from './index.ts';
import { kerasConfigFindings, kerasModuleAllowed } from './keras.ts';
import { buildZip, concat } from './testing.test-support.ts';

const model = (extra: object) => ({
  module: 'keras',
  class_name: 'Sequential',
  config: {
    name: 's',
    layers: [
      { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 4] } },
      {
        module: 'keras.layers',
        class_name: 'Dense',
        config: {
          units: 2,
          activation: 'relu',
          kernel_initializer: {
            module: 'keras.initializers',
            class_name: 'GlorotUniform',
            config: { seed: null },
          },
        },
      },
      extra,
    ],
  },
});
const rules = (cfg: object) => kerasConfigFindings(cfg).map((f) => `${f.rule}:${f.severity}`);

describe('Keras configs', () => {
  it('allows only Keras layer, model and parameter modules', () => {
    expect(kerasModuleAllowed('keras.layers')).toBe(true);
    expect(kerasModuleAllowed('keras.src.layers.core.dense')).toBe(true);
    expect(kerasModuleAllowed('keras')).toBe(true);
    for (const m of ['keras.utils', 'keras.config', 'keras.src.saving', 'os', 'builtins', 'kerasx.layers'])
      expect(kerasModuleAllowed(m), m).toBe(false);
  });
  it('flags Lambda layers, lambdas and any other module reference (CVE-2025-1550)', () => {
    expect(rules(model({ module: 'keras.layers', class_name: 'Dense', config: {} }))).toEqual([]);
    expect(rules(model({ class_name: 'Lambda', config: { function: 'lambda x: x' } }))).toEqual([
      'keras-lambda-layer:dangerous',
    ]);
    expect(rules(model({ module: 'os', class_name: 'system', config: {} }))).toEqual([
      'keras-module-reference:dangerous',
    ]);
    expect(rules(model({ module: 'keras.utils', class_name: 'get_file', config: {} }))).toEqual([
      'keras-module-reference:suspicious',
    ]);
    expect(
      rules(
        model({
          module: 'keras.layers',
          class_name: 'Dense',
          config: { activation: { module: 'os', class_name: 'function', config: 'system' } },
        }),
      ),
    ).toEqual(['keras-module-reference:dangerous']);
    expect(
      rules(
        model({
          module: 'keras.layers',
          class_name: 'Dense',
          config: { activation: { module: 'keras.activations', class_name: 'function', config: 'relu' } },
        }),
      ),
    ).toEqual([]);
  });
  it('treats a .keras archive holding only config.json as Keras', async () => {
    const cfg = JSON.stringify(model({ class_name: 'Lambda', config: {} }));
    const r = await scanBuffer(buildZip([{ name: 'config.json', data: cfg }]), 'model.keras');
    expect(r.format).toBe('keras');
    expect(r.verdict).toBe('dangerous');
  });
  it('refuses a .keras archive whose config.json does not parse', async () => {
    const r = await scanBuffer(
      buildZip([
        { name: 'config.json', data: '{nope' },
        { name: 'metadata.json', data: '{}' },
      ]),
      'model.keras',
    );
    expect(r.verdict).toBe('rejected');
  });
  it('reads HDF5 model configs that hold NaN and escapes, as Python json does', async () => {
    const json =
      '{"class_name": "Sequential", "config": {"layers": [{"class_name": "\\u004cambda", "config": {"scale": NaN, "bound": -Infinity}}]}}';
    const h5 = concat(
      [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a],
      new Uint8Array(200),
      'model_config\0\0\0\0',
      new Uint8Array(24),
      json,
      new Uint8Array(100),
    );
    const r = await scanBuffer(h5, 'model.h5');
    expect(r.verdict).toBe('dangerous');
    expect(r.findings.map((f) => f.rule)).toContain('keras-lambda-layer');
  });
});
