// model-signing bundles over OCI manifests (the model-signing Go CLI's OCI mode: `model-signing sign
// manifest.json`, pkg/oci/manifest.go). The signed statement lists one resource per layer — named by its
// `org.opencontainers.image.title`, else `layer_NNN.tar.gz` — and the config blob as `config.json`, each
// with the descriptor's digest. The manifest's own digest is NOT in the statement: a bundle counts for a
// pinned manifest only when its resources equal that manifest's layers and config, digest by digest.
//
// modelgate also names a layer by ModelPack's `org.cncf.model.filepath` when it has no title (a modelgate
// extension). A statement is accepted when it equals the manifest under either naming, in full.
import { compareCodePoints, rootDigest, type Resource } from '../hashing/manifest.ts';
import {
  CONFIG_RESOURCE_NAME,
  layerName,
  parseImageManifest,
  type ImageManifest,
  type LayerNaming,
} from './manifest.ts';
import { signPayload, type Signer } from '../signing/sign.ts';
import { buildStatement, PREDICATE_V1, validName, type Serialization } from '../signing/statement.ts';

/** How the Go CLI serialises an OCI manifest: whole "files", SHA-256, no symlinks, no ignore paths. */
export const OCI_SERIALIZATION: Serialization = { method: 'files', hashType: 'sha256', allowSymlinks: false };

export class OciSigningError extends Error {}

export interface OciResourceSet {
  naming: LayerNaming;
  /** Sorted by the code points of their names, as OMS orders resources. */
  resources: Resource[];
  /** The statement subject digest these resources give (hex). */
  rootDigest: string;
}

const MAX_NAME = 4096;

/** Why a layer name cannot be a file name in a model: empty parts, `.`/`..`, absolute, NUL, backslash. */
function nameProblem(name: string): string | undefined {
  if (name.length > MAX_NAME) return `is longer than ${MAX_NAME} characters`;
  if (name.startsWith('/')) return 'is an absolute path';
  if (name.includes('\\')) return 'contains a backslash';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'contains a control character';
  if (name === '.' || !validName(name)) return 'is not a relative path without empty, "." or ".." parts';
  return undefined;
}

function resourcesFor(m: ImageManifest, naming: LayerNaming): OciResourceSet {
  const resources: Resource[] = [
    { name: CONFIG_RESOURCE_NAME, algorithm: 'sha256', digest: hexOf(m.config.digest) },
  ];
  const where = new Map<string, string>([[CONFIG_RESOURCE_NAME, 'the config blob']]);
  m.layers.forEach((l, i) => {
    const name = layerName(l, i, naming);
    const problem = nameProblem(name);
    if (problem)
      throw new OciSigningError(
        `layer ${i} is named ${JSON.stringify(name.slice(0, 200))}, which ${problem}`,
      );
    const prior = where.get(name);
    if (prior !== undefined)
      throw new OciSigningError(
        `layer ${i} is named ${JSON.stringify(name)}, like ${prior}: model-signing's OCI mode keys resources by name and would silently drop one of them, so no signature can cover this manifest`,
      );
    where.set(name, `layer ${i}`);
    resources.push({ name, algorithm: 'sha256', digest: hexOf(l.digest) });
  });
  resources.sort((a, b) => compareCodePoints(a.name, b.name));
  return { naming, resources, rootDigest: rootDigest(resources) };
}

const hexOf = (digest: string) => digest.slice('sha256:'.length);

/**
 * The resources a statement must list to cover manifest `m`: modelgate's naming first, then the Go
 * CLI's when it differs (a layer with a ModelPack path but no title). Throws OciSigningError when the
 * manifest cannot be covered at all (no layer, a name that is not a safe relative path, a duplicate).
 */
export function ociManifestResources(m: ImageManifest): OciResourceSet[] {
  if (m.layers.length === 0) throw new OciSigningError('the manifest has no layer: there is nothing to sign');
  const ours = resourcesFor(m, 'modelgate');
  const theirs = resourcesFor(m, 'model-signing');
  return theirs.rootDigest === ours.rootDigest && sameNames(ours.resources, theirs.resources)
    ? [ours]
    : [ours, theirs];
}

const sameNames = (a: readonly Resource[], b: readonly Resource[]) =>
  a.length === b.length && a.every((r, i) => r.name === b[i]?.name);

/** The parts of a signed statement this check reads (SignedStatement has them all). */
export interface StatementResources {
  predicateType: string;
  serialization?: { method: string; hashType: string };
  resources: readonly { name: string; digest: string }[];
}

export type CoverVerdict = { covered: true; naming: LayerNaming } | { covered: false; reason: string };

/**
 * Does the statement cover exactly this manifest's layers and config? Names and digests must match one
 * naming in full: nothing missing, nothing extra, no digest changed.
 */
export function statementCoversManifest(
  statement: StatementResources,
  sets: readonly OciResourceSet[],
): CoverVerdict {
  if (statement.predicateType !== PREDICATE_V1)
    return { covered: false, reason: `its predicate is ${statement.predicateType}, not ${PREDICATE_V1}` };
  if (
    statement.serialization &&
    (statement.serialization.method !== 'files' || statement.serialization.hashType !== 'sha256')
  )
    return {
      covered: false,
      reason: `it was made with the ${statement.serialization.method}/${statement.serialization.hashType} serialization, and OCI layer digests are whole-blob SHA-256`,
    };
  let best: string | undefined;
  for (const set of sets) {
    const diff = difference(statement.resources, set.resources);
    if (diff === undefined) return { covered: true, naming: set.naming };
    best ??= diff;
  }
  return { covered: false, reason: best ?? 'no resource set to compare with' };
}

function difference(
  signed: readonly { name: string; digest: string }[],
  want: readonly Resource[],
): string | undefined {
  const got = new Map(signed.map((r) => [r.name, r.digest]));
  const missing: string[] = [];
  const changed: string[] = [];
  for (const r of want) {
    const d = got.get(r.name);
    if (d === undefined) missing.push(r.name);
    else if (d !== r.digest) changed.push(r.name);
    got.delete(r.name);
  }
  const extra = [...got.keys()];
  if (missing.length + changed.length + extra.length === 0 && signed.length === want.length) return undefined;
  const list = (xs: string[]) =>
    `${xs.slice(0, 5).join(', ')}${xs.length > 5 ? ` and ${xs.length - 5} more` : ''}`;
  const parts = [
    changed.length ? `different digest for ${list(changed)}` : '',
    missing.length ? `not signed: ${list(missing)}` : '',
    extra.length ? `signed but not in the manifest: ${list(extra)}` : '',
  ].filter(Boolean);
  return `its resources are not this manifest's layers and config (${parts.join('; ') || 'duplicate names'})`;
}

export interface SignedOciManifest {
  bundle: Uint8Array;
  resources: Resource[];
  /** `sha256:<hex>`: the statement's subject digest (not the manifest digest). */
  subjectDigest: string;
  /** What a model-signing (Go) verifier would not accept, and why. */
  warnings: string[];
}

/**
 * Signs an OCI manifest as the Go CLI does (statement v1.0, "files" serialization), naming layers
 * modelgate's way. `modelName` is the subject name (the Go CLI uses the manifest file's base name).
 */
export function signOciManifest(
  manifestBytes: Uint8Array,
  signer: Signer,
  modelName: string,
): SignedOciManifest {
  const manifest = parseImageManifest(manifestBytes);
  const [ours, theirs] = ociManifestResources(manifest);
  const set = ours!;
  const statement = buildStatement(
    { modelName, resources: set.resources, rootDigest: set.rootDigest },
    OCI_SERIALIZATION,
  );
  const warnings: string[] = [];
  if (theirs)
    warnings.push(
      'a layer has a ModelPack file path but no org.opencontainers.image.title, so the model-signing Go CLI names it layer_NNN.tar.gz and cannot verify this bundle (modelgate can); set the title annotation to the same path for a bundle both verify',
    );
  return {
    bundle: signPayload(new TextEncoder().encode(JSON.stringify(statement)), signer),
    resources: set.resources,
    subjectDigest: `sha256:${set.rootDigest}`,
    warnings,
  };
}
