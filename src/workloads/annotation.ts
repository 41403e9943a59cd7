// Parses the modelgate.io/models annotation: models the spec cannot reveal (PVC, CSI, hostPath, ...),
// each with its signed digest and where its signature bundle is. Untrusted input: every problem is
// returned as a message that quotes it, never thrown.
import { MODELS_ANNOTATION } from '../api/types.ts';
import { isObj } from '../json/shape.ts';
import { normaliseSubPath } from './pod.ts';

export type SignatureSource =
  { path: string } | { configMapRef: { name: string; key: string } } | { inline: string };

export interface DeclaredModel {
  name: string;
  volume: string;
  subPath?: string;
  uri?: string;
  digest: string;
  signature?: SignatureSource;
}

export type AnnotationParse = { models: DeclaredModel[]; errors: string[] };

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const NAME = /^[a-z0-9]([-a-z0-9._]*[a-z0-9])?$/i;
const KNOWN = new Set(['name', 'volume', 'subPath', 'uri', 'digest', 'signature']);
const EXAMPLE =
  '[{"name":"llama","volume":"models","digest":"sha256:<64 hex>","signature":{"path":"model.sig"}}]';

function parseSignature(v: unknown, at: string, errors: string[]): SignatureSource | undefined {
  if (!isObj(v)) {
    errors.push(`${at}.signature must be an object with one of path, configMapRef or inline`);
    return undefined;
  }
  const keys = Object.keys(v);
  if (keys.length !== 1) {
    errors.push(
      `${at}.signature must have exactly one of path, configMapRef or inline; it has ${keys.join(', ') || 'none'}`,
    );
    return undefined;
  }
  if (typeof v.path === 'string') {
    const p = v.path;
    if (p === '' || p.startsWith('/') || p.split('/').includes('..')) {
      errors.push(
        `${at}.signature.path "${p}" must be a relative path inside the model volume, without ".."`,
      );
      return undefined;
    }
    return { path: p };
  }
  if (isObj(v.configMapRef)) {
    const { name, key } = v.configMapRef;
    if (typeof name !== 'string' || name === '' || typeof key !== 'string' || key === '') {
      errors.push(`${at}.signature.configMapRef needs string fields name and key`);
      return undefined;
    }
    return { configMapRef: { name, key } };
  }
  if (typeof v.inline === 'string') {
    if (v.inline === '' || !/^[A-Za-z0-9+/=\s]+$/.test(v.inline)) {
      errors.push(`${at}.signature.inline must be the bundle (model.sig) in base64`);
      return undefined;
    }
    return { inline: v.inline };
  }
  errors.push(
    `${at}.signature has an unknown or malformed field "${keys[0]}"; use path, configMapRef or inline`,
  );
  return undefined;
}

export function parseModelsAnnotation(text: string | undefined): AnnotationParse {
  const errors: string[] = [];
  if (text === undefined) return { models: [], errors };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    const snippet = text.length > 80 ? `${text.slice(0, 80)}…` : text;
    return {
      models: [],
      errors: [
        `annotation ${MODELS_ANNOTATION} is not valid JSON (${(err as Error).message}): ${JSON.stringify(snippet)}; expected e.g. ${EXAMPLE}`,
      ],
    };
  }
  if (!Array.isArray(data)) {
    return {
      models: [],
      errors: [`annotation ${MODELS_ANNOTATION} must be a JSON array of models, e.g. ${EXAMPLE}`],
    };
  }
  const models: DeclaredModel[] = [];
  const names = new Set<string>();
  data.forEach((entry, i) => {
    const at = `${MODELS_ANNOTATION}[${i}]`;
    if (!isObj(entry)) {
      errors.push(`${at} must be an object, e.g. ${EXAMPLE}`);
      return;
    }
    const before = errors.length;
    for (const k of Object.keys(entry))
      if (!KNOWN.has(k)) errors.push(`${at} has unknown field "${k}" (known: ${[...KNOWN].join(', ')})`);
    const { name, volume, subPath, uri, digest } = entry;
    if (typeof name !== 'string' || !NAME.test(name))
      errors.push(`${at}.name must be a short name such as "llama-3-8b"`);
    else if (names.has(name)) errors.push(`${at}.name "${name}" is declared twice`);
    if (typeof volume !== 'string' || volume === '')
      errors.push(`${at}.volume must name the pod volume that holds the model`);
    if (
      subPath !== undefined &&
      (typeof subPath !== 'string' || subPath.startsWith('/') || subPath.split('/').includes('..'))
    )
      errors.push(`${at}.subPath must be a relative path without ".."`);
    if (uri !== undefined && (typeof uri !== 'string' || uri === ''))
      errors.push(`${at}.uri must be a string`);
    if (typeof digest !== 'string' || !DIGEST.test(digest))
      errors.push(
        `${at}.digest must be "sha256:" followed by 64 lowercase hex digits (the signed model digest), got ${JSON.stringify(digest)}`,
      );
    const signature = entry.signature === undefined ? undefined : parseSignature(entry.signature, at, errors);
    if (errors.length > before) return;
    names.add(name as string);
    // One spelling ("./llama/" is "llama"; "." is the volume): compared with the mounts' subPaths.
    const sub = subPath !== undefined ? normaliseSubPath(subPath as string) : undefined;
    models.push({
      name: name as string,
      volume: volume as string,
      ...(sub ? { subPath: sub } : {}),
      ...(uri !== undefined ? { uri: uri as string } : {}),
      digest: digest as string,
      ...(signature ? { signature } : {}),
    });
  });
  return { models, errors };
}
