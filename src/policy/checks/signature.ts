// Trusted signers: every model must carry an OpenSSF model-signing bundle that verifies against at least
// `threshold` of the policy's authorities, and whose signed subject digest is the digest the workload
// pins. A signature counts only for the bytes the pod reads (DESIGN §6b), so every signed model must be
// checked by the runtime verifier on the exact mount: bundles at hand at admission (inline, ConfigMap) are
// also verified here, to refuse a bad one early; bundles inside the model volume are verified at pod start.
import { MODELS_ANNOTATION, OMS_DEFAULT_IGNORE_PATHS } from '../../api/types.ts';
import { signedFileNames, uncoveredReadPath } from '../../signing/read-paths.ts';
import { runtimeVerifiable, type ModelReference } from '../../workloads/extract.ts';
import { digestBound, runtimeVerified } from '../binding.ts';
import type { CompiledAuthority } from '../compile.ts';
import { ociEvidenceOf, ociSignatures } from '../oci-evidence.ts';
import type { SignatureVerdictView, SignedStatementView } from '../signature-seam.ts';
import type { Check, CheckContext, Finding } from '../types.ts';
import { modelLabel } from '../types.ts';

/**
 * A model's bundle bytes, decoded once per request: every matching policy runs this check on the same
 * extracted references, and each authority verifies the same bytes (the verdict cache keys them by
 * digest). References are extracted afresh for every request, so this never outlives one decision.
 */
const bundles = new WeakMap<ModelReference, Uint8Array | string>();

function bundleBytes(m: ModelReference, ctx: CheckContext): Uint8Array | string {
  let bytes = bundles.get(m);
  if (bytes === undefined) bundles.set(m, (bytes = readBundle(m, ctx)));
  return bytes;
}

/** The bundle is inside the model volume (declared as a path, or the default model.sig). */
const IN_VOLUME = 'the bundle is inside the model volume';

function readBundle(m: ModelReference, ctx: CheckContext): Uint8Array | string {
  const sig = m.declared?.signature;
  if (!sig) return IN_VOLUME;
  if ('inline' in sig) return Buffer.from(sig.inline, 'base64');
  if ('configMapRef' in sig) {
    const { name, key } = sig.configMapRef;
    const data = ctx.cluster.configMapData(ctx.namespace, name);
    if (!data)
      return `ConfigMap ${ctx.namespace}/${name} (labelled modelgate.io/bundle: "true") was not found`;
    const text = data[key];
    if (text === undefined) return `ConfigMap ${ctx.namespace}/${name} has no key "${key}"`;
    return Buffer.from(text, 'utf8');
  }
  return IN_VOLUME;
}

/** The caller's verifier (the webhook, the audit and `modelgate check` pass one that caches verdicts per bundle and trust material). */
function verdictFor(
  bundle: Uint8Array,
  a: CompiledAuthority,
  verify: NonNullable<CheckContext['verifyBundle']>,
): SignatureVerdictView {
  try {
    return verify(bundle, a.trust);
  } catch (err) {
    return { valid: false, reason: `verification failed unexpectedly: ${(err as Error).message}` };
  }
}

export const signatureVerified: Check = (ctx) => {
  const { policy, workload } = ctx;
  if (policy.authorities.length === 0) return [];
  const authorityNames = policy.authorities.map((a) => a.name).join(', ');
  const need = `${policy.threshold} of ${policy.authorities.length} trusted authorit${policy.authorities.length === 1 ? 'y' : 'ies'} (${authorityNames})`;
  const findings: Finding[] = [];
  for (const m of workload.models) {
    const label = modelLabel(m);
    // An allowed OCI digest is bound by the runtime; an allowed model digest only through the verifier.
    if (m.digest !== undefined && policy.allowedDigests.has(m.digest) && digestBound(m)) {
      ctx.note?.evidence({
        model: label,
        kind: 'allowed-digest',
        detail: `OCI digest ${m.digest} is allowed unsigned`,
      });
      continue;
    }
    if (
      m.modelDigest !== undefined &&
      policy.allowedDigests.has(m.modelDigest) &&
      runtimeVerified(m, policy)
    ) {
      ctx.note?.evidence({
        model: label,
        kind: 'allowed-digest',
        detail: `model digest ${m.modelDigest} is allowed unsigned; the files are hashed at pod start`,
      });
      continue;
    }
    // A digest the container runtime enforces: a signature over that manifest in the registry proves the
    // bytes at admission, and no re-hash is needed at pod start (src/policy/oci-evidence.ts).
    const oci = ociEvidenceOf(m, workload, ctx.cluster);
    let ociWhy: string | undefined;
    if (oci.state === 'resolved') {
      const sig = ociSignatures(oci.record, policy, ctx.verifyBundle);
      if (sig.passed >= policy.threshold) {
        const signed = `manifest ${oci.digest} signed by ${sig.signers.join(', ')}`;
        const scan = oci.record.scan;
        if (scan?.status === 'complete') {
          ctx.note?.evidence({
            model: label,
            kind: 'admission-oci',
            detail: `${signed}; layers scanned by modelgate`,
          });
          continue;
        }
        if (oci.delivery === 'image volume' && policy.verifier.inject) {
          // Proven at admission; the files are still scanned, by the verifier at pod start (no re-hash).
          ctx.note?.evidence({
            model: label,
            kind: 'admission-oci',
            detail: `${signed}; scanned at pod start (${scan?.reason ?? 'not scanned by the controller'})`,
          });
          continue;
        }
        if (!scan) {
          ctx.note?.ociMiss({ digest: oci.digest, uri: m.uri ?? '' });
          ociWhy = `its signature verifies (${signed}) but modelgate has not scanned its layers yet; retry in a few seconds`;
        } else
          ociWhy = `its signature verifies (${signed}) but modelgate could not scan its layers: ${scan.reason ?? 'unknown reason'}`;
      } else ociWhy = sig.reasons.join('; ');
    } else if (oci.state === 'pending') {
      ctx.note?.ociMiss({ digest: oci.digest, uri: m.uri ?? '' });
      ociWhy = `verification pending: ${oci.reason}; modelgate's controller is looking for it now, retry in a few seconds`;
    } else if (oci.state === 'failed') ociWhy = `the registry could not tell: ${oci.reason}`;
    if (
      (oci.state === 'pending' || oci.state === 'failed') &&
      oci.delivery === 'image volume' &&
      m.declared === undefined &&
      ctx.cluster.ociEvidenceEnabled?.() === true
    ) {
      // An undeclared image volume may be proven by a signature over its manifest in the registry: until
      // the controller knows (a first look, or a registry that never answered), it is not handed to a
      // verifier that would fail at pod start for want of a bundle in the image. Once the record says no
      // signature is there, the runtime verifier takes it (a bundle in the image, as before).
      findings.push({
        check: 'signature',
        model: label,
        message: `model ${label} must be signed by ${need}: ${ociWhy}`,
        remediation:
          oci.state === 'pending'
            ? 'apply again in a few seconds (kubectl apply, or let your GitOps controller retry)'
            : `let modelgate's controller reach the registry (network, and a pull secret or ociEvidence.registryCredentialsSecret for it), then apply again; or declare the model in ${MODELS_ANNOTATION} with its signed digest and bundle, for the runtime verifier to check at pod start`,
      });
      continue;
    }
    // KServe delivers an oci:// storage URI as a modelcar: a container image, which no verifier checks.
    const kserveModelcar =
      oci.state !== 'none' && oci.delivery === 'KServe OCI storage URI' && m.transport === 'oci';
    if (!runtimeVerifiable(m) || kserveModelcar) {
      // A signature over files says nothing about bytes the server fetches, an image holds or an agent
      // pulls later: nothing at pod start can tie them together.
      findings.push({
        check: 'signature',
        model: label,
        message:
          (m.delivery === 'image' || kserveModelcar) && ociWhy !== undefined
            ? `model ${label} must be signed by ${need}; its files are inside a container image, so only a model-signing signature over the manifest its digest pins can prove them at admission: ${ociWhy}`
            : `model ${label} must be signed by ${need}, but its files are ${m.delivery === 'server' ? 'downloaded by the model server itself at run time' : m.delivery === 'image' ? 'inside a container image' : 'loaded by a model agent into a running server'}, where no verifier can check them against a signature before they load`,
        remediation:
          (m.delivery === 'image' || kserveModelcar) && m.digest !== undefined
            ? `sign the image's manifest with model-signing's OCI mode and attach the bundle to it in the registry (\`modelgate sign --oci-manifest <ref>@${m.digest} --attach\`), with a key policy ${policy.name} trusts`
            : `deliver the model in a volume (image volume, PVC, or KServe storageUri) and declare it in ${MODELS_ANNOTATION} with its signed digest, with spec.verifier.inject in policy ${policy.name}`,
      });
      continue;
    }
    if (!policy.verifier.inject) {
      // A bundle verified at admission is not bound to the files mounted: only the runtime verifier is.
      findings.push({
        check: 'signature',
        model: label,
        message: `model ${label} must be signed by ${need}, and only the runtime verifier can tie a signature to the files in volume ${m.volume ? `"${m.volume}"` : '(none)'}, but policy ${policy.name} does not inject it${ociWhy !== undefined ? `; nor is there evidence in the registry: ${ociWhy}` : ''}`,
        remediation:
          ociWhy !== undefined && oci.state !== 'none'
            ? `sign the manifest ${oci.digest} with model-signing's OCI mode and attach it (\`modelgate sign --oci-manifest <ref> --attach\`), or set spec.verifier.inject: true in policy ${policy.name}`
            : `set spec.verifier.inject: true in policy ${policy.name}`,
      });
      continue;
    }
    const bytes = bundleBytes(m, ctx);
    if (bytes === IN_VOLUME) {
      // Checked at pod start by the verifier.
      ctx.note?.evidence({
        model: label,
        kind: 'runtime-hash',
        detail: 'the bundle in the model volume is verified and every file hashed at pod start',
      });
      continue;
    }
    if (typeof bytes === 'string') {
      findings.push({
        check: 'signature',
        model: label,
        message: `model ${label} must be signed by ${need}, but ${bytes}`,
        remediation: `create the ConfigMap with the bundle, labelled modelgate.io/bundle: "true", in namespace ${ctx.namespace}, or declare the bundle inline or as a path inside the model volume`,
      });
      continue;
    }
    if (!ctx.verifyBundle) {
      findings.push({
        check: 'signature',
        model: label,
        message: `model ${label} has a signature bundle but signature verification is not available in this process`,
        remediation: 'this is a modelgate configuration error; contact the platform team',
      });
      continue;
    }
    // The bundle is at hand: check it now, so a bad signature is refused at admission rather than at pod start.
    const reasons: string[] = [];
    let passed = 0;
    let statement: SignedStatementView | undefined;
    for (const a of policy.authorities) {
      const v = verdictFor(bytes, a, ctx.verifyBundle);
      if (!v.valid) {
        reasons.push(`${a.name}: ${v.reason}`);
        continue;
      }
      const signed = `${v.statement.subjectDigest.algorithm}:${v.statement.subjectDigest.hex}`;
      if (m.modelDigest && signed !== m.modelDigest) {
        reasons.push(
          `${a.name}: the bundle (signed by ${v.signer}) is for model digest ${signed}, not the declared ${m.modelDigest}`,
        );
        continue;
      }
      passed++;
      statement ??= v.statement;
    }
    // The model's root is covered by any signature of it: only paths inside it need a look at the manifest.
    const inside = m.readPaths?.filter((p) => p !== '') ?? [];
    const uncovered =
      passed >= policy.threshold && statement?.resources && inside.length > 0
        ? uncoveredReadPath(inside, signedFileNames(statement.resources), OMS_DEFAULT_IGNORE_PATHS)
        : undefined;
    if (uncovered)
      findings.push({
        check: 'signature',
        model: label,
        message: `model ${label} is signed, but a container reads "${uncovered.path}" inside it, which the signature does not cover: ${uncovered.reason}`,
        remediation:
          'point the server at the signed files (the model directory or a file the signature lists), or sign what it reads',
      });
    else if (passed >= policy.threshold)
      ctx.note?.evidence({
        model: label,
        kind: 'runtime-hash',
        detail: 'the bundle verified at admission; every file is hashed against it at pod start',
      });
    else {
      findings.push({
        check: 'signature',
        model: label,
        message: `model ${label} is not signed by ${need}: ${reasons.join('; ')}`,
        remediation:
          'sign the exact model with a trusted key (`modelgate sign` or `model_signing sign`) and update the bundle and digest in the annotation',
      });
    }
  }
  return findings;
};
