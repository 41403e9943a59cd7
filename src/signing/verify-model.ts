// The full model check: signature first (cheap), then the pinned digest, then re-hash the model the way
// the signed statement says and compare manifests, naming missing, extra and changed files.
import { availableParallelism } from 'node:os';
import { isAbsolute, relative, resolve } from 'node:path';
import {
  compareManifests,
  describeDifference,
  parseShardName,
  type ManifestDifference,
  type Resource,
} from '../hashing/manifest.ts';
import { hashModel, type HashProgress } from '../hashing/model.ts';
import { HashPool } from '../hashing/pool.ts';
import { DEFAULT_IGNORE_PATHS, ModelWalkError, normalizeIgnorePaths } from '../hashing/walk.ts';
import { uncoveredReadPath } from './read-paths.ts';
import { TrustMaterialError } from './keys.ts';
import type { SignedStatement } from './statement.ts';
import { compileTrust, type TrustMaterial } from './trust.ts';
import { verifyBundleSignature, type SignatureVerdict } from './verify-signature.ts';

export interface VerifyModelOptions {
  /** Extra paths to ignore: relative to the model root, or absolute inside it. */
  ignorePaths?: readonly string[];
  /** Follow symbolic links inside the model (refused by default). */
  allowSymlinks?: boolean;
  /** Accept files the signature does not cover (model_signing --ignore_unsigned_files). */
  ignoreUnsignedFiles?: boolean;
  /** Where the bundle file is; it is ignored when it sits inside the model directory. */
  bundlePath?: string;
  /**
   * Paths the workload's servers read inside the model, relative to its root (the webhook passes them): each
   * must be covered by the signature (read-paths.ts), or the model is invalid.
   */
  readPaths?: readonly string[];
  /** The digest the workload pins, "sha256:<hex>": must equal the signed subject digest. */
  expectDigest?: string;
  workers?: number;
  pool?: HashPool;
  onProgress?: (p: HashProgress) => void;
  now?: Date;
}

export type Verdict = 'valid' | 'invalid' | 'unusable';

export interface ModelVerification extends ManifestDifference {
  verdict: Verdict;
  valid: boolean;
  /** Why the model was rejected; empty when valid. */
  reason: string;
  signer?: string;
  /** The signed subject digest, "sha256:<hex>". */
  digest?: string;
  statement?: SignedStatement;
  files: number;
  bytes: number;
  durationMs: number;
}

/** A bundle at least this large lists more files than a tiny model has (~64 resources). */
const PRESTART_BUNDLE_BYTES = 16 << 10;

const DIGEST_PIN = /^sha256:([0-9a-f]{64})$/;

export function parseDigestPin(pin: string): string | undefined {
  return DIGEST_PIN.exec(pin.trim().toLowerCase())?.[1];
}

/**
 * A single-file model's resources under the name its signature uses: model_signing writes ".", OMS
 * v1.0 (§6.1.2) and modelgate the file name. Only that one name is accepted besides ".".
 */
function singleFileResources(
  local: readonly Resource[],
  fileName: string,
  signedFiles: ReadonlySet<string>,
): readonly Resource[] {
  if (signedFiles.has('.') || !signedFiles.has(fileName)) return local;
  return local.map((r) => ({
    ...r,
    name: r.name === '.' ? fileName : r.name.startsWith('.:') ? fileName + r.name.slice(1) : r.name,
  }));
}

export interface Authority {
  name: string;
  trust: TrustMaterial;
}

export async function verifyModel(
  modelPath: string,
  bundle: Uint8Array,
  trust: TrustMaterial,
  options: VerifyModelOptions = {},
): Promise<ModelVerification> {
  return verifyModelWithAuthorities(modelPath, bundle, [{ name: '', trust }], 1, options);
}

/**
 * Verify a model whose bundle must verify under at least `threshold` (minimum 1) of `authorities`, each
 * checked on its own; the model is hashed once. Unusable trust material only makes the result
 * "unusable" when the remaining authorities cannot reach the threshold.
 */
export async function verifyModelWithAuthorities(
  modelPath: string,
  bundle: Uint8Array,
  authorities: readonly Authority[],
  threshold: number,
  options: VerifyModelOptions = {},
): Promise<ModelVerification> {
  const started = performance.now();
  const result = (
    verdict: Verdict,
    reason: string,
    extra: Partial<ModelVerification> = {},
  ): ModelVerification => ({
    verdict,
    valid: verdict === 'valid',
    reason,
    missing: [],
    extra: [],
    changed: [],
    files: 0,
    bytes: 0,
    ...extra,
    durationMs: Math.round(performance.now() - started),
  });

  const usable = authorities.filter((a) => {
    try {
      compileTrust(a.trust);
      return true;
    } catch (err) {
      if (err instanceof TrustMaterialError) return false;
      throw err;
    }
  });
  const bad = authorities.find((a) => !usable.includes(a));
  if (bad && usable.length < Math.max(1, threshold)) {
    try {
      compileTrust(bad.trust);
    } catch (err) {
      return result(
        'unusable',
        `unusable trust material${bad.name ? ` (authority ${bad.name})` : ''}: ${(err as Error).message}`,
      );
    }
  }
  let expected: string | undefined;
  if (options.expectDigest !== undefined) {
    expected = parseDigestPin(options.expectDigest);
    if (!expected)
      return result(
        'unusable',
        `expected digest "${options.expectDigest}" is not of the form sha256:<64 hex>`,
      );
  }

  // Start a hash worker now, so that it boots (~50 ms) while the signature is checked instead of after
  // the walk; the others start with the first batches. Not for a tiny model left to the default: a
  // bundle this small lists too few files to be worth a thread.
  const workers =
    options.workers ?? (bundle.byteLength >= PRESTART_BUNDLE_BYTES ? availableParallelism() : 0);
  const ownPool = !options.pool && workers > 0 ? new HashPool(workers) : undefined;
  ownPool?.start(1);
  try {
    return await checkModel(
      modelPath,
      bundle,
      usable,
      threshold,
      expected,
      options,
      ownPool ?? options.pool,
      result,
    );
  } finally {
    await ownPool?.close();
  }
}

async function checkModel(
  modelPath: string,
  bundle: Uint8Array,
  usable: readonly Authority[],
  threshold: number,
  expected: string | undefined,
  options: VerifyModelOptions,
  pool: HashPool | undefined,
  result: (verdict: Verdict, reason: string, extra?: Partial<ModelVerification>) => ModelVerification,
): Promise<ModelVerification> {
  const now = options.now ? { now: options.now } : {};
  const verdicts = usable.map((a) => ({ a, v: verifyBundleSignature(bundle, a.trust, now) }));
  const passed = verdicts.filter(
    (x): x is { a: Authority; v: Extract<SignatureVerdict, { valid: true }> } => x.v.valid,
  );
  const needed = Math.max(1, threshold);
  if (passed.length < needed) {
    const reasons = verdicts
      .filter((x) => !x.v.valid)
      .map((x) => (x.a.name ? `${x.a.name}: ` : '') + (x.v.valid ? '' : x.v.reason));
    const head =
      needed > 1 || verdicts.length > 1
        ? `signed by ${passed.length} of the required ${needed} authorities; `
        : '';
    return result('invalid', head + reasons.join('; '));
  }
  const first = passed[0] as { a: Authority; v: Extract<SignatureVerdict, { valid: true }> };
  const statement = first.v.statement;
  const signer = passed
    .map((x) => (x.a.name && passed.length > 1 ? `${x.a.name}: ${x.v.signer}` : x.v.signer))
    .join(', ');
  const digest = `sha256:${statement.subjectDigest.hex}`;
  const known = { signer, statement, digest };
  if (expected !== undefined && expected !== statement.subjectDigest.hex) {
    return result(
      'invalid',
      `signed digest ${digest} does not match the pinned digest sha256:${expected}`,
      known,
    );
  }

  const root = resolve(modelPath);
  const ignore = [
    ...DEFAULT_IGNORE_PATHS,
    ...statement.ignorePaths,
    ...normalizeIgnorePaths(root, options.ignorePaths ?? []),
  ];
  if (options.bundlePath !== undefined) {
    const rel = relative(root, resolve(options.bundlePath));
    if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel))
      ignore.push(...normalizeIgnorePaths(root, [rel]));
  }
  const ser = statement.serialization;
  // Every file the signature lists is checked, even one an ignore path covers (model_signing 1.0 signed
  // .gitattributes and .git/): exclusions only excuse files the signature does not list (OMS §8.4).
  const keepFiles = new Set(
    statement.resources.map((r) =>
      ser.method === 'shards' ? (parseShardName(r.name)?.file ?? r.name) : r.name,
    ),
  );
  let manifest;
  try {
    manifest = await hashModel(modelPath, {
      method: ser.method,
      hashType: ser.hashType,
      ...(ser.shardSize !== undefined ? { shardSize: ser.shardSize } : {}),
      ignorePaths: ignore,
      keepFiles,
      allowSymlinks: options.allowSymlinks ?? false,
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
      ...(pool ? { pool } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  } catch (err) {
    if (err instanceof ModelWalkError) {
      const unreadable = err.message.startsWith('cannot read the model');
      return result(unreadable ? 'unusable' : 'invalid', err.message, known);
    }
    return result(
      'invalid',
      `cannot hash the model: ${err instanceof Error ? err.message : String(err)}`,
      known,
    );
  }

  let local = manifest.singleFile
    ? singleFileResources(manifest.resources, manifest.modelName, keepFiles)
    : manifest.resources;
  if (options.ignoreUnsignedFiles) {
    const signedFiles = new Set(compareManifests(statement.resources, [], ser.method).missing);
    local = local.filter(
      (r) => !compareManifests([], [r], ser.method).extra.some((f) => !signedFiles.has(f)),
    );
  }
  const diff = compareManifests(statement.resources, local, ser.method);
  const sizes = { files: manifest.files, bytes: manifest.bytes };
  if (diff.missing.length || diff.extra.length || diff.changed.length) {
    return result('invalid', `model does not match its signature: ${describeDifference(diff)}`, {
      ...known,
      ...diff,
      ...sizes,
    });
  }
  const uncovered = uncoveredReadPath(options.readPaths ?? [], keepFiles, ignore);
  if (uncovered)
    return result(
      'invalid',
      `the pod's servers read "${uncovered.path}" of the model, which its signature does not cover: ${uncovered.reason}. Point the server at signed files, or sign what it reads`,
      { ...known, ...sizes },
    );
  return result('valid', '', { ...known, ...sizes });
}
