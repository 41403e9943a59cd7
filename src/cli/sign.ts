// modelgate sign: hash a model and write a model_signing-compatible bundle signed with a private key
// (method "key"), or with a key and its certificate chain (method "certificate").
import { readFileSync, writeFileSync } from 'node:fs';
import { isHashAlgorithm, type HashAlgorithm } from '../hashing/algorithms.ts';
import { loadSigner, signModel } from '../signing/sign.ts';
import { TrustMaterialError } from '../signing/keys.ts';
import { ModelWalkError } from '../hashing/walk.ts';
import { formatBytes, progressReporter } from '../verifier/progress.ts';
import { outputFormat, parseFlags, requireOne, UsageError } from './args.ts';
import { parseWorkers, resolveIgnorePath } from './verify.ts';

const USAGE = `usage: modelgate sign <MODEL_PATH> --key <PRIVATE PEM> [--certificate-chain <PEM>] --signature <OUT>
         [--hash sha256|blake2b|blake3] [--shard-size N] [--ignore-path <P>]... [--allow-symlinks]
         [--workers N] [--output text|json]
       modelgate sign --oci-manifest <FILE|REF> --key <PRIVATE PEM> [--signature <OUT>] [--attach] ...
                      (an OCI manifest in model-signing's OCI mode: add --help after --oci-manifest=x for its flags)

Writes an OpenSSF model_signing bundle (Sigstore bundle v0.3, DSSE, in-toto statement) that
\`model_signing verify key|certificate\` accepts.
  --key                PEM private key (ECDSA P-256/P-384/P-521; Ed25519 is verifiable by modelgate only)
  --certificate-chain  PEM certificates: the signing certificate for --key first, then intermediates
  --hash               digest of each file or shard (default sha256)
  --shard-size         hash files in shards of N bytes (method "shards"); default: whole files.
                       Ignored with blake3, which model_signing never shards
  --ignore-path        leave a path out of the signature (recorded in the bundle; .git* and the
                       bundle itself are always left out). An exact path: no glob characters

Refused: a model with no regular file left to sign, a file name that is not UTF-8, a symbolic
link to a directory. Warned: choices the model_signing CLI cannot verify (BLAKE2/BLAKE3, shards,
Ed25519, a single-file model) and links leading out of the model.`;

const OPTIONS = {
  key: { type: 'string' },
  'certificate-chain': { type: 'string' },
  signature: { type: 'string' },
  hash: { type: 'string' },
  'shard-size': { type: 'string' },
  'ignore-path': { type: 'string', multiple: true },
  'allow-symlinks': { type: 'boolean' },
  workers: { type: 'string' },
  output: { type: 'string' },
} as const;

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(
      `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

export async function run(argv: string[]): Promise<number> {
  if (argv.some((a) => a === '--oci-manifest' || a.startsWith('--oci-manifest=')))
    return (await import('./oci.ts')).runSign(argv);
  const { values, positionals } = parseFlags(argv, OPTIONS, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one MODEL_PATH\n\n${USAGE}`);
  const modelPath = positionals[0] ?? '';
  const keyPath = requireOne(values, 'key', USAGE);
  const out = requireOne(values, 'signature', USAGE);
  const output = outputFormat(values.output);
  const hash: HashAlgorithm = (values.hash ?? 'sha256') as HashAlgorithm;
  if (!isHashAlgorithm(hash))
    throw new UsageError(`--hash must be sha256, blake2b or blake3, not "${values.hash ?? ''}"`);
  let shardSize: number | undefined;
  if (values['shard-size'] !== undefined) {
    if (!/^[1-9][0-9]*$/.test(values['shard-size']) || !Number.isSafeInteger(Number(values['shard-size'])))
      throw new UsageError('--shard-size must be a positive whole number of bytes');
    shardSize = Number(values['shard-size']);
  }
  const workers = parseWorkers(values.workers);

  let signer;
  try {
    const chain = values['certificate-chain'];
    signer = loadSigner(
      readPem(keyPath, 'private key'),
      chain === undefined ? undefined : readPem(chain, 'certificate chain'),
    );
  } catch (err) {
    if (err instanceof TrustMaterialError) throw new UsageError(err.message);
    throw err;
  }

  const reporter = progressReporter(`hashing ${modelPath}`, {
    isTTY: process.stderr.isTTY === true,
    write: (t) => process.stderr.write(t),
  });
  const started = performance.now();
  let signed;
  try {
    signed = await signModel(modelPath, signer, {
      method: shardSize === undefined ? 'files' : 'shards',
      hashType: hash,
      ...(shardSize !== undefined ? { shardSize } : {}),
      ignorePaths: (values['ignore-path'] ?? []).map((p) => resolveIgnorePath(modelPath, p)),
      allowSymlinks: values['allow-symlinks'] ?? false,
      bundlePath: out,
      ...(workers !== undefined ? { workers } : {}),
      onProgress: (p) => reporter.update(p),
    });
  } catch (err) {
    reporter.done();
    if (err instanceof ModelWalkError) {
      process.stderr.write(`modelgate sign: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  reporter.done();
  try {
    writeFileSync(out, signed.bundle);
  } catch (err) {
    process.stderr.write(`modelgate sign: cannot write ${out}: ${(err as Error).message}\n`);
    return 2;
  }
  for (const w of signed.warnings) process.stderr.write(`modelgate sign: warning: ${w}\n`);
  const durationMs = Math.round(performance.now() - started);
  const { files, bytes } = signed.manifest;
  if (output === 'json') {
    process.stdout.write(
      `${JSON.stringify({ model: modelPath, signature: out, digest: signed.digest, files, bytes, durationMs, warnings: signed.warnings })}\n`,
    );
  } else {
    process.stdout.write(
      `signed ${modelPath} -> ${out}: ${signed.digest} (${files} files, ${formatBytes(bytes)}, ${durationMs} ms)\n`,
    );
  }
  return 0;
}
