// Where each supported kind keeps its pod spec(s), and what a pod spec's volumes and mounts are. Every
// pod spec of an object is found: a policy applies to all of them (fail closed by scope).
import { arr, isObj, obj, str, type JsonObject } from '../json/shape.ts';

export interface Template {
  /** The template's own metadata (for a Pod, the Pod's). */
  meta: JsonObject;
  spec: JsonObject;
  /** JSON path of the pod spec inside the object, e.g. `spec.template.spec`. */
  path: string;
  /**
   * A controller creates the pods from it: their names are generated, and the controller (and KServe's,
   * which also copies the object's labels and annotations) adds labels and annotations of its own.
   */
  generated: boolean;
  /** Per-pod claims the controller adds as volumes (StatefulSet volumeClaimTemplates). */
  claimVolumes?: JsonObject[];
}

export function podTemplates(kind: string, object: JsonObject): Template[] {
  const spec = obj(object.spec);
  const meta = obj(object.metadata);
  const tpl = (t: unknown, path: string): Template[] =>
    isObj(t) && isObj(t.spec)
      ? [{ meta: obj(t.metadata), spec: t.spec, path: `${path}.spec`, generated: true }]
      : [];
  switch (kind) {
    case 'Pod':
      return [{ meta, spec, path: 'spec', generated: false }];
    case 'StatefulSet':
      return tpl(spec.template, 'spec.template').map((t) => ({
        ...t,
        claimVolumes: claimTemplateVolumes(spec, str(meta.name) ?? ''),
      }));
    case 'Deployment':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
      return tpl(spec.template, 'spec.template');
    case 'CronJob': {
      const jt = obj(obj(spec.jobTemplate).spec);
      return tpl(jt.template, 'spec.jobTemplate.spec.template');
    }
    case 'InferenceService': {
      // KServe components inline pod-spec fields (containers, nodeSelector, runtimeClassName, ...); a
      // multi-node predictor's workerSpec is the pod spec of its worker pods.
      const out: Template[] = [];
      for (const c of ['predictor', 'transformer', 'explainer']) {
        const comp = spec[c];
        if (!isObj(comp)) continue;
        // A component's labels and annotations are its pods' (KServe's ComponentExtensionSpec).
        const compMeta = { labels: comp.labels, annotations: comp.annotations };
        out.push({ meta: compMeta, spec: comp, path: `spec.${c}`, generated: true });
        if (isObj(comp.workerSpec))
          out.push({
            meta: compMeta,
            spec: comp.workerSpec,
            path: `spec.${c}.workerSpec`,
            generated: true,
          });
      }
      return out;
    }
    case 'LLMInferenceService': {
      const out: Template[] = [];
      const add = (v: unknown, path: string) => {
        if (isObj(v)) out.push({ meta: {}, spec: v, path, generated: true });
      };
      add(spec.template, 'spec.template');
      add(spec.worker, 'spec.worker');
      const prefill = obj(spec.prefill);
      add(prefill.template, 'spec.prefill.template');
      add(prefill.worker, 'spec.prefill.worker');
      // The router's scheduler (the endpoint picker) runs as pods of this template.
      add(obj(obj(spec.router).scheduler).template, 'spec.router.scheduler.template');
      return out;
    }
    default:
      return [];
  }
}

/**
 * A StatefulSet's volumeClaimTemplates as the volumes its pods get: a claim `<template>-<set>-<ordinal>`
 * per pod, which replaces a pod-template volume of the same name (as the StatefulSet controller does).
 */
function claimTemplateVolumes(spec: JsonObject, set: string): JsonObject[] {
  const out: JsonObject[] = [];
  for (const t of arr(spec.volumeClaimTemplates)) {
    const name = isObj(t) ? str(obj(t.metadata).name) : undefined;
    if (name) out.push({ name, persistentVolumeClaim: { claimName: `${name}-${set}-*` } });
  }
  return out;
}

/** The source kind of a volume (`emptyDir`, `persistentVolumeClaim`, `hostPath`, `image`, ...). */
export function volumeType(v: JsonObject): string {
  return Object.keys(v).find((k) => k !== 'name') ?? 'unknown';
}

/** Volumes whose content no container can change: the kubelet or the runtime writes them. */
const READ_ONLY_SOURCES = new Set([
  'configMap',
  'secret',
  'downwardAPI',
  'projected',
  'image',
  'serviceAccountToken',
]);
/** Volumes that live only as long as the pod: nothing outside the pod wrote them before it started. */
const POD_LOCAL_SOURCES = new Set(['emptyDir', ...READ_ONLY_SOURCES]);

export interface VolumeView {
  name: string;
  type: string;
  spec: JsonObject;
  /** No container can write it. */
  readOnlySource: boolean;
  /** Its content starts empty (or from the API) with the pod: it holds nothing another workload put there. */
  podLocal: boolean;
  /**
   * Writable and empty when the pod starts: an emptyDir, or a generic ephemeral volume (a new claim per pod)
   * with no data source to populate it.
   */
  startsEmpty: boolean;
  /** What identifies the storage behind it (claim, host path, NFS export), to find two volumes on one store. */
  backing?: string;
}

/**
 * A generic ephemeral volume: a claim created with the pod, empty unless something chooses its content — a
 * data source or populator, or an existing volume it binds to (by name, or by a selector matching
 * pre-provisioned volumes).
 */
function freshClaim(type: string, src: JsonObject): boolean {
  if (type !== 'ephemeral') return false;
  const claim = obj(obj(src.volumeClaimTemplate).spec);
  return (
    claim.dataSource === undefined &&
    claim.dataSourceRef === undefined &&
    claim.volumeName === undefined &&
    claim.selector === undefined
  );
}

export function volumesOf(
  spec: JsonObject,
  claimVolumes: readonly JsonObject[] = [],
): Map<string, VolumeView> {
  const out = new Map<string, VolumeView>();
  for (const v of [...arr(spec.volumes), ...claimVolumes]) {
    if (!isObj(v)) continue;
    const name = str(v.name) ?? '';
    const type = volumeType(v);
    const src = obj(v[type]);
    let backing: string | undefined;
    if (type === 'persistentVolumeClaim') backing = `pvc:${str(src.claimName) ?? ''}`;
    else if (type === 'hostPath') backing = `host:${normalisePath(str(src.path) ?? '/') ?? '/'}`;
    else if (type === 'nfs')
      backing = `nfs:${str(src.server) ?? ''}:${normalisePath(str(src.path) ?? '/') ?? '/'}`;
    else if (type === 'csi')
      backing = `csi:${str(src.driver) ?? ''}:${JSON.stringify(src.volumeAttributes ?? {})}`;
    out.set(name, {
      name,
      type,
      spec: v,
      readOnlySource: READ_ONLY_SOURCES.has(type),
      podLocal: POD_LOCAL_SOURCES.has(type) || freshClaim(type, src),
      startsEmpty: type === 'emptyDir' || freshClaim(type, src),
      ...(backing !== undefined ? { backing } : {}),
    });
  }
  return out;
}

export interface MountView {
  volume: string;
  mountPath: string;
  readOnly: boolean;
  subPath?: string;
  /** subPathExpr: the sub-path is decided at run time. */
  subPathExpr?: string;
}

/**
 * A subPath in one spelling ("./llama", "llama/", "llama//x" are "llama" and "llama/x"; "." and "" are the
 * volume's root, returned as ''), so that two mounts, or a mount and a declared model, that name the same
 * directory compare equal. Undefined for an absolute path or one with ".." (refused by the API server and
 * by the annotation's parser).
 */
export function normaliseSubPath(p: string): string | undefined {
  if (p.startsWith('/')) return undefined;
  return normalisePath(`/${p}`)?.slice(1);
}

const subPathOf = (raw: string | undefined): { subPath?: string } => {
  if (!raw) return {};
  const n = normaliseSubPath(raw);
  // A spelling that cannot be placed is kept as written (the API server refuses it; so does overlays.ts).
  return n === undefined ? { subPath: raw } : n === '' ? {} : { subPath: n };
};

export function mountsOf(container: JsonObject): MountView[] {
  const out: MountView[] = [];
  for (const m of arr(container.volumeMounts)) {
    if (!isObj(m)) continue;
    // A relative mountPath is placed under the container's root; one that cannot be placed ("..") is kept
    // as covering everything, so a writer is never lost (overlays.ts refuses both as unreadable).
    const written = str(m.mountPath) ?? '';
    const mountPath = normalisePath(written) ?? normalisePath(`/${written}`) ?? '/';
    out.push({
      volume: str(m.name) ?? '',
      mountPath,
      readOnly: m.readOnly === true,
      ...subPathOf(str(m.subPath)),
      ...(str(m.subPathExpr) ? { subPathExpr: str(m.subPathExpr)! } : {}),
    });
  }
  return out;
}

/**
 * A POSIX path with "." segments and repeated slashes removed. Undefined when it is relative or uses
 * ".." (a model path that climbs out of a mount is refused, not resolved).
 */
export function normalisePath(p: string): string | undefined {
  if (!p.startsWith('/')) return undefined;
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') return undefined;
    parts.push(seg);
  }
  return `/${parts.join('/')}`;
}

/** Mounts by path (the first of each path, as the linear reading picked it), built once per mount list. */
const mountIndexes = new WeakMap<readonly MountView[], Map<string, MountView>>();

function mountIndex(mounts: readonly MountView[]): Map<string, MountView> {
  let index = mountIndexes.get(mounts);
  if (!index) {
    index = new Map();
    for (const m of mounts) if (!index.has(m.mountPath)) index.set(m.mountPath, m);
    mountIndexes.set(mounts, index);
  }
  return index;
}

/**
 * The mount that holds `path` (the deepest one), and the path relative to the mount. Looked up by the path's
 * ancestors in an index of the mounts: linear in the path, whatever the number of mounts (a hostile pod
 * pairs tens of thousands of paths with tens of thousands of mounts).
 */
export function mountFor(
  path: string,
  mounts: readonly MountView[],
): { mount: MountView; rest: string } | undefined {
  if (mounts.length === 0 || !path.startsWith('/')) return undefined;
  const index = mountIndex(mounts);
  let p = path.length > 1 && path.endsWith('/') ? path.replace(/\/+$/, '') || '/' : path;
  for (;;) {
    const m = index.get(p);
    if (m) {
      const rest = path === m.mountPath ? '' : path.slice(m.mountPath === '/' ? 1 : m.mountPath.length + 1);
      return { mount: m, rest };
    }
    if (p === '/') return undefined;
    const cut = p.lastIndexOf('/');
    p = cut <= 0 ? '/' : p.slice(0, cut);
  }
}
