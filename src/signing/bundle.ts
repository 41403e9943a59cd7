// Parse a Sigstore bundle (media types v0.1-v0.3) holding a DSSE envelope, as written by the OpenSSF
// model_signing tool. Untrusted JSON is turned into typed values once; every error names the field.
// https://github.com/sigstore/protobuf-specs/blob/main/protos/sigstore_bundle.proto
import { isObj as isObject } from '../json/shape.ts';

export const BUNDLE_MEDIA_TYPES: readonly string[] = [
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
  'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'application/vnd.dev.sigstore.bundle.v0.3+json',
];
export const BUNDLE_V03_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export class BundleFormatError extends Error {}

export interface DsseSignature {
  sig: Uint8Array;
  keyid: string;
}

export interface DsseEnvelope {
  /** The exact decoded payload bytes: the signature covers these, never a re-serialisation. */
  payload: Uint8Array;
  payloadType: string;
  signatures: DsseSignature[];
}

export type VerificationMaterial =
  | { kind: 'publicKey'; hint?: string; rawBytes?: Uint8Array }
  | { kind: 'certificateChain'; certificates: Uint8Array[] }
  | { kind: 'certificate'; certificate: Uint8Array };

export interface ParsedBundle {
  mediaType: string;
  material: VerificationMaterial;
  tlogEntryCount: number;
  envelope: DsseEnvelope;
  /** The parsed JSON, handed to @sigstore/bundle for keyless verification. */
  json: Record<string, unknown>;
}

type Json = Record<string, unknown>;

function field(obj: Json, name: string, where: string): Json {
  const v = obj[name];
  if (!isObject(v)) throw new BundleFormatError(`${where}.${name} is missing or not an object`);
  return v;
}

function stringField(obj: Json, name: string, where: string): string {
  const v = obj[name];
  if (typeof v !== 'string') throw new BundleFormatError(`${where}.${name} is missing or not a string`);
  return v;
}

// Protobuf JSON accepts standard and URL-safe base64, padded or not. Buffer.from() silently skips
// invalid characters, so decodeBase64 re-encodes what it decoded and compares; this pattern only words
// the error.
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** `value` without its trailing "=" padding (no regular expression: payloads run to megabytes). */
function stripPadding(value: string): string {
  let end = value.length;
  while (end > 0 && value.charCodeAt(end - 1) === 0x3d) end--;
  return value.slice(0, end);
}

export function decodeBase64(value: string, where: string): Uint8Array {
  const bare = stripPadding(value);
  const url = bare.includes('-') || bare.includes('_');
  const bytes = Buffer.from(bare, url ? 'base64url' : 'base64');
  // The decoder skips what it does not understand, so re-encoding gives the input back only when the
  // input was valid, canonical base64 (no stray characters, no mixed alphabets, zero trailing bits).
  // Only a failure pays for telling the two apart.
  if (
    value.length - bare.length > 2 ||
    bare.length % 4 === 1 ||
    stripPadding(bytes.toString(url ? 'base64url' : 'base64')) !== bare
  ) {
    throw new BundleFormatError(
      BASE64.test(value) && bare.length % 4 !== 1
        ? `${where} is not canonical base64`
        : `${where} is not valid base64`,
    );
  }
  return new Uint8Array(bytes);
}

function parseMaterial(vm: Json): VerificationMaterial {
  const where = 'verificationMaterial';
  const present = ['publicKey', 'x509CertificateChain', 'certificate'].filter(
    (k) => vm[k] !== undefined && vm[k] !== null,
  );
  if (present.length !== 1) {
    throw new BundleFormatError(
      `${where} must hold exactly one of publicKey, x509CertificateChain, certificate (found ${present.length})`,
    );
  }
  if (present[0] === 'publicKey') {
    const pk = field(vm, 'publicKey', where);
    const material: VerificationMaterial = { kind: 'publicKey' };
    if (pk.hint !== undefined) {
      if (typeof pk.hint !== 'string') throw new BundleFormatError(`${where}.publicKey.hint is not a string`);
      if (pk.hint !== '') material.hint = pk.hint;
    }
    if (pk.rawBytes !== undefined) {
      if (typeof pk.rawBytes !== 'string')
        throw new BundleFormatError(`${where}.publicKey.rawBytes is not a string`);
      material.rawBytes = decodeBase64(pk.rawBytes, `${where}.publicKey.rawBytes`);
    }
    return material;
  }
  if (present[0] === 'x509CertificateChain') {
    const chain = field(vm, 'x509CertificateChain', where);
    const certs = chain.certificates;
    if (!Array.isArray(certs) || certs.length === 0) {
      throw new BundleFormatError(`${where}.x509CertificateChain.certificates is missing or empty`);
    }
    const certificates = certs.map((c: unknown, i) => {
      const w = `${where}.x509CertificateChain.certificates[${i}]`;
      if (!isObject(c)) throw new BundleFormatError(`${w} is not an object`);
      return decodeBase64(stringField(c, 'rawBytes', w), `${w}.rawBytes`);
    });
    return { kind: 'certificateChain', certificates };
  }
  const cert = field(vm, 'certificate', where);
  return {
    kind: 'certificate',
    certificate: decodeBase64(
      stringField(cert, 'rawBytes', `${where}.certificate`),
      `${where}.certificate.rawBytes`,
    ),
  };
}

function parseEnvelope(env: Json): DsseEnvelope {
  const where = 'dsseEnvelope';
  const payload = decodeBase64(stringField(env, 'payload', where), `${where}.payload`);
  const payloadType = stringField(env, 'payloadType', where);
  const sigs = env.signatures;
  if (!Array.isArray(sigs) || sigs.length === 0)
    throw new BundleFormatError(`${where}.signatures is missing or empty`);
  const signatures = sigs.map((s: unknown, i) => {
    const w = `${where}.signatures[${i}]`;
    if (!isObject(s)) throw new BundleFormatError(`${w} is not an object`);
    const keyid = s.keyid === undefined || s.keyid === null ? '' : s.keyid;
    if (typeof keyid !== 'string') throw new BundleFormatError(`${w}.keyid is not a string`);
    const sig = decodeBase64(stringField(s, 'sig', w), `${w}.sig`);
    if (sig.length === 0) throw new BundleFormatError(`${w}.sig is empty`);
    return { sig, keyid };
  });
  return { payload, payloadType, signatures };
}

/** Parse bundle bytes. Throws BundleFormatError with the offending field. */
export function parseBundle(bytes: Uint8Array): ParsedBundle {
  if (bytes.length === 0) throw new BundleFormatError('bundle is empty');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new BundleFormatError(`bundle is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(json)) throw new BundleFormatError('bundle is not a JSON object');
  const mediaType = stringField(json, 'mediaType', 'bundle');
  if (!BUNDLE_MEDIA_TYPES.includes(mediaType))
    throw new BundleFormatError(
      `bundle.mediaType "${mediaType}" is not a supported Sigstore bundle media type`,
    );
  if (json.messageSignature !== undefined)
    throw new BundleFormatError('bundle holds a messageSignature; model signatures use a dsseEnvelope');
  const vm = field(json, 'verificationMaterial', 'bundle');
  const material = parseMaterial(vm);
  const tlog = vm.tlogEntries;
  if (tlog !== undefined && tlog !== null && !Array.isArray(tlog))
    throw new BundleFormatError('verificationMaterial.tlogEntries is not an array');
  const envelope = parseEnvelope(field(json, 'dsseEnvelope', 'bundle'));
  return { mediaType, material, tlogEntryCount: Array.isArray(tlog) ? tlog.length : 0, envelope, json };
}
