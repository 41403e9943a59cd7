// Keras model configs: what `keras.saving` deserialises when a model is loaded. A Lambda layer carries
// Python (source text in HDF5 configs, marshalled bytecode in .keras archives); and any serialised
// object names the module Keras imports and the attribute it calls (`{"module": "os", "class_name":
// "system"}`), which is how CVE-2025-1550 (and its safe_mode bypasses through keras.utils.get_file and
// keras.config.enable_unsafe_deserialization) runs code on load. Modules are judged allowlist-first:
// only Keras's own layer, model, initializer, regularizer, constraint, activation, loss, metric,
// optimizer and dtype-policy modules pass.
import type { Finding } from './types.ts';

const CODE_LAYERS = new Set(['Lambda', '__lambda__']);
/**
 * Layers whose from_config loads something else: TorchModuleWrapper torch.load()s (weights_only=False)
 * the base64 torch.save pickle in its `module` field when safe_mode is off — and in every Keras before
 * that check existed; TFSMLayer loads the SavedModel at its `filepath` (a local path or a remote URL).
 */
const LOADER_LAYERS: Record<string, string> = {
  TorchModuleWrapper:
    'carries a torch.save pickle (base64 in its "module" field) that Keras unpickles with torch.load(weights_only=False)',
  TFSMLayer: 'loads the TensorFlow SavedModel at its "filepath", outside this file',
};
/** TensorFlow-op wrappers whose function reaches Python or files. */
const TF_OP_LAYERS = new Set(['TFOpLambda', 'SlicingOpLambda']);
const RISKY_TF_OP =
  /py_?func|numpy_function|py_function|(^|\.)io\.|write_file|read_file|matching_files|print/i;

/** Keras module paths whose classes are data (layers and their parameters). */
const ALLOWED_MODULE_PREFIXES = [
  'keras.layers',
  'keras.models',
  'keras.activations',
  'keras.initializers',
  'keras.regularizers',
  'keras.constraints',
  'keras.losses',
  'keras.metrics',
  'keras.optimizers',
  'keras.dtype_policies',
  'keras.mixed_precision',
  'keras.random',
].flatMap((m) => [m, m.replace(/^keras\./, 'keras.src.')]);
/** KerasHub / KerasNLP / KerasCV models, layers and tokenizers (pretrained models serialise these). */
const HUB_PREFIXES = ['keras_hub', 'keras_nlp', 'keras_cv'].flatMap((p) =>
  ['models', 'layers', 'tokenizers'].flatMap((k) => [`${p}.${k}`, `${p}.src.${k}`]),
);
const ALLOWED_MODULES_EXACT = new Set([
  'keras',
  'keras.src.engine.functional',
  'keras.src.engine.sequential',
  'keras.src.backend',
  'keras.src.ops.numpy',
  'keras.src.ops.nn',
  'keras.src.ops.core',
  'keras.src.ops.math',
]);
/** `class_name: "function"` objects are functions Keras looks up and calls: only activations, losses, metrics. */
const FUNCTION_MODULES = ['keras.activations', 'keras.losses', 'keras.metrics'].flatMap((m) => [
  m,
  m.replace(/^keras\./, 'keras.src.'),
]);

function underAny(module: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => module === p || module.startsWith(`${p}.`));
}

/** Is this module one whose classes Keras may deserialise as data? */
export function kerasModuleAllowed(module: string): boolean {
  return (
    ALLOWED_MODULES_EXACT.has(module) ||
    underAny(module, ALLOWED_MODULE_PREFIXES) ||
    underAny(module, HUB_PREFIXES)
  );
}

/** Does a parsed JSON document look like a Keras config (a serialised object tree)? */
export function looksLikeKerasConfig(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return typeof o.class_name === 'string' && ('config' in o || 'module' in o);
}

/** Walk a parsed Keras config (config.json of a .keras archive, model_config of an .h5). */
export function kerasConfigFindings(config: unknown, member?: string): Finding[] {
  const out: Finding[] = [];
  const seen = new Set<unknown>();
  const at = member === undefined ? {} : { member };
  const walk = (v: unknown, depth: number): void => {
    if (depth > 200 || typeof v !== 'object' || v === null || seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) {
      for (const x of v) walk(x, depth + 1);
      return;
    }
    const o = v as Record<string, unknown>;
    const cls = typeof o.class_name === 'string' ? o.class_name : undefined;
    const cfg =
      typeof o.config === 'object' && o.config !== null ? (o.config as Record<string, unknown>) : undefined;
    const layerName = typeof cfg?.name === 'string' ? ` ${JSON.stringify(cfg.name)}` : '';
    if (cls !== undefined && CODE_LAYERS.has(cls)) {
      out.push({
        rule: 'keras-lambda-layer',
        severity: 'dangerous',
        detail: `${cls === 'Lambda' ? 'Lambda layer' : 'serialised lambda'}${layerName} carries Python code that runs when the model is loaded or called${lambdaSnippet(cfg)}`,
        ...at,
      });
    }
    const loads = cls === undefined ? undefined : LOADER_LAYERS[cls];
    if (loads !== undefined) {
      const path =
        typeof cfg?.filepath === 'string' ? ` (${JSON.stringify(cfg.filepath.slice(0, 120))})` : '';
      out.push({
        rule: 'keras-loader-layer',
        severity: 'suspicious',
        detail: `${cls} layer${layerName} ${loads}${path}; a model file should carry its own weights, not load code or other models`,
        ...at,
      });
    }
    if (
      cls !== undefined &&
      TF_OP_LAYERS.has(cls) &&
      typeof cfg?.function === 'string' &&
      RISKY_TF_OP.test(cfg.function)
    ) {
      out.push({
        rule: 'keras-tf-op-layer',
        severity: 'dangerous',
        detail: `${cls} layer${layerName} calls tf.${cfg.function}, which runs Python or touches the node's files`,
        ...at,
      });
    }
    if (cls !== undefined && typeof o.module === 'string') {
      const module = o.module;
      const isFunction = cls === 'function';
      const ok = isFunction ? underAny(module, FUNCTION_MODULES) : kerasModuleAllowed(module);
      if (!ok) {
        const target =
          isFunction && typeof o.config === 'string' ? `${module}.${o.config}` : `${module}.${cls}`;
        out.push({
          rule: 'keras-module-reference',
          severity: module === 'keras' || module.startsWith('keras.') ? 'suspicious' : 'dangerous',
          detail: `config names ${target}${layerName}: loading the model imports ${module} and calls ${isFunction ? 'that function' : cls} (the CVE-2025-1550 shape; safe_mode does not stop it). Only Keras's own layer, model and parameter modules are data`,
          ...at,
        });
      }
    }
    for (const x of Object.values(o)) walk(x, depth + 1);
  };
  walk(config, 0);
  return out;
}

function lambdaSnippet(cfg: Record<string, unknown> | undefined): string {
  const f = cfg?.function;
  if (typeof f === 'string') return ` (function: ${JSON.stringify(f.slice(0, 120))})`;
  return '';
}

const CLASS_NAME = /"class_name"\s*:\s*"([A-Za-z0-9_.]+)"/y;

/**
 * Find Lambda layers in raw text (the fallback when a config cannot be parsed as JSON).
 * Returns offsets of `"class_name": "Lambda"` and a short excerpt of what follows.
 */
export function findLambdaInText(text: string, base: number): Finding[] {
  const out: Finding[] = [];
  let at = text.indexOf('"class_name"');
  while (at >= 0 && out.length < 100) {
    CLASS_NAME.lastIndex = at;
    const m = CLASS_NAME.exec(text);
    if (m && CODE_LAYERS.has(m[1] ?? '')) {
      const fn = /"function"\s*:\s*("(?:[^"\\]|\\.){0,120})/.exec(text.slice(at, at + 4096));
      out.push({
        rule: 'keras-lambda-layer',
        severity: 'dangerous',
        detail: `model_config declares a Lambda layer, which carries Python code that runs when the model is loaded or called${fn ? ` (function: ${fn[1]}…)` : ''}`,
        offset: base + at,
      });
    }
    at = text.indexOf('"class_name"', at + 12);
  }
  return out;
}
