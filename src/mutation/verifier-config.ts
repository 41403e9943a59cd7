// The contract between the mutating webhook and the runtime verifier (`modelgate verify
// --pod-config-env=MODELGATE_VERIFIER_CONFIG`): what the injected init container must check, as JSON in
// one environment variable. Public trust material only (DESIGN §5, issue 3).
import type { TrustMaterial } from '../policy/signature-seam.ts';

export const VERIFIER_CONFIG_ENV = 'MODELGATE_VERIFIER_CONFIG';

export interface VerifierModelConfig {
  /** The declared model name, or the volume name when the model is not declared. */
  name: string;
  /** The pod volume holding the model. */
  volume: string;
  /** Where the verifier sees the model: `/models/<volume>` (the declared subPath is mounted there). */
  path: string;
  /** Bundle path relative to `path`: the declared signature.path, default "model.sig". */
  signature?: string;
  /** The bundle itself (base64), from the annotation or the ConfigMap it names; wins over `signature`. */
  inlineBundle?: string;
  /** `sha256:<hex>`: the pinned model digest the signed subject must match. */
  digest?: string;
  /**
   * Paths the pod's containers name inside the model (relative to `path`, '' for its root): the verifier
   * refuses one its signature does not cover (a file under an ignore path, the bundle, an unlisted file).
   */
  readPaths?: string[];
  /**
   * The model's signature was verified at admission over the OCI manifest the runtime enforces
   * (docs/signing.md): nothing is re-hashed, only the format scan runs. No bundle, no digest.
   */
  scanOnly?: true;
}

export interface VerifierConfig {
  version: 1;
  /** Ids of the policies that required the verifier ("ClusterModelPolicy/name", "ModelPolicy/ns/name"). */
  policies: string[];
  /** How many of `authorities` must have signed each model (0: formats are scanned, signatures not required). */
  threshold: number;
  /** Model file formats to refuse (the policies' formats.deny, merged). */
  denyFormats: string[];
  /**
   * Pickle globals the scan treats as data: those every injecting policy allows (formats.allowPickleGlobals),
   * so no policy's scan is weaker than it asked for.
   */
  allowGlobals: string[];
  authorities: { name: string; trust: TrustMaterial }[];
  models: VerifierModelConfig[];
}
