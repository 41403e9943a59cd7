// Write model_signing-compatible bundles (what model_signing 1.1 writes for its "key" and
// "certificate" methods): a Sigstore v0.3 bundle, DSSE envelope, in-toto statement, no transparency log.
import { createPrivateKey, createPublicKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { isAbsolute, relative, resolve } from 'node:path';
import type { HashAlgorithm } from '../hashing/algorithms.ts';
import type { SerializationMethod } from '../hashing/manifest.ts';
import { DEFAULT_SHARD_SIZE, hashModel, type HashProgress, type ModelManifest } from '../hashing/model.ts';
import type { HashPool } from '../hashing/pool.ts';
import { DEFAULT_IGNORE_PATHS, normalizeIgnorePaths } from '../hashing/walk.ts';
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
  manifest: ModelManifest;
  /** "sha256:<hex>": the digest a workload pins. */
  digest: string;
}

export async function signModel(
  modelPath: string,
  signer: Signer,
  options: SignModelOptions = {},
): Promise<SignedModel> {
  const root = resolve(modelPath);
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
  const payload = new TextEncoder().encode(
    JSON.stringify(buildStatement(manifest, serialization, ignorePaths), null, 2),
  );
  return { bundle: signPayload(payload, signer), manifest, digest: `sha256:${manifest.rootDigest}` };
}
