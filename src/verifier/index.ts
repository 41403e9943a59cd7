// The runtime verifier (init container): verify a mounted model, report a compact result.
export { DEFAULT_TERMINATION_LOG, InputError, loadTrust, runVerifier, type TrustSpec, type VerifierInput, type VerifierRun } from './run.ts';
export { terminationMessage, toVerifierResult, TERMINATION_MESSAGE_LIMIT, type VerifierResult } from './result.ts';
export { formatProgress, progressReporter, type ProgressSink } from './progress.ts';
