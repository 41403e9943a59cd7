// model_signing bundles: parse, verify (key, certificate, Sigstore keyless) and sign.
export {
  verifyBundleSignature,
  type SignatureVerdict,
  type VerifySignatureOptions,
} from './verify-signature.ts';
export { compileTrust, type TrustMaterial, type CompiledTrust } from './trust.ts';
export { TrustMaterialError } from './keys.ts';
export {
  parseStatement,
  PREDICATE_V1,
  PREDICATE_V02_DIGESTS,
  type SignedStatement,
  type Serialization,
} from './statement.ts';
export {
  verifyModel,
  verifyModelWithAuthorities,
  parseDigestPin,
  type Authority,
  type ModelVerification,
  type Verdict,
  type VerifyModelOptions,
} from './verify-model.ts';
export {
  loadSigner,
  signModel,
  signPayload,
  type SignedModel,
  type SignModelOptions,
  type Signer,
} from './sign.ts';
export { VerdictCache, type VerdictCacheOptions } from './cache.ts';
