// Streaming, parallel model hashing and model_signing manifests.
export {
  createIncrementalHash,
  hashBytes,
  isHashAlgorithm,
  toHex,
  DIGEST_BYTES,
  HASH_ALGORITHMS,
  type HashAlgorithm,
} from './algorithms.ts';
export {
  compareManifests,
  comparePosixPaths,
  describeDifference,
  hashUnits,
  resourceAlgorithm,
  rootDigest,
  type ManifestDifference,
  type Resource,
  type SerializationMethod,
} from './manifest.ts';
export {
  DEFAULT_SHARD_SIZE,
  hashModel,
  hashWalkedModel,
  type HashModelOptions,
  type HashProgress,
  type ModelManifest,
} from './model.ts';
export { HashPool } from './pool.ts';
export {
  DEFAULT_IGNORE_PATHS,
  isIgnored,
  ModelWalkError,
  normalizeIgnorePaths,
  walkModel,
  type WalkResult,
} from './walk.ts';
