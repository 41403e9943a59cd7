// The in-toto Statement v1 inside a model_signing DSSE envelope, parsed from the exact signed bytes.
// Predicates: `https://model_signing/signature/v1.0` (model_signing >= 0.3) and the legacy
// `https://model_signing/Digests/v0.1` (model_signing 0.2: every file is a subject).
import { DIGEST_BYTES, isHashAlgorithm, type HashAlgorithm } from '../hashing/algorithms.ts';
import {
  comparePosixPaths,
  parseShardName,
  resourceAlgorithm,
  rootDigest,
  type Resource,
  type SerializationMethod,
} from '../hashing/manifest.ts';
import { isObj as isObject } from '../json/shape.ts';

export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const PREDICATE_V1 = 'https://model_signing/signature/v1.0';
export const PREDICATE_V02_DIGESTS = 'https://model_signing/Digests/v0.1';

export class StatementError extends Error {}

export interface Serialization {
  method: SerializationMethod;
  hashType: HashAlgorithm;
  shardSize?: number;
  allowSymlinks: boolean;
}

export interface SignedStatement {
  /** subject[0].name: the model's name when it was signed (not checked against the local path). */
  subjectName: string;
  /** The root digest: SHA-256 over the resource digests. Workloads pin it as `sha256:<hex>`. */
  subjectDigest: { algorithm: string; hex: string };
  resources: Resource[];
  /** Paths the signer excluded (model_signing >= 1.1 records them); applied again at verification. */
  ignorePaths: string[];
  predicateType: string;
  serialization: Serialization;
}

type Json = Record<string, unknown>;

/**
 * A manifest name: "." (a single-file model) or a relative POSIX path with no empty, "." or ".."
 * component and no NUL. Scanned by hand: a manifest holds thousands of names.
 */
export function validName(name: string): boolean {
  if (name === '.') return true;
  if (name === '' || name.includes('\0')) return false;
  for (let start = 0; ;) {
    const slash = name.indexOf('/', start);
    const end = slash === -1 ? name.length : slash;
    const len = end - start;
    if (len === 0) return false; // leading, doubled or trailing "/"
    if (len <= 2 && name.charCodeAt(start) === 0x2e && (len === 1 || name.charCodeAt(start + 1) === 0x2e))
      return false;
    if (slash === -1) return true;
    start = slash + 1;
  }
}

/** Exactly `chars` lower-case hex digits (by hand: a regular expression per digest cost more than the rest of parsing). */
function isLowerHex(value: string, chars: number): boolean {
  if (value.length !== chars) return false;
  for (let i = 0; i < chars; i++) {
    const c = value.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

function hexOf(value: unknown, bytes: number, where: string): string {
  if (typeof value !== 'string' || !isLowerHex(value, bytes * 2)) {
    throw new StatementError(`${where} is not a ${bytes * 2}-character lower-case hex digest`);
  }
  return value;
}

function parseSerialization(raw: unknown): Serialization & { ignorePaths: string[] } {
  if (!isObject(raw)) throw new StatementError('predicate.serialization is missing or not an object');
  const {
    method,
    hash_type: hashType,
    allow_symlinks: allowSymlinks,
    shard_size: shardSize,
    ignore_paths: ignorePaths,
  } = raw;
  if (method !== 'files' && method !== 'shards')
    throw new StatementError(`predicate.serialization.method "${String(method)}" is not "files" or "shards"`);
  if (!isHashAlgorithm(hashType))
    throw new StatementError(
      `predicate.serialization.hash_type "${String(hashType)}" is not sha256, blake2b or blake3`,
    );
  if (typeof allowSymlinks !== 'boolean')
    throw new StatementError('predicate.serialization.allow_symlinks is missing or not a boolean');
  const out: Serialization & { ignorePaths: string[] } = { method, hashType, allowSymlinks, ignorePaths: [] };
  if (method === 'shards') {
    // Python writes the shard size as a float ("1000000000.0"); JSON.parse gives the same number.
    if (typeof shardSize !== 'number' || !Number.isSafeInteger(shardSize) || shardSize <= 0) {
      throw new StatementError(
        'predicate.serialization.shard_size must be a positive integer for method "shards"',
      );
    }
    out.shardSize = shardSize;
  }
  if (ignorePaths !== undefined) {
    if (!Array.isArray(ignorePaths) || !ignorePaths.every((p) => typeof p === 'string')) {
      throw new StatementError('predicate.serialization.ignore_paths is not a list of strings');
    }
    out.ignorePaths = ignorePaths as string[];
  }
  return out;
}

function parseResources(raw: unknown, ser: Serialization): Resource[] {
  if (!Array.isArray(raw)) throw new StatementError('predicate.resources is missing or not a list');
  if (raw.length === 0)
    throw new StatementError(
      'predicate.resources is empty: the signature covers no file (OMS v1.0 §5.2.1 requires at least one)',
    );
  const label = resourceAlgorithm(ser.method, ser.hashType, ser.shardSize);
  const seen = new Set<string>();
  return raw.map((r: unknown, i) => {
    const where = `predicate.resources[${i}]`;
    if (!isObject(r)) throw new StatementError(`${where} is not an object`);
    const { name, algorithm } = r;
    if (typeof name !== 'string') throw new StatementError(`${where}.name is missing or not a string`);
    const fileName = ser.method === 'shards' ? parseShardName(name)?.file : name;
    if (fileName === undefined || !validName(fileName))
      throw new StatementError(
        `${where}.name ${JSON.stringify(name)} is not a valid ${ser.method === 'shards' ? 'shard' : 'file'} name`,
      );
    // OMS v1.0 §6.3.2 labels a shard digest with the hash name; model_signing with "<hash>-sharded-<size>".
    if (algorithm !== label && !(ser.method === 'shards' && algorithm === ser.hashType))
      throw new StatementError(
        `${where}.algorithm "${String(algorithm)}" does not match serialization (expected "${label}"${ser.method === 'shards' ? ` or "${ser.hashType}"` : ''})`,
      );
    if (seen.has(name)) throw new StatementError(`${where}.name ${JSON.stringify(name)} appears twice`);
    seen.add(name);
    return { name, algorithm: label, digest: hexOf(r.digest, DIGEST_BYTES[ser.hashType], `${where}.digest`) };
  });
}

function subjectsOf(statement: Json): Json[] {
  const subject = statement.subject;
  if (!Array.isArray(subject) || subject.length === 0 || !subject.every(isObject)) {
    throw new StatementError('statement.subject is missing, empty or malformed');
  }
  return subject as Json[];
}

function parseV1(statement: Json): SignedStatement {
  const subjects = subjectsOf(statement);
  if (subjects.length !== 1)
    throw new StatementError(`statement.subject must hold exactly one subject (found ${subjects.length})`);
  const subject = subjects[0] as Json;
  const subjectName = typeof subject.name === 'string' ? subject.name : '';
  if (!isObject(subject.digest)) throw new StatementError('statement.subject[0].digest is missing');
  const subjectHex = hexOf(subject.digest.sha256, 32, 'statement.subject[0].digest.sha256');
  const predicate = statement.predicate;
  if (!isObject(predicate)) throw new StatementError('statement.predicate is missing or not an object');
  const { ignorePaths, ...serialization } = parseSerialization(predicate.serialization);
  const resources = parseResources(predicate.resources, serialization);
  // model_signing rejects a statement whose resources do not hash to its subject digest.
  const computed = rootDigest(resources);
  if (computed !== subjectHex) {
    throw new StatementError(
      `statement is inconsistent: subject digest ${subjectHex} but the resources hash to ${computed}`,
    );
  }
  return {
    subjectName,
    subjectDigest: { algorithm: 'sha256', hex: subjectHex },
    resources,
    ignorePaths,
    predicateType: PREDICATE_V1,
    serialization,
  };
}

function parseV02(statement: Json): SignedStatement {
  const seen = new Set<string>();
  const resources = subjectsOf(statement).map((s, i) => {
    const where = `statement.subject[${i}]`;
    if (typeof s.name !== 'string' || !validName(s.name))
      throw new StatementError(`${where}.name is missing or not a valid file name`);
    const algo = isObject(s.annotations) ? s.annotations.actual_hash_algorithm : undefined;
    if (algo !== 'file-sha256')
      throw new StatementError(
        `${where}: legacy hash algorithm "${String(algo)}" is not supported (only file-sha256)`,
      );
    if (!isObject(s.digest)) throw new StatementError(`${where}.digest is missing`);
    if (seen.has(s.name)) throw new StatementError(`${where}.name ${JSON.stringify(s.name)} appears twice`);
    seen.add(s.name);
    return {
      name: s.name,
      algorithm: 'sha256',
      digest: hexOf(s.digest.sha256, 32, `${where}.digest.sha256`),
    };
  });
  resources.sort((a, b) => comparePosixPaths(a.name, b.name));
  // v0.2 has no root digest; the one v1.0 would record for the same files stands in for it, so a
  // pinned digest means the same thing whichever version signed the model.
  return {
    subjectName: '',
    subjectDigest: { algorithm: 'sha256', hex: rootDigest(resources) },
    resources,
    ignorePaths: [],
    predicateType: PREDICATE_V02_DIGESTS,
    serialization: { method: 'files', hashType: 'sha256', allowSymlinks: false },
  };
}

/** Decode signed payload bytes as JSON (strict UTF-8). Throws StatementError. */
export function decodeStatementJson(payload: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (err) {
    throw new StatementError(`payload is not valid JSON: ${(err as Error).message}`);
  }
}

/** The predicate type of decoded payload JSON, to pick the DSSE encoding the signer used. Never trusted on its own. */
export function predicateTypeOfJson(json: unknown): string | undefined {
  return isObject(json) && typeof json.predicateType === 'string' ? json.predicateType : undefined;
}

/** Interpret decoded payload JSON (decodeStatementJson) as a statement. Throws StatementError naming the field. */
export function parseStatementJson(json: unknown): SignedStatement {
  if (!isObject(json)) throw new StatementError('payload is not a JSON object');
  if (json._type !== IN_TOTO_STATEMENT_V1)
    throw new StatementError(`statement._type "${String(json._type)}" is not ${IN_TOTO_STATEMENT_V1}`);
  if (json.predicateType === PREDICATE_V1) return parseV1(json);
  if (json.predicateType === PREDICATE_V02_DIGESTS) return parseV02(json);
  throw new StatementError(`predicateType "${String(json.predicateType)}" is not a model_signing predicate`);
}

/** Parse the exact signed payload bytes into a statement. Throws StatementError naming the field. */
export function parseStatement(payload: Uint8Array): SignedStatement {
  return parseStatementJson(decodeStatementJson(payload));
}

/**
 * The in-toto statement model_signing writes for a manifest (model_signing/_signing/signing.py).
 * `ignorePaths` is recorded when given, as model_signing >= 1.1 does.
 */
export function buildStatement(
  manifest: { modelName: string; resources: readonly Resource[]; rootDigest: string },
  serialization: Serialization,
  ignorePaths?: readonly string[],
): Record<string, unknown> {
  const ser: Record<string, unknown> = {
    method: serialization.method,
    hash_type: serialization.hashType,
    allow_symlinks: serialization.allowSymlinks,
  };
  if (serialization.method === 'shards') ser.shard_size = serialization.shardSize;
  if (ignorePaths !== undefined) ser.ignore_paths = [...ignorePaths];
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ name: manifest.modelName, digest: { sha256: manifest.rootDigest } }],
    predicateType: PREDICATE_V1,
    predicate: {
      serialization: ser,
      resources: manifest.resources.map((r) => ({ name: r.name, algorithm: r.algorithm, digest: r.digest })),
    },
  };
}
