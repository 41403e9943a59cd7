// `modelgate sign --oci-manifest` and `modelgate verify --oci-manifest`: model-signing bundles over an
// OCI manifest, read from a file (`skopeo inspect --raw`, `crane manifest`) or from a registry, as the
// model-signing Go CLI's OCI mode signs them. `sign --attach` pushes the bundle as an OCI 1.1 referrer in
// cosign's layout; `verify` without --signature looks for bundles among the manifest's referrers.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { attachBundle } from '../oci/attach.ts';
import { CredentialError, Keyring } from '../oci/credentials.ts';
import { digestOf, OciFormatError, parseImageManifest } from '../oci/manifest.ts';
import { OCI_MANIFEST } from '../oci/media-types.ts';
import { parseImageRef, repositoryName, type ImageRef } from '../oci/reference.ts';
import { findModelSigningBundles } from '../oci/referrers.ts';
import { RegistryClient, RegistryError } from '../oci/registry.ts';
import { TrustMaterialError } from '../signing/keys.ts';
import {
  ociManifestResources,
  OciSigningError,
  signOciManifest,
  statementCoversManifest,
} from '../oci/signed-manifest.ts';
import { loadSigner } from '../signing/sign.ts';
import type { TrustMaterial } from '../signing/trust.ts';
import { verifyBundleSignature } from '../signing/verify-signature.ts';
import { loadTrust } from '../verifier/run.ts';
import { outputFormat, parseFlags, UsageError } from './args.ts';
import { trustSpec } from './verify.ts';

const REGISTRY_FLAGS = `  --registry-auth        Docker config JSON with registry credentials (default: $REGISTRY_AUTH_FILE,
                         else $DOCKER_CONFIG/config.json or ~/.docker/config.json when present);
                         credential helpers are not run
  --insecure-registry    a registry (host:port as in references) reached over plain HTTP (repeatable)`;

const SIGN_USAGE = `usage: modelgate sign --oci-manifest <FILE|REF> --key <PRIVATE PEM> [--certificate-chain <PEM>]
         [--signature <OUT>] [--attach] [--registry-auth <FILE>] [--insecure-registry <HOST>]... [--output text|json]

Signs an OCI image manifest in model-signing's OCI mode (what \`model-signing sign manifest.json\` writes):
one resource per layer — named by org.opencontainers.image.title, else (modelgate) org.cncf.model.filepath,
else layer_NNN.tar.gz — and the config blob as config.json. Nothing is pulled but the manifest.
  --oci-manifest         a manifest file, or a reference (registry/repo:tag or @sha256:…) to fetch it from
  --signature            where to write the bundle
  --attach               push the bundle to the registry as an OCI 1.1 referrer of the manifest (cosign's
                         bundle layout; the sha256-<hex> tag index too when the registry has no referrers API)
${REGISTRY_FLAGS}
At least one of --signature and --attach.`;

const VERIFY_USAGE = `usage: modelgate verify --oci-manifest <FILE|REF> [--signature <BUNDLE>]
         (--key <PEM> | --ca <PEM>... [--identity <ID>]... | --identity <ID>|--identity-regexp <RE> --issuer <URL> --trusted-root <FILE>)
         [--registry-auth <FILE>] [--insecure-registry <HOST>]... [--output text|json]

Verifies a model-signing bundle over an OCI manifest: the signature, and that its resources are exactly
the manifest's layers and config. Without --signature, the bundles attached to the manifest in the
registry (OCI referrers, or the sha256-<hex> tag index) are tried.
${REGISTRY_FLAGS}
Exit status: 0 valid, 1 invalid, 2 unusable input.`;

const COMMON = {
  'oci-manifest': { type: 'string' },
  signature: { type: 'string' },
  'registry-auth': { type: 'string' },
  'insecure-registry': { type: 'string', multiple: true },
  output: { type: 'string' },
} as const;

const SIGN_OPTIONS = {
  ...COMMON,
  key: { type: 'string' },
  'certificate-chain': { type: 'string' },
  attach: { type: 'boolean' },
} as const;
const VERIFY_OPTIONS = {
  ...COMMON,
  key: { type: 'string' },
  ca: { type: 'string', multiple: true },
  identity: { type: 'string', multiple: true },
  'identity-regexp': { type: 'string' },
  issuer: { type: 'string' },
  'trusted-root': { type: 'string' },
} as const;

function readFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(
      `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

function authFile(flag: string | undefined): string | undefined {
  if (flag !== undefined) return flag;
  const candidates = [
    process.env.REGISTRY_AUTH_FILE,
    process.env.DOCKER_CONFIG ? join(process.env.DOCKER_CONFIG, 'config.json') : undefined,
    join(homedir(), '.docker', 'config.json'),
  ];
  return candidates.find((p): p is string => p !== undefined && existsSync(p));
}

function client(values: { 'registry-auth'?: string; 'insecure-registry'?: string[] }): RegistryClient {
  const keys = new Keyring();
  const file = authFile(values['registry-auth']);
  if (file !== undefined)
    try {
      keys.addDockerConfig(readFile(file, 'registry credentials').toString('utf8'), file);
    } catch (err) {
      if (err instanceof CredentialError) throw new UsageError(err.message);
      throw err;
    }
  return new RegistryClient({
    credentials: (r) => keys.lookup(r),
    insecureHosts: new Set(values['insecure-registry'] ?? []),
    timeoutMs: 30_000,
  });
}

interface Target {
  bytes: Uint8Array;
  digest: string;
  mediaType: string;
  /** The reference when fetched from a registry. */
  ref?: ImageRef;
  /** Subject name in the statement: the file's base name, or the repository's last part. */
  name: string;
  label: string;
}

async function target(arg: string, reg: () => RegistryClient): Promise<Target> {
  if (existsSync(arg)) {
    const bytes = new Uint8Array(readFile(arg, 'manifest'));
    return {
      bytes,
      digest: digestOf(bytes),
      mediaType: OCI_MANIFEST,
      name: basename(arg, extname(arg)),
      label: arg,
    };
  }
  let ref: ImageRef;
  try {
    ref = parseImageRef(arg);
  } catch (err) {
    throw new UsageError(
      `--oci-manifest ${arg} is neither a file nor an image reference: ${(err as Error).message}`,
    );
  }
  const fetched = await reg().getManifest(ref, ref.digest ?? ref.tag ?? 'latest');
  if (!fetched)
    throw new RegistryError(`${repositoryName(ref)}:${ref.digest ?? ref.tag ?? 'latest'} was not found`, 404);
  const mediaType = fetched.contentType.split(';')[0]?.trim() || OCI_MANIFEST;
  return {
    bytes: fetched.bytes,
    digest: fetched.digest,
    mediaType,
    ref,
    name: ref.repository.split('/').pop() ?? 'model',
    label: `${repositoryName(ref)}@${fetched.digest}`,
  };
}

/** Runs one OCI command, turning input and registry errors into a message and exit status 2. */
async function guarded(verb: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (
      err instanceof RegistryError ||
      err instanceof OciFormatError ||
      err instanceof OciSigningError ||
      err instanceof TrustMaterialError
    ) {
      process.stderr.write(`modelgate ${verb}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

export async function runSign(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, SIGN_OPTIONS, SIGN_USAGE);
  if (values.help) {
    process.stdout.write(`${SIGN_USAGE}\n`);
    return 0;
  }
  if (positionals.length > 0)
    throw new UsageError(
      `--oci-manifest takes no MODEL_PATH (got ${positionals.join(' ')})\n\n${SIGN_USAGE}`,
    );
  const arg = values['oci-manifest'] ?? '';
  if (!values.key) throw new UsageError(`--key is required\n\n${SIGN_USAGE}`);
  if (!values.signature && !values.attach)
    throw new UsageError(`give --signature, --attach or both\n\n${SIGN_USAGE}`);
  const output = outputFormat(values.output);
  let signer;
  try {
    const chain = values['certificate-chain'];
    signer = loadSigner(
      readFile(values.key, 'private key').toString('utf8'),
      chain === undefined ? undefined : readFile(chain, 'certificate chain').toString('utf8'),
    );
  } catch (err) {
    if (err instanceof TrustMaterialError) throw new UsageError(err.message);
    throw err;
  }
  return guarded('sign', async () => {
    let reg: RegistryClient | undefined;
    const lazy = () => (reg ??= client(values));
    const t = await target(arg, lazy);
    if (values.attach && !t.ref)
      throw new UsageError('--attach needs the manifest as a registry reference, not a file');
    const signed = signOciManifest(t.bytes, signer, t.name);
    if (values.signature) writeFileSync(values.signature, signed.bundle);
    const attached =
      values.attach && t.ref
        ? await attachBundle(
            lazy(),
            t.ref,
            { mediaType: t.mediaType, digest: t.digest, size: t.bytes.length },
            signed.bundle,
          )
        : undefined;
    for (const w of signed.warnings) process.stderr.write(`modelgate sign: warning: ${w}\n`);
    if (output === 'json')
      process.stdout.write(
        `${JSON.stringify({ manifest: t.label, digest: t.digest, statementDigest: signed.subjectDigest, resources: signed.resources.length, ...(values.signature ? { signature: values.signature } : {}), ...(attached ? { referrer: attached.referrer, via: attached.via } : {}), warnings: signed.warnings })}\n`,
      );
    else
      process.stdout.write(
        `signed OCI manifest ${t.label} (${t.digest}): ${signed.resources.length} resources (layers and config), statement digest ${signed.subjectDigest}${values.signature ? `; bundle -> ${values.signature}` : ''}${attached ? `; attached as referrer ${attached.referrer} (${attached.via === 'referrers' ? 'OCI referrers API' : 'sha256-<hex> tag index'})` : ''}\n`,
      );
    return 0;
  });
}

export async function runVerify(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, VERIFY_OPTIONS, VERIFY_USAGE);
  if (values.help) {
    process.stdout.write(`${VERIFY_USAGE}\n`);
    return 0;
  }
  if (positionals.length > 0)
    throw new UsageError(
      `--oci-manifest takes no MODEL_PATH (got ${positionals.join(' ')})\n\n${VERIFY_USAGE}`,
    );
  const output = outputFormat(values.output);
  const spec = trustSpec({
    ...(values.key !== undefined ? { key: values.key } : {}),
    ...(values.ca !== undefined ? { ca: values.ca } : {}),
    ...(values.identity !== undefined ? { identity: values.identity } : {}),
    ...(values['identity-regexp'] !== undefined ? { identityRegexp: values['identity-regexp'] } : {}),
    ...(values.issuer !== undefined ? { issuer: values.issuer } : {}),
    ...(values['trusted-root'] !== undefined ? { trustedRoot: values['trusted-root'] } : {}),
  });
  let trust: TrustMaterial;
  try {
    trust = await loadTrust(spec);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return guarded('verify', async () => {
    let reg: RegistryClient | undefined;
    const lazy = () => (reg ??= client(values));
    const t = await target(values['oci-manifest'] ?? '', lazy);
    const sets = ociManifestResources(parseImageManifest(t.bytes));
    let bundles: { from: string; bytes: Uint8Array }[];
    if (values.signature)
      bundles = [
        { from: values.signature, bytes: new Uint8Array(readFile(values.signature, 'signature bundle')) },
      ];
    else if (t.ref) {
      const found = await findModelSigningBundles(lazy(), t.ref, t.digest);
      bundles = found.bundles.map((b) => ({ from: `referrer ${b.referrer}`, bytes: b.bundle }));
      if (bundles.length === 0) {
        const why = `no model-signing bundle is attached to ${t.label}${found.skipped.length ? ` (passed over: ${found.skipped.join('; ')})` : ''}`;
        report(output, { manifest: t.label, digest: t.digest, verdict: 'invalid', reason: why });
        return 1;
      }
    } else
      throw new UsageError(
        'give --signature, or the manifest as a registry reference to look for attached bundles',
      );
    const reasons: string[] = [];
    for (const b of bundles) {
      const v = verifyBundleSignature(b.bytes, trust);
      if (!v.valid) {
        reasons.push(`${b.from}: ${v.reason}`);
        continue;
      }
      const cover = statementCoversManifest(v.statement, sets);
      if (!cover.covered) {
        reasons.push(`${b.from}: signed by ${v.signer}, but ${cover.reason}`);
        continue;
      }
      report(output, {
        manifest: t.label,
        digest: t.digest,
        verdict: 'valid',
        signer: v.signer,
        statementDigest: `sha256:${v.statement.subjectDigest.hex}`,
        naming: cover.naming,
        bundle: b.from,
      });
      return 0;
    }
    report(output, { manifest: t.label, digest: t.digest, verdict: 'invalid', reason: reasons.join('; ') });
    return 1;
  });
}

function report(output: 'text' | 'json', r: Record<string, string>): void {
  if (output === 'json') process.stdout.write(`${JSON.stringify(r)}\n`);
  else if (r.verdict === 'valid')
    process.stdout.write(
      `VALID ${r.manifest}: signed by ${r.signer} (statement ${r.statementDigest}, ${r.naming} layer names, ${r.bundle})\n`,
    );
  else process.stdout.write(`INVALID ${r.manifest}: ${r.reason}\n`);
}
