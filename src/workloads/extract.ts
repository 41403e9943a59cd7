// extractModelReferences: finds every model a workload will load, and the pod spec(s) that decide where
// it runs. Pure; tolerant of any input shape (objects come from users). What it cannot classify it
// reports in `unclassified`, so a policy can refuse it instead of silently letting it through.
import { MODELS_ANNOTATION, SENSITIVITY_LABEL } from '../api/types.ts';
import { parseModelsAnnotation, type DeclaredModel } from './annotation.ts';
import { groupOfApiVersion, isSupportedKind } from './kinds.ts';
import { hfIdToUri, parseModelUri, parseOciReference, type ModelScheme, type UriParse } from './uri.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strMap = (v: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  if (isObj(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
};

export interface ModelReference {
  /** Short human label, e.g. `volume "model"`, `predictor storageUri`, or the annotation name. */
  name: string;
  /** JSON path inside the object where the reference was found. */
  location: string;
  uri?: string;
  scheme?: ModelScheme;
  /** Immutable: the reference itself is pinned, or the annotation declares the signed model digest. */
  pinned: boolean;
  /** The reference's own immutable id: an OCI manifest digest (sha256:<hex>) or a Hugging Face commit. */
  digest?: string;
  /**
   * The model-signing digest declared in the annotation (sha256:<hex>): the digest of the signed manifest
   * of every model file, which a signature bundle's subject must equal. Not an OCI digest.
   */
  modelDigest?: string;
  unpinnedReason?: string;
  /** The pod volume that holds the model, when there is one. */
  volume?: string;
  /** The matching entry of the modelgate.io/models annotation, if any. */
  declared?: DeclaredModel;
  /**
   * How the files reach the pod: in a volume (image volume, PVC, declared), downloaded into a volume by
   * KServe's storage initializer before the server starts, fetched by the server itself at run time, baked
   * into a container image, or pulled into a running server by a model agent (TrainedModel, Seldon).
   * Only the first two can be checked by the runtime verifier before the model loads.
   */
  delivery: Delivery;
}

export type Delivery = 'volume' | 'storage-initializer' | 'server' | 'image' | 'model-agent';

export const runtimeVerifiable = (ref: ModelReference): boolean =>
  ref.delivery === 'volume' || ref.delivery === 'storage-initializer';

export interface UnclassifiedReference {
  location: string;
  value: string;
  reason: string;
}

/** A pod spec (or a KServe component spec, which inlines pod-spec fields) and where it sits. */
export interface PodSpecView {
  path: string;
  spec: Obj;
}

export interface WorkloadModels {
  group: string;
  kind: string;
  name: string;
  namespace?: string;
  /** Labels of the object merged with its pod template's (template wins). */
  labels: Record<string, string>;
  /** The object's own labels, which policy objectSelectors match (as webhook objectSelectors do). */
  objectLabels: Record<string, string>;
  /** The workload's own sensitivity label, before the namespace default is applied. */
  sensitivityLabel?: string;
  podSpecs: PodSpecView[];
  models: ModelReference[];
  unclassified: UnclassifiedReference[];
  annotationErrors: string[];
  /** True when the object serves (or declares) models, so model policies apply to it. */
  servesModels: boolean;
}

interface Template {
  meta: Obj;
  spec: Obj;
  path: string;
}

function podTemplates(kind: string, obj: Obj): Template[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const meta = isObj(obj.metadata) ? obj.metadata : {};
  const tpl = (t: unknown, path: string): Template[] =>
    isObj(t) && isObj(t.spec)
      ? [{ meta: isObj(t.metadata) ? t.metadata : {}, spec: t.spec, path: `${path}.spec` }]
      : [];
  switch (kind) {
    case 'Pod':
      return [{ meta, spec, path: 'spec' }];
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
      return tpl(spec.template, 'spec.template');
    case 'CronJob': {
      const jt = isObj(spec.jobTemplate) && isObj(spec.jobTemplate.spec) ? spec.jobTemplate.spec : {};
      return tpl(jt.template, 'spec.jobTemplate.spec.template');
    }
    case 'InferenceService':
      // KServe components inline pod-spec fields (containers, nodeSelector, runtimeClassName, ...).
      return ['predictor', 'transformer', 'explainer']
        .filter((c) => isObj(spec[c]))
        .map((c) => ({ meta: {}, spec: spec[c] as Obj, path: `spec.${c}` }));
    case 'LLMInferenceService': {
      const out: Template[] = [];
      if (isObj(spec.template)) out.push({ meta: {}, spec: spec.template, path: 'spec.template' });
      if (isObj(spec.worker)) out.push({ meta: {}, spec: spec.worker, path: 'spec.worker' });
      if (isObj(spec.prefill)) {
        if (isObj(spec.prefill.template))
          out.push({ meta: {}, spec: spec.prefill.template, path: 'spec.prefill.template' });
        if (isObj(spec.prefill.worker))
          out.push({ meta: {}, spec: spec.prefill.worker, path: 'spec.prefill.worker' });
      }
      return out;
    }
    default:
      return [];
  }
}

/** Flags whose value names the model, per well-known model server. */
interface Flag {
  flag: string;
  prefix: string;
}
const flagList = (flags: string[]): readonly Flag[] => flags.map((flag) => ({ flag, prefix: `${flag}=` }));
const MODEL_FLAGS = flagList([
  '--model',
  '--model-path',
  '--model-id',
  '--model-repository',
  '--model-store',
  '--model_dir',
  '--model-dir',
]);
const REVISION_FLAGS = flagList(['--revision', '--model-revision']);
const KSERVE_FRAMEWORKS = [
  'sklearn',
  'xgboost',
  'tensorflow',
  'pytorch',
  'triton',
  'onnx',
  'pmml',
  'lightgbm',
  'paddle',
  'huggingface',
];

class Collector {
  readonly models: ModelReference[] = [];
  readonly unclassified: UnclassifiedReference[] = [];
  readonly coveredVolumes = new Set<string>();
  constructor(private readonly declared: Map<string, DeclaredModel>) {}

  declaredVolume(name: string): boolean {
    return this.declared.has(name);
  }

  addUri(
    raw: string,
    name: string,
    location: string,
    delivery: Delivery,
    volume?: string,
    revision?: string,
  ): void {
    let parsed: UriParse = parseModelUri(raw);
    if (!parsed.ok && !/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
      const hf = hfIdToUri(raw, revision);
      if (hf) parsed = parseModelUri(hf);
    } else if (
      parsed.ok &&
      revision &&
      parsed.value.scheme === 'hf' &&
      !parsed.value.uri.slice(5).includes(':')
    ) {
      parsed = parseModelUri(`${parsed.value.uri}:${revision}`);
    }
    if (!parsed.ok) {
      this.unclassified.push({ location, value: raw, reason: parsed.reason });
      return;
    }
    this.push({ name, location, ...parsed.value, delivery, ...(volume ? { volume } : {}) });
  }

  push(ref: ModelReference): void {
    const declared = ref.volume ? this.declared.get(ref.volume) : undefined;
    if (ref.volume) this.coveredVolumes.add(ref.volume);
    if (declared) {
      ref.declared = declared;
      ref.modelDigest = declared.digest;
      if (!ref.pinned) {
        ref.pinned = true;
        delete ref.unpinnedReason;
      }
    }
    if (!this.models.some((m) => m.uri === ref.uri && m.location === ref.location)) this.models.push(ref);
  }
}

function expandEnv(
  value: string,
  env: Map<string, string | undefined>,
): { value: string; unresolved?: string } {
  let unresolved: string | undefined;
  const out = value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => {
    const v = env.get(name);
    if (v === undefined) {
      unresolved = name;
      return whole;
    }
    return v;
  });
  return unresolved ? { value: out, unresolved } : { value: out };
}

/** `--flag value` and `--flag=value`; the `--flag=` prefixes are built once per flag list, not per argument. */
function flagValues(
  args: string[],
  flags: readonly Flag[],
): { flag: string; value: string; index: number }[] {
  const out: { flag: string; value: string; index: number }[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    // Every flag starts with "-": skip positional arguments (most of a typical argv) without the loop.
    if (a.charCodeAt(0) !== 45) continue;
    for (const { flag: f, prefix } of flags) {
      if (a === f && i + 1 < args.length) out.push({ flag: f, value: args[i + 1]!, index: i + 1 });
      else if (a.startsWith(prefix)) out.push({ flag: f, value: a.slice(prefix.length), index: i });
    }
  }
  return out;
}

interface VolumeInfo {
  name: string;
  spec: Obj;
}

function volumeType(v: Obj): string {
  return Object.keys(v).find((k) => k !== 'name') ?? 'unknown';
}

/** Resolves a local model path to the pod volume mounted there, and records what it means. */
function classifyLocalPath(
  path: string,
  container: Obj,
  volumes: Map<string, VolumeInfo>,
  c: Collector,
  location: string,
  storageDestinations: Set<string>,
): void {
  const mounts = arr(container.volumeMounts).filter(isObj);
  let best: Obj | undefined;
  for (const m of mounts) {
    const mp = str(m.mountPath);
    if (!mp) continue;
    const norm = mp.endsWith('/') ? mp : `${mp}/`;
    if ((path === mp || path.startsWith(norm)) && (!best || mp.length > (str(best.mountPath)?.length ?? 0)))
      best = m;
  }
  if (!best) {
    const image = str(container.image);
    if (image) {
      // No volume: the model is baked into the server image, so the image reference is the model's.
      const parsed = parseOciReference(image);
      if (parsed.ok) {
        c.push({
          name: `model inside image of container "${str(container.name) ?? '?'}"`,
          location: `${location} → image`,
          ...parsed.value,
          delivery: 'image',
        });
        return;
      }
    }
    c.unclassified.push({
      location,
      value: path,
      reason: `model path ${path} is not on any mounted volume and the container image is not a valid reference`,
    });
    return;
  }
  const volName = str(best.name) ?? '';
  if (c.coveredVolumes.has(volName) || storageDestinations.has(volName)) return;
  const vol = volumes.get(volName);
  if (!vol) {
    c.unclassified.push({
      location,
      value: path,
      reason: `model path ${path} is mounted from volume "${volName}", which the pod does not define`,
    });
    return;
  }
  const claim = isObj(vol.spec.persistentVolumeClaim)
    ? str(vol.spec.persistentVolumeClaim.claimName)
    : undefined;
  if (claim) {
    const sub = str(best.subPath);
    c.addUri(`pvc://${claim}${sub ? `/${sub}` : ''}`, `volume "${volName}"`, location, 'volume', volName);
    return;
  }
  if (c.declaredVolume(volName)) return;
  c.unclassified.push({
    location,
    value: path,
    reason: `model path ${path} is on volume "${volName}" (${volumeType(vol.spec)}), whose content modelgate cannot see; declare it in the ${MODELS_ANNOTATION} annotation with its signed digest`,
  });
}

function scanContainers(spec: Obj, path: string, c: Collector): void {
  const volumes = new Map<string, VolumeInfo>();
  arr(spec.volumes).forEach((v, i) => {
    if (!isObj(v)) return;
    const name = str(v.name) ?? '';
    volumes.set(name, { name, spec: v });
    if (isObj(v.image)) {
      const ref = str(v.image.reference);
      const loc = `${path}.volumes[${i}].image.reference`;
      if (ref === undefined)
        c.unclassified.push({ location: loc, value: '', reason: 'image volume without a reference' });
      else {
        const parsed = parseOciReference(ref);
        if (parsed.ok)
          c.push({
            name: `volume "${name}"`,
            location: loc,
            ...parsed.value,
            delivery: 'volume',
            volume: name,
          });
        else c.unclassified.push({ location: loc, value: ref, reason: parsed.reason });
      }
    }
  });

  const groups: [string, unknown[]][] = [
    ['initContainers', arr(spec.initContainers)],
    ['containers', arr(spec.containers)],
  ];
  // KServe's storage initializer downloads args[0] into the volume mounted at args[1].
  const storageDestinations = new Set<string>();
  for (const [field, list] of groups) {
    list.forEach((ct, i) => {
      if (!isObj(ct)) return;
      const loc = `${path}.${field}[${i}]`;
      const name = str(ct.name) ?? '';
      const args = arr(ct.args).filter((a): a is string => typeof a === 'string');
      if (name === 'storage-initializer' && args.length >= 1) {
        const dest = args[1];
        const mount = arr(ct.volumeMounts)
          .filter(isObj)
          .find((m) => dest !== undefined && str(m.mountPath) === dest);
        const vol = mount ? str(mount.name) : undefined;
        if (vol) storageDestinations.add(vol);
        c.addUri(args[0]!, 'storage initializer', `${loc}.args[0]`, 'storage-initializer', vol);
      }
      if ((name === 'modelcar' || name === 'modelcar-init') && str(ct.image)) {
        const parsed = parseOciReference(str(ct.image)!);
        if (parsed.ok)
          c.push({ name: 'KServe modelcar', location: `${loc}.image`, ...parsed.value, delivery: 'image' });
        else c.unclassified.push({ location: `${loc}.image`, value: str(ct.image)!, reason: parsed.reason });
      }
    });
  }

  for (const [field, list] of groups) {
    list.forEach((ct, i) => {
      if (!isObj(ct) || str(ct.name) === 'storage-initializer') return;
      const loc = `${path}.${field}[${i}]`;
      const env = new Map<string, string | undefined>();
      for (const e of arr(ct.env)) if (isObj(e) && str(e.name)) env.set(str(e.name)!, str(e.value));
      const argv = [...arr(ct.command), ...arr(ct.args)].filter((a): a is string => typeof a === 'string');
      const found: { value: string; where: string; revision?: string }[] = [];
      const revision = flagValues(argv, REVISION_FLAGS)[0]?.value ?? env.get('REVISION');
      for (const f of flagValues(argv, MODEL_FLAGS))
        found.push({ value: f.value, where: `${loc} ${f.flag}` });
      // `vllm serve <model>`: the model is the positional argument after "serve".
      const serve = argv.findIndex((a, j) => a === 'serve' && j > 0 && /(^|\/)vllm$/.test(argv[j - 1]!));
      if (serve >= 0 && argv[serve + 1] && !argv[serve + 1]!.startsWith('-'))
        found.push({ value: argv[serve + 1]!, where: `${loc} vllm serve` });
      // TGI reads MODEL_ID; KServe custom containers read STORAGE_URI.
      if (env.has('MODEL_ID') && !argv.some((a) => a.includes('$(MODEL_ID)'))) {
        const v = env.get('MODEL_ID');
        if (v === undefined)
          c.unclassified.push({
            location: `${loc}.env MODEL_ID`,
            value: '(valueFrom)',
            reason:
              'MODEL_ID comes from a Secret or ConfigMap, which modelgate does not read at admission; set it literally or declare the model in the annotation',
          });
        else found.push({ value: v, where: `${loc}.env MODEL_ID` });
      }
      const storageUri = env.get('STORAGE_URI');
      if (storageUri) found.push({ value: storageUri, where: `${loc}.env STORAGE_URI` });
      for (const f of found) {
        const { value, unresolved } = expandEnv(f.value, env);
        if (unresolved) {
          c.unclassified.push({
            location: f.where,
            value: f.value,
            reason: `$(${unresolved}) is not a literal env value of the container, so the model cannot be known at admission`,
          });
          continue;
        }
        if (value.startsWith('/')) classifyLocalPath(value, ct, volumes, c, f.where, storageDestinations);
        else c.addUri(value, `container "${str(ct.name) ?? i}"`, f.where, 'server', undefined, revision);
      }
    });
  }
}

function scanKServeComponent(kind: string, spec: Obj, c: Collector): void {
  if (kind === 'InferenceService') {
    for (const comp of ['predictor', 'transformer', 'explainer']) {
      const s = spec[comp];
      if (!isObj(s)) continue;
      const fields = ['model', ...KSERVE_FRAMEWORKS, 'art', 'alibi'];
      for (const f of fields) {
        const m = s[f];
        if (!isObj(m)) continue;
        const uri = str(m.storageUri);
        if (uri)
          c.addUri(
            uri,
            `${comp} ${f === 'model' ? 'model' : f}`,
            `spec.${comp}.${f}.storageUri`,
            'storage-initializer',
          );
        if (isObj(m.storage)) {
          const key = str(m.storage.key);
          const path = str(m.storage.path);
          c.unclassified.push({
            location: `spec.${comp}.${f}.storage`,
            value: `${key ?? ''}:${path ?? ''}`,
            reason:
              'the model location comes from a storage Secret, which modelgate does not read; use storageUri or declare the model in the annotation',
          });
        }
      }
      const top = str(s.storageUri);
      if (top) c.addUri(top, `${comp} storageUri`, `spec.${comp}.storageUri`, 'storage-initializer');
    }
  } else if (kind === 'LLMInferenceService') {
    const model = isObj(spec.model) ? spec.model : {};
    const uri = str(model.uri);
    if (uri) c.addUri(uri, 'model', 'spec.model.uri', 'storage-initializer');
    const lora = isObj(model.lora) ? model.lora : {};
    arr(lora.adapters).forEach((a, i) => {
      if (isObj(a) && str(a.uri))
        c.addUri(
          str(a.uri)!,
          `LoRA adapter ${str(a.name) ?? i}`,
          `spec.model.lora.adapters[${i}].uri`,
          'storage-initializer',
        );
    });
  } else if (kind === 'TrainedModel') {
    const model = isObj(spec.model) ? spec.model : {};
    const uri = str(model.storageUri);
    if (uri) c.addUri(uri, 'model', 'spec.model.storageUri', 'model-agent');
  } else if (kind === 'Model') {
    const uri = str(spec.storageUri);
    if (uri) c.addUri(uri, 'model', 'spec.storageUri', 'model-agent');
  }
}

function pvcClaimOf(templates: Template[], volume: string): string | undefined {
  for (const t of templates) {
    for (const v of arr(t.spec.volumes)) {
      if (isObj(v) && v.name === volume && isObj(v.persistentVolumeClaim))
        return str(v.persistentVolumeClaim.claimName);
    }
  }
  return undefined;
}

/** Returns undefined when the object is not a kind modelgate understands. */
export function extractModelReferences(object: unknown): WorkloadModels | undefined {
  if (!isObj(object)) return undefined;
  const group = groupOfApiVersion(object.apiVersion);
  const kind = str(object.kind);
  if (group === undefined || !kind || !isSupportedKind(group, kind)) return undefined;
  const meta = isObj(object.metadata) ? object.metadata : {};
  const spec = isObj(object.spec) ? object.spec : {};
  const templates = podTemplates(kind, object);

  const labels: Record<string, string> = { ...strMap(meta.labels) };
  const annotations: Record<string, string> = { ...strMap(meta.annotations) };
  for (const t of templates) {
    Object.assign(labels, strMap(t.meta.labels));
    Object.assign(annotations, strMap(t.meta.annotations));
  }
  const ann = parseModelsAnnotation(annotations[MODELS_ANNOTATION]);
  const declared = new Map(ann.models.map((m) => [m.volume, m]));
  const c = new Collector(declared);

  scanKServeComponent(kind, spec, c);
  for (const t of templates) scanContainers(t.spec, t.path, c);

  // Declared models not tied to a discovered reference are references of their own.
  const podVolumes = new Set<string>();
  for (const t of templates)
    for (const v of arr(t.spec.volumes)) if (isObj(v) && str(v.name)) podVolumes.add(str(v.name)!);
  for (const d of ann.models) {
    if (templates.length > 0 && !podVolumes.has(d.volume)) {
      ann.errors.push(
        `${MODELS_ANNOTATION}: model "${d.name}" names volume "${d.volume}", which the pod spec does not define (volumes: ${[...podVolumes].join(', ') || 'none'})`,
      );
      continue;
    }
    if (c.models.some((m) => m.declared === d)) continue;
    let scheme: ModelScheme | undefined;
    let uri: string | undefined;
    const claim = pvcClaimOf(templates, d.volume);
    if (!d.uri && claim)
      ({ scheme, uri } = { scheme: 'pvc', uri: `pvc://${claim}${d.subPath ? `/${d.subPath}` : ''}` });
    if (d.uri) {
      const p = parseModelUri(d.uri);
      if (p.ok) ({ scheme, uri } = p.value);
      else
        ann.errors.push(
          `${MODELS_ANNOTATION}: model "${d.name}" has uri ${JSON.stringify(d.uri)}: ${p.reason}`,
        );
    }
    c.models.push({
      name: d.name,
      location: `metadata.annotations["${MODELS_ANNOTATION}"]`,
      ...(uri ? { uri } : {}),
      ...(scheme ? { scheme } : {}),
      pinned: true,
      modelDigest: d.digest,
      volume: d.volume,
      declared: d,
      delivery: 'volume',
    });
  }
  const sensitivityLabel = labels[SENSITIVITY_LABEL];
  const name = str(meta.name) ?? str(meta.generateName) ?? '';
  const namespace = str(meta.namespace);
  return {
    group,
    kind,
    name,
    ...(namespace ? { namespace } : {}),
    labels,
    objectLabels: strMap(meta.labels),
    ...(sensitivityLabel !== undefined ? { sensitivityLabel } : {}),
    podSpecs: templates.map((t) => ({ path: t.path, spec: t.spec })),
    models: c.models,
    unclassified: c.unclassified,
    annotationErrors: ann.errors,
    servesModels:
      c.models.length > 0 ||
      c.unclassified.length > 0 ||
      annotations[MODELS_ANNOTATION] !== undefined ||
      sensitivityLabel !== undefined,
  };
}
