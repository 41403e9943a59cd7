// What a model artifact says about its own format before anything is pulled: a ModelPack config's
// `config.format`, a KitOps Kitfile's model format, and the file names its layers carry. Mapped to the
// format names a policy's `formats.deny` uses (src/api/formats.ts), so a denied format is refused at
// admission. A declaration is only a claim: the content scan (of the files themselves) still decides.
import { arr, isObj, obj, str } from '../json/shape.ts';
import type { ManifestFamily } from './media-types.ts';

/** Declared format words (lower-cased) and the modelgate format names they stand for. */
const DECLARED: Readonly<Record<string, readonly string[]>> = {
  safetensors: ['safetensors'],
  gguf: ['gguf'],
  ggml: ['gguf'],
  onnx: ['onnx'],
  pytorch: ['pytorch-zip', 'pytorch-legacy', 'torchscript', 'pickle'],
  torch: ['pytorch-zip', 'pytorch-legacy', 'torchscript', 'pickle'],
  pt: ['pytorch-zip', 'pytorch-legacy', 'pickle'],
  torchscript: ['torchscript', 'pickle'],
  pickle: ['pickle'],
  pkl: ['pickle'],
  joblib: ['joblib', 'pickle'],
  sklearn: ['joblib', 'pickle'],
  'scikit-learn': ['joblib', 'pickle'],
  keras: ['keras'],
  h5: ['hdf5', 'keras'],
  hdf5: ['hdf5', 'keras'],
  tensorflow: ['tf-savedmodel'],
  savedmodel: ['tf-savedmodel'],
  numpy: ['numpy', 'npz'],
};

/** File extensions that name one format unambiguously (`.bin` and `.zip` say nothing: left to the scan). */
const EXTENSIONS: Readonly<Record<string, readonly string[]>> = {
  safetensors: ['safetensors'],
  gguf: ['gguf'],
  onnx: ['onnx'],
  pt: ['pytorch-zip', 'pytorch-legacy', 'pickle'],
  pth: ['pytorch-zip', 'pytorch-legacy', 'pickle'],
  ckpt: ['pytorch-zip', 'pytorch-legacy', 'pickle'],
  pkl: ['pickle'],
  pickle: ['pickle'],
  dill: ['pickle'],
  joblib: ['joblib', 'pickle'],
  npy: ['numpy'],
  npz: ['npz'],
  h5: ['hdf5', 'keras'],
  hdf5: ['hdf5', 'keras'],
  keras: ['keras'],
};

export interface DeclaredFormat {
  /** Where the claim is: `config.format`, `model.format` (Kitfile), or a layer's file name. */
  source: string;
  /** The declared word as written. */
  value: string;
  /** modelgate format names it stands for (empty: a word modelgate does not map). */
  formats: readonly string[];
}

const extension = (name: string) => {
  const base = name.split('/').pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '' : base.slice(dot + 1).toLowerCase();
};

/** Format claims of a manifest: its config (ModelPack, KitOps) and its layers' file names. */
export function declaredFormats(
  family: ManifestFamily,
  config: unknown,
  layerNames: readonly { name: string; named: boolean }[],
): DeclaredFormat[] {
  const out: DeclaredFormat[] = [];
  const claim = (source: string, value: string | undefined) => {
    if (value === undefined || value === '') return;
    out.push({ source, value: value.slice(0, 64), formats: DECLARED[value.toLowerCase()] ?? [] });
  };
  if ((family === 'modelpack' || family === 'modelpack-legacy') && isObj(config))
    claim('config.format', str(obj(config.config).format));
  if (family === 'kitops' && isObj(config)) {
    const model = obj(config.model);
    claim('model.format', str(model.format));
    claim('model.framework', str(model.framework));
    arr(model.parts).forEach((p, i) => claim(`model.parts[${i}].format`, str(obj(p).format)));
  }
  for (const l of layerNames) {
    if (!l.named) continue; // a generated layer_NNN.tar.gz name declares nothing
    const formats = EXTENSIONS[extension(l.name)];
    if (formats) out.push({ source: `layer ${l.name}`, value: extension(l.name), formats });
  }
  return out;
}

/** The declarations a deny list refuses (`denied`: the expanded deny set, src/api/formats.ts). */
export function deniedDeclarations(
  declared: readonly DeclaredFormat[],
  denied: ReadonlySet<string>,
): { declaration: DeclaredFormat; format: string }[] {
  const out: { declaration: DeclaredFormat; format: string }[] = [];
  for (const d of declared) {
    const f = d.formats.find((x) => denied.has(x));
    if (f !== undefined) out.push({ declaration: d, format: f });
  }
  return out;
}
