// Turns a value a server's grammar read (a URI, a hub id, an absolute or relative path) into the models a
// container may load: hub ids are also checked as local directories that would shadow them, paths are
// followed to the volume mounted there, and a path on no volume is inside the container image.
import type { Candidate } from './command-line.ts';
import type { ContainerContext, ContainerView } from './container.ts';
import { mountFor, normalisePath, type MountView } from './pod.ts';
import type { Grammar } from './servers.ts';
import { parseModelUri, parseOciReference } from './uri.ts';

/** Working directories of known server images (where a relative hub id could be shadowed by a local dir). */
const IMAGE_WORKDIRS: [RegExp, string][] = [
  [/(^|\/)vllm-openai$/, '/vllm-workspace'],
  [/(^|\/)text-generation-inference$/, '/usr/src'],
  [/(^|\/)(huggingfaceserver|sklearnserver|xgbserver|lgbserver)$/, '/'],
  [/(^|\/)tritonserver$/, '/opt/tritonserver'],
];

/** Environment official images set for their server (Dockerfile ENV), which a pod inherits unless it overrides it. */
const IMAGE_ENV: [RegExp, Record<string, string>][] = [
  // TGI's image: HF_HOME=/data, and its documentation mounts a volume there.
  [/(^|\/)(huggingface-)?text-generation-inference[a-z0-9._-]*$/, { HF_HOME: '/data' }],
];

/** A variable the image's own environment sets (when the pod does not), for known images. */
export function imageEnvOf(repository: string | undefined, name: string): string | undefined {
  if (!repository) return undefined;
  return IMAGE_ENV.find(([re]) => re.test(repository))?.[1][name];
}

export const HUB_ID = /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/;

export function workdirOf(repository: string | undefined): string | undefined {
  if (!repository) return undefined;
  return IMAGE_WORKDIRS.find(([re]) => re.test(repository))?.[1];
}

export function addRemote(
  view: ContainerView,
  value: string,
  where: string,
  _ctx: ContainerContext,
  destinationVolume: string | undefined,
): void {
  const p = parseModelUri(value);
  view.models.push({
    value,
    where,
    kind: 'remote',
    ...(p.ok ? { parsed: p.value } : { unclassified: p.reason }),
    ...(destinationVolume ? { destinationVolume } : {}),
  });
}

/** A model value read by a server's grammar: URI, hub id, absolute or relative path. */
export function addCandidate(
  view: ContainerView,
  c: Candidate,
  g: Grammar,
  ctx: ContainerContext,
  workingDir: string | undefined,
  /** Revisions the value is read at (undefined: the repository's default branch). */
  revisions: (string | undefined)[],
): void {
  const v = c.value.trim();
  if (v === '') return;
  if (/[\s;&|<>`$(){}*?!]/.test(v)) {
    view.models.push({
      value: v,
      where: c.where,
      kind: 'path',
      unclassified: `${JSON.stringify(v.length > 120 ? `${v.slice(0, 120)}…` : v)} is not a model reference modelgate can read (it holds spaces or shell characters)`,
    });
    return;
  }
  if (c.hub) {
    // A hub repository by flag (llama.cpp -hf owner/name:quant): the tag is a file selector, not a revision.
    const repo = v.replace(/:[^/:]*$/, '');
    const p = parseModelUri(`hf://${repo}`);
    view.models.push({
      value: v,
      where: c.where,
      kind: 'remote',
      ...(p.ok ? { parsed: p.value } : { unclassified: p.reason }),
    });
    return;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) {
    addRemote(view, v, c.where, ctx, undefined);
    return;
  }
  if (v.startsWith('/')) {
    addPath(view, v, c.where);
    return;
  }
  const relative =
    v.startsWith('./') || v.startsWith('../') || v === '.' || v === '..' || v.split('/').includes('..');
  if (!relative && g.hubIds && HUB_ID.test(v)) {
    // A hub id — unless a directory of that name exists where the server runs (from_pretrained prefers it).
    for (const rev of revisions.length > 0 ? revisions : [undefined]) {
      const p = parseModelUri(`hf://${v}${rev ? `:${rev}` : ''}`);
      view.models.push({
        value: v,
        where: c.where,
        kind: 'remote',
        ...(p.ok ? { parsed: p.value } : { unclassified: p.reason }),
      });
    }
    for (const local of shadowingPaths(v, view.mounts, workingDir))
      addPath(
        view,
        local,
        `${c.where} (a local directory ${local} would be loaded instead of the hub model)`,
      );
    return;
  }
  if (workingDir !== undefined) {
    addPath(view, `${workingDir}/${v}`, c.where);
    return;
  }
  if (relative) {
    view.models.push({
      value: v,
      where: c.where,
      kind: 'path',
      unclassified: `the relative path ${v} depends on the container's working directory, which is not set`,
    });
    return;
  }
  // A relative path with no working directory: inside the image, unless a volume could be there.
  const shadows = shadowingPaths(v, view.mounts, undefined);
  for (const local of shadows) addPath(view, local, c.where);
  if (shadows.length === 0) addPath(view, `/(image working directory)/${v}`, c.where, true);
}

/** Where `rel` could resolve to a mounted volume when the working directory is `workingDir` (or unknown). */
function shadowingPaths(rel: string, mounts: readonly MountView[], workingDir: string | undefined): string[] {
  if (workingDir !== undefined) {
    const p = normalisePath(`${workingDir}/${rel}`);
    return p !== undefined && mountFor(p, mounts) ? [p] : [];
  }
  const segs = rel.split('/');
  const out: string[] = [];
  for (const m of mounts) {
    for (let k = segs.length; k >= 1; k--) {
      const suffix = `/${segs.slice(0, k).join('/')}`;
      if (m.mountPath.endsWith(suffix)) {
        const cwd = m.mountPath.slice(0, m.mountPath.length - suffix.length) || '/';
        const p = normalisePath(`${cwd}/${rel}`);
        if (p !== undefined && !out.includes(p)) out.push(p);
        break;
      }
    }
  }
  return out;
}

export function addPath(view: ContainerView, raw: string, where: string, inImage = false): void {
  if (inImage) {
    const p = view.image !== undefined ? parseOciReference(view.image) : undefined;
    view.models.push({
      value: raw,
      where,
      kind: 'image',
      ...(p?.ok ? { parsed: p.value } : { unclassified: p?.reason ?? 'the container has no image' }),
    });
    return;
  }
  const path = normalisePath(raw);
  if (path === undefined) {
    view.models.push({
      value: raw,
      where,
      kind: 'path',
      unclassified: `the model path ${raw} uses "..", which can leave the volume it appears to be on; write the path without ".."`,
    });
    return;
  }
  const hit = mountFor(path, view.mounts);
  if (!hit) {
    // Not on a volume: the model is baked into the container image.
    const p = view.image !== undefined ? parseOciReference(view.image) : undefined;
    view.models.push({
      value: path,
      where,
      kind: 'image',
      path,
      ...(p?.ok ? { parsed: p.value } : { unclassified: p?.reason ?? 'the container has no image' }),
    });
    return;
  }
  const inVolume = [hit.mount.subPath, hit.rest].filter((x) => x !== undefined && x !== '').join('/');
  view.models.push({ value: path, where, kind: 'path', path, mount: hit.mount, pathInVolume: inVolume });
}
