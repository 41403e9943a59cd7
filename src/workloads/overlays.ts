// The bytes at a model path must come from the mount modelgate attributed to it. Another mount at or below
// a model path replaces part of the model with other files (a PVC mounted as one file of a verified
// directory, or as one model of a Triton repository); two mounts at one path leave the runtime's choice
// (the last one wins) hidden; a mountPath that is not a normal absolute path cannot be reasoned about.
import { arr, isObj, str, type JsonObject } from '../json/shape.ts';
import type { ContainerView, UnreadableInput } from './container.ts';
import { normalisePath } from './pod.ts';

export function overlayInputs(raw: JsonObject, view: ContainerView): UnreadableInput[] {
  const out: UnreadableInput[] = [];
  const refuse = (where: string, value: string, reason: string, remediation: string) =>
    out.push({ where, value, reason, remediation, relevance: 'always' });
  const seen = new Map<string, string>();
  for (const m of arr(raw.volumeMounts)) {
    if (!isObj(m)) continue;
    const written = str(m.mountPath) ?? '';
    const path = normalisePath(written);
    if (path === undefined || (path !== written && path !== written.replace(/\/+$/, ''))) {
      refuse(
        `volumeMounts ${str(m.name) ?? '?'}`,
        written,
        `the mountPath ${JSON.stringify(written)} is not a plain absolute path (".", ".." or "//" in it), so which directory it covers is not what it says`,
        'write the mountPath as a plain absolute path',
      );
      if (path === undefined) continue;
    }
    const prior = seen.get(path);
    if (prior !== undefined)
      refuse(
        `volumeMounts ${str(m.name) ?? '?'}`,
        written,
        `volumes "${prior}" and "${str(m.name) ?? '?'}" are both mounted at ${path}; the container sees only the last, which need not be the one modelgate checked`,
        'mount one volume per path',
      );
    else seen.set(path, str(m.name) ?? '?');
  }
  // A mount at or below a model path, other than the one the model is read from.
  for (const model of view.models) {
    if (model.path === undefined) continue;
    const own = model.mount?.mountPath;
    for (const m of view.mounts) {
      if (m.mountPath === own) continue;
      if (m.mountPath === model.path || m.mountPath.startsWith(`${model.path === '/' ? '' : model.path}/`))
        refuse(
          `volumeMounts ${m.volume}`,
          m.mountPath,
          `volume "${m.volume}" is mounted at ${m.mountPath}, inside the model path ${model.path}, so part of what the server loads there is not the model modelgate checked`,
          'do not mount anything inside a model directory',
        );
    }
  }
  return out;
}
