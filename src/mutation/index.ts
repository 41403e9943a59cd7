// Runtime verifier injection: the container a pod needs, the patch that adds it, the check that it is there.
export type { VerifierConfig, VerifierModelConfig } from './verifier-config.ts';
export { VERIFIER_CONFIG_ENV } from './verifier-config.ts';
export {
  planVerifier,
  verifiableModels,
  DEFAULT_VERIFIER_RESOURCES,
  MODEL_MOUNT_ROOT,
  VERIFIER_CONTAINER_NAME,
  DEFAULT_VERIFIER_IMAGE,
  type InjectionRefusal,
  type VerifierContainer,
  type VerifierDefaults,
  type VerifierPlan,
} from './verifier-container.ts';
export { verifierInjection, type InjectionResult } from './inject.ts';
export { createVerifierCheck, verifierDecideOptions, type VerifierCheckOptions } from './verifier-check.ts';
export type { JsonPatchOperation } from './json-patch.ts';
