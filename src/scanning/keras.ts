// Keras: a Lambda layer carries Python (source text in HDF5 configs, marshalled bytecode in .keras
// archives) that runs when the model is loaded or called.
import type { Finding } from './types.ts';

const CODE_LAYERS = new Set(['Lambda']);

/** Walk a parsed Keras model config (config.json of a .keras archive). */
export function kerasConfigFindings(config: unknown, member?: string): Finding[] {
  const out: Finding[] = [];
  const seen = new Set<unknown>();
  const walk = (v: unknown, depth: number): void => {
    if (depth > 200 || typeof v !== 'object' || v === null || seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) {
      for (const x of v) walk(x, depth + 1);
      return;
    }
    const o = v as Record<string, unknown>;
    if (typeof o.class_name === 'string' && CODE_LAYERS.has(o.class_name)) {
      const cfg = o.config as Record<string, unknown> | undefined;
      const name = typeof cfg?.name === 'string' ? ` ${JSON.stringify(cfg.name)}` : '';
      out.push({
        rule: 'keras-lambda-layer',
        severity: 'dangerous',
        detail: `Lambda layer${name} carries Python code that runs when the model is loaded or called${lambdaSnippet(cfg)}`,
        ...(member === undefined ? {} : { member }),
      });
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
 * Find Lambda layers in raw bytes (HDF5 attribute storage holds the model_config JSON as text).
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
