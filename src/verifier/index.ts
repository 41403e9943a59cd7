// The runtime verifier (init container): verify a mounted model, report a compact result.
export {
  DEFAULT_TERMINATION_LOG,
  InputError,
  loadTrust,
  runPodVerifier,
  runVerifier,
  type PodVerifierRun,
  type TrustSpec,
  type VerifierInput,
  type VerifierRun,
} from './run.ts';
export { parsePodConfig, PodConfigError, type PodConfig, type PodModel } from './pod-config.ts';
export {
  terminationMessage,
  terminationMessageList,
  toVerifierResult,
  TERMINATION_MESSAGE_LIMIT,
  type VerifierResult,
} from './result.ts';
export { formatProgress, progressReporter, type ProgressSink } from './progress.ts';
