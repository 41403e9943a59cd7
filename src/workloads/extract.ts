// extractModelReferences: reads every pod spec and every container of a supported object — what each
// container runs, every model it may load, every input modelgate cannot read — plus KServe/Seldon model
// fields and the modelgate.io/models annotation. Pure; tolerant of any input shape (objects come from
// users). It decides nothing: which containers are accounted for is the policy's business
// (src/policy/checks/containers.ts), and a policy applies to every workload it selects, whether or not a
// model was found in it (fail closed by scope, ADR 4 reversed).
import { MODELS_ANNOTATION, OMS_DEFAULT_IGNORE_PATHS, SENSITIVITY_LABEL } from '../api/types.ts';
import { arr, isObj, obj, str, strMap, type JsonObject } from '../json/shape.ts';
import { parseModelsAnnotation, type DeclaredModel } from './annotation.ts';
import {
  readContainer,
  type ContainerContext,
  type ContainerField,
  type ContainerView,
} from './container.ts';
import { groupOfApiVersion, isSupportedKind } from './kinds.ts';
import type { PodIdentity } from './env.ts';
import { podNetworkOf } from './downloads.ts';
import { podTemplates, volumesOf, type VolumeView } from './pod.ts';
import { GRAMMARS, type Grammar } from './servers.ts';
import {
  parseModelUri,
  parseOciReference,
  type ModelScheme,
  type OciTransport,
  type UriParse,
} from './uri.ts';

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
  /** Index into `podSpecs` of the pod spec whose volume `volume` is (volume names are per pod spec). */
  pod?: number;
  /** The matching entry of the modelgate.io/models annotation, if any. */
  declared?: DeclaredModel;
  /**
   * How the files reach the pod: in a volume (image volume, PVC, declared), downloaded into a volume by
   * an init container (KServe's storage initializer, a hub or object-store download) before the server
   * starts, fetched by the server itself at run time, baked into a container image, or pulled into a
   * running server by a model agent (TrainedModel, Seldon). Only the first two can be checked by the
   * runtime verifier before the model loads.
   */
  delivery: Delivery;
  /** Locations of the containers that load (or download) it. */
  containers?: string[];
  /** How an OCI URI was written (`oci://`, `oci+native://`, `oci+fetch://`); see ParsedModelUri. */
  transport?: OciTransport;
  /**
   * For a model in a volume: the paths containers name inside it, relative to the model's root (the declared
   * subPath, or the volume), '' for the root. The runtime verifier refuses one the signature does not cover.
   */
  readPaths?: string[];
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
  spec: JsonObject;
  /** The metadata its pods will have, as far as the object says (a template's pods get generated names). */
  identity: PodIdentity;
  volumes: ReadonlyMap<string, VolumeView>;
}

export interface WorkloadContainer extends ContainerView {
  /** Index into `podSpecs`. */
  pod: number;
}

export interface WorkloadModels {
  group: string;
  kind: string;
  name: string;
  namespace?: string;
  /** Labels of the object merged with its pod templates' (templates win). */
  labels: Record<string, string>;
  /** The object's own labels, which policy objectSelectors match (as webhook objectSelectors do). */
  objectLabels: Record<string, string>;
  /** Every value of the sensitivity label found: on the object and on each pod template (the highest wins). */
  sensitivityLabels: string[];
  podSpecs: PodSpecView[];
  /** Every container of every pod spec (init, regular and ephemeral). */
  containers: WorkloadContainer[];
  models: ModelReference[];
  unclassified: UnclassifiedReference[];
  annotationErrors: string[];
  /** Set when the object was only partly read (too many containers or references): a policy refuses it. */
  truncated?: string;
}

/** Bounds on one object's work (a real workload has a handful of each). */
export const MAX_CONTAINERS = 256;
export const MAX_REFERENCES = 512;

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

/** The server KServe's standard ServingRuntimes run for a model format (kserve/config/runtimes). */
const KSERVE_FORMAT_RUNTIMES: Record<string, Grammar> = {
  huggingface: GRAMMARS.KSERVE_HF,
  sklearn: GRAMMARS.KSERVE_PYTHON,
  xgboost: GRAMMARS.KSERVE_PYTHON,
  lightgbm: GRAMMARS.KSERVE_PYTHON,
  pmml: GRAMMARS.KSERVE_PYTHON,
  paddle: GRAMMARS.KSERVE_PYTHON,
  tensorflow: GRAMMARS.TF_SERVING,
  pytorch: GRAMMARS.TORCHSERVE,
  triton: GRAMMARS.TRITON,
  onnx: GRAMMARS.TRITON,
};

/** A KServe component's fields that name its model and embed a container of the runtime. */
const KSERVE_MODEL_FIELDS = ['model', ...KSERVE_FRAMEWORKS, 'art', 'alibi'];

class Collector {
  readonly models: ModelReference[] = [];
  readonly unclassified: UnclassifiedReference[] = [];
  /** Dedupe by (uri or name) + location + volume: linear, however many repeats an object holds. */
  private readonly seen = new Map<string, ModelReference>();
  truncated: string | undefined;
  constructor(private readonly declared: Map<string, DeclaredModel>) {}

  addUri(
    raw: string,
    name: string,
    location: string,
    delivery: Delivery,
    at?: { volume: string; pod?: number },
    container?: string,
  ): void {
    const parsed: UriParse = parseModelUri(raw);
    if (!parsed.ok) {
      this.unclassify({ location, value: raw, reason: parsed.reason });
      return;
    }
    this.push({ name, location, ...parsed.value, delivery, ...(at ?? {}) }, container);
  }

  unclassify(u: UnclassifiedReference): void {
    if (this.unclassified.length >= MAX_REFERENCES) {
      this.truncated ??= `more than ${MAX_REFERENCES} unreadable model references`;
      return;
    }
    this.unclassified.push(u);
  }

  push(ref: ModelReference, container?: string): ModelReference | undefined {
    const key = `${ref.uri ?? ref.name}\u0000${ref.location}\u0000${ref.volume ?? ''}\u0000${ref.pod ?? ''}`;
    const prior = this.seen.get(key);
    if (prior) {
      if (container && !prior.containers?.includes(container)) (prior.containers ??= []).push(container);
      return prior;
    }
    if (this.models.length >= MAX_REFERENCES) {
      this.truncated ??= `more than ${MAX_REFERENCES} model references`;
      return undefined;
    }
    const declared = ref.volume ? this.declared.get(ref.volume) : undefined;
    if (declared) {
      ref.declared = declared;
      ref.modelDigest = declared.digest;
      if (!ref.pinned) {
        ref.pinned = true;
        delete ref.unpinnedReason;
      }
    }
    if (container) ref.containers = [container];
    this.seen.set(key, ref);
    this.models.push(ref);
    return ref;
  }

  /** Paths containers read inside each (pod, volume)'s model, relative to its root. */
  readonly reads = new Map<string, Set<string>>();

  noteRead(pod: number, volume: string, inModel: string): void {
    const key = `${pod}\u0000${volume}`;
    let set = this.reads.get(key);
    if (!set) this.reads.set(key, (set = new Set()));
    set.add(inModel);
  }

  /** The reference already collected for a volume of a pod spec (image volume, downloaded, declared), if any. */
  forVolume(volume: string, pod: number): ModelReference | undefined {
    return this.models.find((m) => m.volume === volume && m.pod === pod);
  }
}

function scanImageVolumes(pod: PodSpecView, p: number, c: Collector): void {
  arr(pod.spec.volumes).forEach((v, i) => {
    if (!isObj(v) || !isObj(v.image)) return;
    const name = str(v.name) ?? '';
    const ref = str(v.image.reference);
    const loc = `${pod.path}.volumes[${i}].image.reference`;
    if (ref === undefined)
      c.unclassify({ location: loc, value: '', reason: 'image volume without a reference' });
    else {
      const parsed = parseOciReference(ref);
      if (parsed.ok)
        c.push({
          name: `volume "${name}"`,
          location: loc,
          ...parsed.value,
          delivery: 'volume',
          volume: name,
          pod: p,
        });
      else c.unclassify({ location: loc, value: ref, reason: parsed.reason });
    }
  });
}

/**
 * A path inside a volume, relative to the model the runtime verifier checks there: the declared subPath, or
 * the whole volume ('' is the model's root); undefined when the path is outside the declared subPath.
 */
function relativeToModel(inside: string, subPath: string | undefined): string | undefined {
  if (subPath === undefined) return inside;
  if (inside === subPath) return '';
  return inside.startsWith(`${subPath}/`) ? inside.slice(subPath.length + 1) : undefined;
}

/** Turns what a container may load into workload references (linking paths to volumes and declarations). */
function collectContainer(
  ct: WorkloadContainer,
  pod: PodSpecView,
  c: Collector,
  declared: Map<string, DeclaredModel>,
): void {
  const label = `container "${ct.name || ct.index}"`;
  const role = ct.recognition?.grammar.role;
  // Every path the container names inside a model, whatever carries it (a chat template, a config file, an
  // unknown flag's value): the signature must cover it, as for the model paths below.
  for (const np of ct.namedPaths) {
    const inModel = relativeToModel(np.pathInVolume, declared.get(np.volume)?.subPath);
    if (inModel !== undefined) c.noteRead(ct.pod, np.volume, inModel);
  }
  for (const m of ct.models) {
    const location = `${ct.location} ${m.where}`;
    if (m.unclassified !== undefined) {
      c.unclassify({ location, value: m.value, reason: m.unclassified });
      continue;
    }
    if (m.kind === 'remote' && m.parsed) {
      const delivery: Delivery =
        role === 'downloader' || m.where === 'env STORAGE_URI' ? 'storage-initializer' : 'server';
      const volume = m.destinationVolume;
      c.push(
        {
          name: role === 'downloader' ? `${ct.runs} (${label})` : label,
          location,
          ...m.parsed,
          delivery,
          ...(volume ? { volume, pod: ct.pod } : {}),
        },
        ct.location,
      );
      continue;
    }
    if (m.kind === 'image' && m.parsed) {
      // A modelcar's image is the model, linked into a volume the server reads (destinationVolume).
      c.push(
        {
          name: `model inside the image of ${label}`,
          location: `${location} → image`,
          ...m.parsed,
          delivery: 'image',
          ...(m.destinationVolume ? { volume: m.destinationVolume, pod: ct.pod } : {}),
        },
        ct.location,
      );
      continue;
    }
    if (m.kind === 'path' && m.mount) {
      const volName = m.mount.volume;
      const vol = pod.volumes.get(volName);
      if (!vol) {
        c.unclassify({
          location,
          value: m.value,
          reason: `model path ${m.value} is mounted from volume "${volName}", which the pod does not define`,
        });
        continue;
      }
      if (m.mount.subPathExpr !== undefined) {
        c.unclassify({
          location,
          value: m.value,
          reason: `volume "${volName}" is mounted with subPathExpr, so which directory the model is read from is decided at run time`,
        });
        continue;
      }
      const d = declared.get(volName);
      const inside = m.pathInVolume ?? '';
      // Relative to what the verifier checks; outside the declared subPath is refused below.
      const inModel = relativeToModel(inside, d?.subPath) ?? '';
      if (d !== undefined) {
        // The signature never covers the model's git metadata, so the verifier does not check what is there.
        const top = inModel.split('/')[0] ?? '';
        if (OMS_DEFAULT_IGNORE_PATHS.includes(top)) {
          c.unclassify({
            location,
            value: m.value,
            reason: `model path ${m.value} reads "${top}" of the signed model, which model signing leaves out of every signature (git metadata): the runtime verifier does not check what is there`,
          });
          continue;
        }
      }
      if (d?.subPath !== undefined) {
        if (relativeToModel(inside, d.subPath) === undefined) {
          c.unclassify({
            location,
            value: m.value,
            reason: `model path ${m.value} reads "${inside || '/'}" of volume "${volName}", outside the declared subPath "${d.subPath}" that the runtime verifier checks`,
          });
          continue;
        }
      }
      c.noteRead(ct.pod, volName, inModel);
      const existing = c.forVolume(volName, ct.pod);
      if (existing) {
        if (!existing.containers?.includes(ct.location)) (existing.containers ??= []).push(ct.location);
        continue;
      }
      if (d) continue; // the declared model is added below, linked to this container
      if (vol.type === 'persistentVolumeClaim') {
        const claim = str(obj(vol.spec.persistentVolumeClaim).claimName) ?? '';
        const sub = m.mount.subPath;
        c.addUri(
          `pvc://${claim}${sub ? `/${sub}` : ''}`,
          `volume "${volName}"`,
          location,
          'volume',
          { volume: volName, pod: ct.pod },
          ct.location,
        );
        continue;
      }
      c.unclassify({
        location,
        value: m.value,
        reason: `model path ${m.value} is on volume "${volName}" (${vol.type}), whose content modelgate cannot see; declare it in the ${MODELS_ANNOTATION} annotation with its signed digest`,
      });
    }
  }
}

/**
 * The volume KServe's storage initializer downloads a component's storageUri into (in every predictor,
 * transformer and explainer pod). The object does not define it, but an annotation entry naming it pins the
 * download: the injected verifier checks that volume in each pod after the storage initializer.
 */
export const KSERVE_DOWNLOAD_VOLUME = 'kserve-provision-location';
const KSERVE_DOWNLOAD = { volume: KSERVE_DOWNLOAD_VOLUME };

/**
 * A KServe component's (or model field's) storage: `storageUri`, the `storageUris` list (each downloaded by
 * the storage initializer, to its `path` under /mnt/models), and `storage` (a storage Secret's key and path,
 * which modelgate does not read). Any other field named `storage...` may name what KServe downloads too:
 * unreadable rather than ignored.
 */
function scanKServeStorage(s: JsonObject, name: string, at: string, c: Collector): void {
  const uri = str(s.storageUri);
  if (uri) c.addUri(uri, `${name}`, `${at}.storageUri`, 'storage-initializer', KSERVE_DOWNLOAD);
  arr(s.storageUris).forEach((e, i) => {
    const u = isObj(e) ? str(e.uri) : undefined;
    if (u)
      c.addUri(
        u,
        `${name} storageUris[${i}]`,
        `${at}.storageUris[${i}].uri`,
        'storage-initializer',
        KSERVE_DOWNLOAD,
      );
    else
      c.unclassify({
        location: `${at}.storageUris[${i}]`,
        value: JSON.stringify(e ?? null).slice(0, 200),
        reason:
          'a storageUris entry without a uri string: modelgate cannot tell what KServe downloads for it',
      });
  });
  if (isObj(s.storage))
    c.unclassify({
      location: `${at}.storage`,
      value: `${str(s.storage.key) ?? ''}:${str(s.storage.path) ?? ''}`,
      reason:
        'the model location comes from a storage Secret, which modelgate does not read; use storageUri or declare the model in the annotation',
    });
  for (const k of Object.keys(s))
    if (/^storage/i.test(k) && !['storageUri', 'storageUris', 'storage'].includes(k))
      c.unclassify({
        location: `${at}.${k}`,
        value: JSON.stringify(s[k] ?? null).slice(0, 200),
        reason: `${k} is a storage field modelgate does not read, and KServe may download a model from it; use storageUri`,
      });
}

/** KServe's storage initializer downloads into /mnt/models for this component or model field. */
const downloadsModel = (s: JsonObject): boolean =>
  str(s.storageUri) !== undefined || arr(s.storageUris).length > 0;

function scanKServeComponent(kind: string, spec: JsonObject, c: Collector): void {
  if (kind === 'InferenceService') {
    for (const comp of ['predictor', 'transformer', 'explainer']) {
      const s = spec[comp];
      if (!isObj(s)) continue;
      for (const f of KSERVE_MODEL_FIELDS) {
        const m = s[f];
        if (isObj(m)) scanKServeStorage(m, `${comp} ${f}`, `spec.${comp}.${f}`, c);
      }
      scanKServeStorage(s, `${comp} storageUri`, `spec.${comp}`, c);
    }
  } else if (kind === 'LLMInferenceService') {
    const model = obj(spec.model);
    const uri = str(model.uri);
    if (uri) c.addUri(uri, 'model', 'spec.model.uri', 'storage-initializer');
    arr(obj(model.lora).adapters).forEach((a, i) => {
      if (isObj(a) && str(a.uri))
        c.addUri(
          str(a.uri)!,
          `LoRA adapter ${str(a.name) ?? i}`,
          `spec.model.lora.adapters[${i}].uri`,
          'storage-initializer',
        );
    });
  } else if (kind === 'TrainedModel') {
    const uri = str(obj(spec.model).storageUri);
    if (uri) c.addUri(uri, 'model', 'spec.model.storageUri', 'model-agent');
  } else if (kind === 'Model') {
    const uri = str(spec.storageUri);
    if (uri) c.addUri(uri, 'model', 'spec.storageUri', 'model-agent');
  }
}

const FIELDS: ContainerField[] = ['initContainers', 'containers', 'ephemeralContainers'];

/** Returns undefined when the object is not a kind modelgate understands. */
export function extractModelReferences(object: unknown): WorkloadModels | undefined {
  if (!isObj(object)) return undefined;
  const group = groupOfApiVersion(object.apiVersion);
  const kind = str(object.kind);
  if (group === undefined || !kind || !isSupportedKind(group, kind)) return undefined;
  const meta = obj(object.metadata);
  const spec = obj(object.spec);
  const templates = podTemplates(kind, object);

  const labels: Record<string, string> = { ...strMap(meta.labels) };
  const annotations: Record<string, string> = { ...strMap(meta.annotations) };
  const sensitivityLabels: string[] = [];
  const objectSensitivity = strMap(meta.labels)[SENSITIVITY_LABEL];
  if (objectSensitivity !== undefined) sensitivityLabels.push(objectSensitivity);
  for (const t of templates) {
    const tl = strMap(t.meta.labels);
    Object.assign(labels, tl);
    Object.assign(annotations, strMap(t.meta.annotations));
    if (tl[SENSITIVITY_LABEL] !== undefined) sensitivityLabels.push(tl[SENSITIVITY_LABEL]);
  }
  const ann = parseModelsAnnotation(annotations[MODELS_ANNOTATION]);
  const declared = new Map(ann.models.map((m) => [m.volume, m]));
  const c = new Collector(declared);

  scanKServeComponent(kind, spec, c);
  const kserve = kind === 'InferenceService' || kind === 'LLMInferenceService';
  const podSpecs: PodSpecView[] = templates.map((t) => ({
    path: t.path,
    spec: t.spec,
    identity: t.generated
      ? {
          // Pods get the template's labels and annotations (KServe also copies the object's), never its name.
          meta: {
            ...(meta.namespace !== undefined ? { namespace: meta.namespace } : {}),
            labels: { ...(kserve ? strMap(meta.labels) : {}), ...strMap(t.meta.labels) },
            annotations: { ...(kserve ? strMap(meta.annotations) : {}), ...strMap(t.meta.annotations) },
          },
          generated: true,
        }
      : { meta, generated: false },
    volumes: volumesOf(t.spec, t.claimVolumes),
  }));
  const containers: WorkloadContainer[] = [];
  const budget = { candidates: MAX_REFERENCES * 2 };
  const kservePatch =
    kind === 'LLMInferenceService' ? 'vllm' : kind === 'InferenceService' ? 'runtime' : undefined;
  podSpecs.forEach((pod, p) => {
    scanImageVolumes(pod, p, c);
    const podNetwork = podNetworkOf(pod.spec);
    const mountCounts = new Map<string, number>();
    for (const field of FIELDS)
      for (const ct of arr(pod.spec[field]))
        for (const m of new Set(arr(obj(ct).volumeMounts).map((vm) => str(obj(vm).name) ?? '')))
          mountCounts.set(m, (mountCounts.get(m) ?? 0) + 1);
    const read = (raw: unknown, field: ContainerField, i: number, location?: string) => {
      if (!isObj(raw)) return;
      if (containers.length >= MAX_CONTAINERS) {
        c.truncated ??= `more than ${MAX_CONTAINERS} containers`;
        return;
      }
      containers.push({
        ...readContainer(raw, field, i, {
          podPath: pod.path,
          pod: pod.identity,
          volumes: pod.volumes,
          budget,
          mountCounts,
          podNetwork,
          ...(location ? { location } : {}),
          ...(kservePatch ? { kservePatch } : {}),
          ...extra,
        }),
        pod: p,
      });
    };
    let extra: Partial<ContainerContext> = {};
    for (const field of FIELDS) arr(pod.spec[field]).forEach((raw, i) => read(raw, field, i));
    // KServe's model and framework specs embed a container (image, command, args, env, volumeMounts, ...)
    // that KServe merges into the serving runtime's container: it is read as that container, its
    // arguments with the grammar of the runtime KServe runs for the format (unless the spec names one).
    if (kind === 'InferenceService' && !pod.path.endsWith('.workerSpec'))
      for (const f of KSERVE_MODEL_FIELDS) {
        const m = pod.spec[f];
        if (!isObj(m)) continue;
        const format = f === 'model' ? str(obj(m.modelFormat).name) : f;
        const runtime = str(m.runtime) === undefined && format ? KSERVE_FORMAT_RUNTIMES[format] : undefined;
        extra = {
          ...(runtime ? { kserveRuntime: runtime } : {}),
          ...(downloadsModel(m) || downloadsModel(pod.spec) ? { kserveModelDir: true } : {}),
        };
        read({ ...m, name: str(m.name) ?? 'kserve-container' }, 'containers', 0, `${pod.path}.${f}`);
        extra = {};
      }
  });
  // Downloaders and modelcars first: what they put into a volume is the model a server then reads from it.
  const order = (ct: WorkloadContainer) =>
    ct.recognition?.grammar.role === 'downloader' || ct.models.some((m) => m.destinationVolume) ? 0 : 1;
  for (const ct of [...containers].sort((a, b) => order(a) - order(b)))
    collectContainer(ct, podSpecs[ct.pod]!, c, declared);

  // A KServe component's own model (storageUri, model.uri) is what its runtime container serves.
  const patches = containers.filter((ct) => ct.image === undefined && ct.recognition);
  if (patches.length > 0)
    for (const m of c.models)
      if (m.containers === undefined && m.location.startsWith('spec.')) {
        const comp = /^spec\.(predictor|transformer|explainer)\./.exec(m.location)?.[1];
        const mine = patches.filter((ct) => comp === undefined || ct.location.startsWith(`spec.${comp}.`));
        if (mine.length > 0) m.containers = mine.map((ct) => ct.location);
      }
  // Declared models not tied to a discovered reference are references of their own, one per pod spec that
  // has the volume (the annotation reaches every pod of the object; a volume name means one thing per pod).
  for (const d of ann.models) {
    if (d.uri) {
      // The annotation's uri is the deployer's claim about where the files came from, for no volume type
      // evidence of it (the volume holds whatever is there): it is checked for form, never used as a source.
      const p = parseModelUri(d.uri);
      if (!p.ok)
        ann.errors.push(
          `${MODELS_ANNOTATION}: model "${d.name}" has uri ${JSON.stringify(d.uri)}: ${p.reason}`,
        );
    }
    const holders = podSpecs.map((pod, p) => ({ vol: pod.volumes.get(d.volume), p })).filter((h) => h.vol);
    // Bound already to a download the object names (a KServe component's storageUri into its pods' volume).
    if (holders.length === 0 && c.models.some((m) => m.declared === d)) continue;
    if (templates.length > 0 && holders.length === 0) {
      const names = [...new Set(podSpecs.flatMap((pod) => [...pod.volumes.keys()]))];
      ann.errors.push(
        `${MODELS_ANNOTATION}: model "${d.name}" names volume "${d.volume}", which the pod spec does not define (volumes: ${names.join(', ') || 'none'})`,
      );
      continue;
    }
    for (const { vol, p } of holders.length > 0 ? holders : [{ vol: undefined, p: undefined }]) {
      if (c.models.some((m) => m.declared === d && m.pod === p)) continue;
      const claim =
        vol?.type === 'persistentVolumeClaim'
          ? str(obj(vol.spec.persistentVolumeClaim).claimName)
          : undefined;
      const users = containers
        .filter((ct) => ct.pod === p && ct.mounts.some((m) => m.volume === d.volume))
        .map((ct) => ct.location);
      c.push({
        name: d.name,
        location: `metadata.annotations["${MODELS_ANNOTATION}"]`,
        ...(claim
          ? { scheme: 'pvc' as ModelScheme, uri: `pvc://${claim}${d.subPath ? `/${d.subPath}` : ''}` }
          : {}),
        pinned: true,
        modelDigest: d.digest,
        volume: d.volume,
        ...(p !== undefined ? { pod: p } : {}),
        declared: d,
        delivery: 'volume',
        ...(users.length > 0 ? { containers: users } : {}),
      });
    }
  }
  for (const m of c.models) {
    const reads =
      m.volume !== undefined && m.pod !== undefined ? c.reads.get(`${m.pod}\u0000${m.volume}`) : undefined;
    if (reads) m.readPaths = [...reads].sort();
  }
  const name = str(meta.name) ?? str(meta.generateName) ?? '';
  const namespace = str(meta.namespace);
  return {
    group,
    kind,
    name,
    ...(namespace ? { namespace } : {}),
    labels,
    objectLabels: strMap(meta.labels),
    sensitivityLabels,
    podSpecs,
    containers,
    models: c.models,
    unclassified: c.unclassified,
    annotationErrors: ann.errors,
    ...(c.truncated ? { truncated: c.truncated } : {}),
  };
}
