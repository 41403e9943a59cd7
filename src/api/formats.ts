// Model file formats as the API names them: what a scan reports, and the names a policy's
// `formats.deny` and `modelgate scan --deny-format` accept. The scanner (src/scanning) decides which
// format a file is; this list is part of the API, so the CRD schema takes its enum from here.

/**
 * A pickle global as the scanner names it: a fully qualified Python name (module.Class), matched exactly.
 * What `formats.allowPickleGlobals` and `modelgate scan --allow-global` accept.
 */
export const PICKLE_GLOBAL_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*([.][A-Za-z_][A-Za-z0-9_]*)+$';
export const isPickleGlobalName = (s: string): boolean => new RegExp(PICKLE_GLOBAL_PATTERN).test(s);

/** Formats a scan reports; also the names `--deny-format` accepts (see docs/scanning.md). */
export const FORMATS = [
  'pickle',
  'pytorch-legacy',
  'pytorch-zip',
  'torchscript',
  'joblib',
  'numpy',
  'npz',
  'zip',
  'tar',
  'gzip',
  'zlib',
  'safetensors',
  'gguf',
  'onnx',
  'keras',
  'hdf5',
  'tf-savedmodel',
  'tflite',
  '7z',
  'compressed',
  'image',
  'unknown',
] as const;
export type Format = (typeof FORMATS)[number];

/**
 * Group names accepted by `--deny-format` and the policy's `formats.deny` (src/api FORMAT_NAMES):
 * each denies all the formats listed.
 */
export const FORMAT_GROUPS: Readonly<Record<string, readonly string[]>> = {
  pytorch: ['pytorch-zip', 'pytorch-legacy', 'torchscript'],
  tensorflow: ['tf-savedmodel', 'tflite'],
  numpy: ['numpy', 'npz'],
};

/** Every name a deny list may use. */
export const DENY_FORMAT_NAMES: readonly string[] = [...new Set([...FORMATS, ...Object.keys(FORMAT_GROUPS)])];

/** Expand group names into the formats they cover. */
export function expandDeniedFormats(names: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const n of names) for (const f of FORMAT_GROUPS[n] ?? [n]) out.add(f);
  return out;
}
