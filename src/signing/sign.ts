// Write model_signing-compatible bundles (what model_signing 1.1 writes for its "key" and
// "certificate" methods): a Sigstore v0.3 bundle, DSSE envelope, in-toto statement, no transparency log.
import { createPrivateKey, createPublicKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { isAbsolute, relative, resolve } from 'node:path';
import type { HashAlgorithm } from '../hashing/algorithms.ts';
import {
  compareCodePoints,
  rootDigest,
  type Resource,
  type SerializationMethod,
} from '../hashing/manifest.ts';
import { DEFAULT_SHARD_SIZE, hashModel, type HashProgress, type ModelManifest } from '../hashing/model.ts';
import type { HashPool } from '../hashing/pool.ts';
import { DEFAULT_IGNORE_PATHS, ModelWalkError, normalizeIgnorePaths } from '../hashing/walk.ts';
import { BUNDLE_V03_MEDIA_TYPE, IN_TOTO_PAYLOAD_TYPE } from './bundle.ts';
import { parseCertificatesPem, type ParsedCertificate } from './certificates.ts';
import { preAuthEncoding } from './dsse.ts';
import { publicKeyHint, signatureDigestFor, TrustMaterialError } from './keys.ts';
import { buildStatement, type Serialization } from './statement.ts';

export interface Signer {
  privateKey: KeyObject;
  /** Leaf first, then intermediates: written as x509CertificateChain (certificate method). */
  certificateChain?: ParsedCertificate[];
}

export function loadSigner(privateKeyPem: string, certificateChainPem?: string): Signer {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(privateKeyPem);
  } catch (err) {
    throw new TrustMaterialError(`cannot parse the private key: ${(err as Error).message}`);
  }
  signatureDigestFor(privateKey);
  if (certificateChainPem === undefined) return { privateKey };
  const chain = parseCertificatesPem(certificateChainPem);
  const leafKey = chain[0]?.x509.publicKey.export({ type: 'spki', format: 'der' });
  const ownKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  if (!leafKey || !ownKey.equals(leafKey))
    throw new TrustMaterialError('the first certificate of the chain is not for this private key');
  return { privateKey, certificateChain: chain };
}

/** Sign exact payload bytes into a bundle (JSON bytes, compact like model_signing writes it). */
export function signPayload(payload: Uint8Array, signer: Signer): Uint8Array {
  const sig = cryptoSign(
    signatureDigestFor(signer.privateKey),
    preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload),
    signer.privateKey,
  );
  const verificationMaterial = signer.certificateChain
    ? {
        x509CertificateChain: {
          certificates: signer.certificateChain.map((c) => ({ rawBytes: c.der.toString('base64') })),
        },
        tlogEntries: [],
      }
    : { publicKey: { hint: publicKeyHint(createPublicKey(signer.privateKey)) }, tlogEntries: [] };
  const bundle = {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial,
    dsseEnvelope: {
      payload: Buffer.from(payload).toString('base64'),
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      signatures: [{ sig: sig.toString('base64'), keyid: '' }],
    },
  };
  return new TextEncoder().encode(JSON.stringify(bundle));
}

export interface SignModelOptions {
  method?: SerializationMethod;
  hashType?: HashAlgorithm;
  shardSize?: number;
  /** Extra paths to leave out: relative to the model root, or absolute inside it. */
  ignorePaths?: readonly string[];
  allowSymlinks?: boolean;
  /** Where the bundle will be written; left out of the manifest when inside the model. */
  bundlePath?: string;
  workers?: number;
  pool?: HashPool;
  onProgress?: (p: HashProgress) => void;
}

export interface SignedModel {
  bundle: Uint8Array;
  /** What was signed: resources in OMS order (code points of the names), single-file resource by its name. */
  manifest: ModelManifest;
  /** "sha256:<hex>": the digest a workload pins. */
  digest: string;
  /** Things the signer should know: what model_signing cannot verify, links leading out of the model. */
  warnings: string[];
}

/** Refused by signModel: a model it cannot sign as OMS v1.0 requires. */
export class SignRefusedError extends ModelWalkError {}

const GLOB = /[*?[]/;

/**
 * Why the model_signing CLI (1.1.1) could not verify a bundle signed with these choices: its verify
 * command always hashes whole files with SHA-256, its verifier has no Ed25519 and no "blake2b", and it
 * names a single-file model's resource ".". Each line says what to do instead.
 */
export function modelSigningCompatibility(choice: {
  method: SerializationMethod;
  hashType: HashAlgorithm;
  keyType: string | undefined;
  singleFile: boolean;
}): string[] {
  const out: string[] = [];
  if (choice.hashType === 'blake2b')
    out.push(
      'model_signing cannot verify BLAKE2 bundles (it writes "blake2b" but its verifier only knows "blake2"); sign with --hash sha256 for a bundle both tools verify',
    );
  else if (choice.hashType !== 'sha256')
    out.push(
      `the model_signing CLI verifies only SHA-256 bundles (its Python API can verify this ${choice.hashType} one); sign with --hash sha256 for a bundle its CLI verifies`,
    );
  if (choice.method === 'shards')
    out.push(
      'model_signing cannot verify this sharded bundle: its CLI verifies only whole-file bundles, and its Python API expects shard digests labelled "<hash>-sharded-<size>" where OMS v1.0 (§6.3.2) writes the hash name; sign without --shard-size for a bundle both tools verify',
    );
  if (choice.keyType === 'ed25519')
    out.push(
      'model_signing verifies only ECDSA keys (P-256, P-384, P-521), not this Ed25519 key; only modelgate can verify this bundle',
    );
  if (choice.singleFile)
    out.push(
      'model_signing (1.1.1) names a single-file model "." while OMS v1.0 (§6.1.2) names it by its file name, as modelgate does: model_signing cannot verify this bundle; sign the directory holding the file for one both tools verify',
    );
  return out;
}

export async function signModel(
  modelPath: string,
  signer: Signer,
  options: SignModelOptions = {},
): Promise<SignedModel> {
  const root = resolve(modelPath);
  const globbed = (options.ignorePaths ?? []).find((p) => GLOB.test(p));
  if (globbed !== undefined)
    throw new SignRefusedError(
      `ignore path "${globbed}" holds a glob character (*, ? or [): ignore paths are exact paths relative to the model (OMS §6.2.1); list each path to leave out`,
    );
  const ignore = [...DEFAULT_IGNORE_PATHS, ...normalizeIgnorePaths(root, options.ignorePaths ?? [])];
  if (options.bundlePath !== undefined) {
    const rel = relative(root, resolve(options.bundlePath));
    if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel))
      ignore.push(...normalizeIgnorePaths(root, [rel]));
  }
  const ignorePaths = [...new Set(ignore)];
  // model_signing never shards BLAKE3 (it is parallel already): it signs whole files instead, and its
  // verifier would hash a BLAKE3 "shards" manifest as files. Do the same so both tools agree.
  const method = options.hashType === 'blake3' ? 'files' : (options.method ?? 'files');
  const serialization: Serialization = {
    method,
    hashType: options.hashType ?? 'sha256',
    allowSymlinks: options.allowSymlinks ?? false,
  };
  if (method === 'shards') serialization.shardSize = options.shardSize ?? DEFAULT_SHARD_SIZE;
  const manifest = await hashModel(modelPath, {
    method,
    hashType: serialization.hashType,
    ...(serialization.shardSize !== undefined ? { shardSize: serialization.shardSize } : {}),
    ignorePaths,
    allowSymlinks: serialization.allowSymlinks,
    ...(options.workers !== undefined ? { workers: options.workers } : {}),
    ...(options.pool ? { pool: options.pool } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const directoryLink = manifest.symlinks.find((l) => l.directory);
  if (directoryLink)
    throw new SignRefusedError(
      `symbolic link to a directory: ${directoryLink.name}; model_signing does not follow links to directories (it would leave their files out and could not verify this bundle): replace the link with the directory, or leave it out with --ignore-path`,
    );
  const resources = omsResources(manifest, serialization.hashType);
  if (resources.length === 0)
    throw new SignRefusedError(
      manifest.files === 0
        ? `nothing to sign: ${modelPath} holds no regular file once .git*, the ignore paths and the signature file are left out (OMS §6.1 refuses an empty model)`
        : `nothing to sign: every file of ${modelPath} is empty, and the shards method lists no shard for an empty file (OMS §5.2.1 needs at least one resource); sign whole files (no --shard-size)`,
    );
  const signed: ModelManifest = { ...manifest, resources, rootDigest: rootDigest(resources) };
  const payload = new TextEncoder().encode(
    JSON.stringify(buildStatement(signed, serialization, ignorePaths), null, 2),
  );
  const warnings = [
    ...modelSigningCompatibility({
      method,
      hashType: serialization.hashType,
      keyType: signer.privateKey.asymmetricKeyType,
      singleFile: manifest.singleFile,
    }),
    ...manifest.symlinks
      .filter((l) => l.outside)
      .map(
        (l) =>
          `symbolic link ${l.name} leads outside the model directory: the signature covers the content it leads to now, which whoever controls the target can change (OMS §6.1.1)`,
      ),
  ];
  return {
    bundle: signPayload(payload, signer),
    manifest: signed,
    digest: `sha256:${signed.rootDigest}`,
    warnings,
  };
}

/**
 * The resources as OMS v1.0 writes them: sorted by the code points of their names (§5.2.1;
 * model_signing sorts by path component and shard offset, which differs for names such as
 * "tokenizer.json" and "tokenizer/vocab.json", or shards past the tenth), and a single-file model's
 * resource named by its file name (§6.1.2; model_signing writes "."), and shard digests labelled with
 * the hash name (§6.3.2; model_signing writes "sha256-sharded-<size>"). modelgate verifies either form.
 */
function omsResources(manifest: ModelManifest, hashType: HashAlgorithm): Resource[] {
  const rename = (name: string) =>
    !manifest.singleFile
      ? name
      : name === '.'
        ? manifest.modelName
        : name.startsWith('.:')
          ? manifest.modelName + name.slice(1)
          : name;
  return manifest.resources
    .map((r) => ({ name: rename(r.name), algorithm: hashType, digest: r.digest }))
    .sort((a, b) => compareCodePoints(a.name, b.name));
}
