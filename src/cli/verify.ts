// modelgate verify: check a model directory or file against its model_signing bundle. Also the runtime
// verifier (init container): `--verifier` writes a compact JSON result to the termination message path.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import {
  DEFAULT_TERMINATION_LOG,
  runPodVerifier,
  runVerifier,
  type TrustSpec,
  type VerifierInput,
} from '../verifier/run.ts';
import { formatBytes } from '../verifier/progress.ts';
import { outputFormat, parseFlags, UsageError } from './args.ts';
import { parseAllowGlobals, parseDenyFormats } from './scan.ts';

const USAGE = `usage: modelgate verify <MODEL_PATH> --signature <FILE>
         (--key <PEM> | --ca <PEM>... [--identity <ID>]... | --identity <ID>|--identity-regexp <RE> --issuer <URL> --trusted-root <FILE>)
         [--ignore-path <P>]... [--allow-symlinks] [--ignore-unsigned-files] [--expect-digest sha256:<hex>]
         [--scan] [--deny-format FORMAT]... [--allow-global module.Name]...
         [--workers N] [--output text|json] [--verifier] [--termination-log <PATH>] [--config <FILE>]
       modelgate verify --pod-config-env <ENV> [--termination-log <PATH>] [--workers N]
       modelgate verify --oci-manifest <FILE|REF> ...   (a bundle over an OCI manifest: add --help after --oci-manifest=x)

Verifies the signature bundle (OpenSSF model_signing format) and that every file of the model matches it.
  --key               PEM public key (ECDSA P-256/P-384/P-521 or Ed25519)
  --ca                PEM root CA certificate(s) the bundle's certificate chain must lead to, RFC 5280
                      path validation (repeatable); with --ca, --identity restricts the leaf's SAN or
                      CN (repeatable, exact; a CN only within the path's name constraints)
  --identity          Sigstore keyless: the exact certificate identity (email or URI)
  --identity-regexp   Sigstore keyless: identity regular expression, always anchored (^...$)
  --issuer            Sigstore keyless: the OIDC issuer URL
  --trusted-root      Sigstore trusted root JSON (offline)
  --ignore-path       extra path to leave out, relative to the model (or to the working directory)
  --expect-digest     the signed subject digest must equal this (as pinned in modelgate.io/models)
  --scan              after the signature passes, scan the files for code as the init container does
                      (see modelgate scan); a finding makes the model invalid (exit 1)
  --deny-format       refuse files of this format (implies --scan; names as for modelgate scan)
  --allow-global      treat this exact pickle global as data in the scan (implies --scan; your own
                      reviewed class; it never overrides the denylist)
  --verifier          init-container mode: result JSON to --termination-log (default ${DEFAULT_TERMINATION_LOG})
  --config            JSON file with the same settings (model, signature, key, ca, identity, identityRegexp,
                      issuer, trustedRoot, ignorePaths, allowSymlinks, ignoreUnsignedFiles, expectDigest, workers,
                      scan, denyFormats, allowGlobals);
                      flags win
  --pod-config-env    the injected init container: every model and authority of the pod, as the JSON the
                      mutating webhook puts in this environment variable; results (a JSON list) go to
                      --termination-log (default ${DEFAULT_TERMINATION_LOG})
Exit status: 0 valid, 1 invalid (reason printed), 2 unusable input.`;

const OPTIONS = {
  signature: { type: 'string' },
  key: { type: 'string' },
  ca: { type: 'string', multiple: true },
  identity: { type: 'string', multiple: true },
  'identity-regexp': { type: 'string' },
  issuer: { type: 'string' },
  'trusted-root': { type: 'string' },
  'ignore-path': { type: 'string', multiple: true },
  'allow-symlinks': { type: 'boolean' },
  'ignore-unsigned-files': { type: 'boolean' },
  'expect-digest': { type: 'string' },
  scan: { type: 'boolean' },
  'deny-format': { type: 'string', multiple: true },
  'allow-global': { type: 'string', multiple: true },
  workers: { type: 'string' },
  output: { type: 'string' },
  verifier: { type: 'boolean' },
  'termination-log': { type: 'string' },
  config: { type: 'string' },
  'pod-config-env': { type: 'string' },
} as const;

type Config = Record<string, unknown>;

function readConfig(path: string): Config {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`--config ${path}: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new UsageError(`--config ${path}: not a JSON object`);
  return json as Config;
}

function str(config: Config, key: string): string | undefined {
  const v = config[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new UsageError(`config field "${key}" must be a string`);
  return v;
}

function list(config: Config, key: string): string[] | undefined {
  const v = config[key];
  if (v === undefined) return undefined;
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw new UsageError(`config field "${key}" must be a string or a list of strings`);
  return v as string[];
}

function bool(config: Config, key: string): boolean | undefined {
  const v = config[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new UsageError(`config field "${key}" must be true or false`);
  return v;
}

export function parseWorkers(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value)) throw new UsageError(`--workers must be a whole number, not "${value}"`);
  return Number(value);
}

/** An ignore path given relative to the working directory that lands inside the model is made absolute. */
export function resolveIgnorePath(modelPath: string, p: string): string {
  if (isAbsolute(p)) return p;
  const abs = resolve(p);
  const rel = relative(resolve(modelPath), abs);
  return existsSync(abs) && rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? abs : p;
}

export function trustSpec(v: {
  key?: string;
  ca?: string[];
  identity?: string[];
  identityRegexp?: string;
  issuer?: string;
  trustedRoot?: string;
}): TrustSpec {
  const methods = [v.key !== undefined, (v.ca?.length ?? 0) > 0, v.issuer !== undefined].filter(
    Boolean,
  ).length;
  if (methods !== 1)
    throw new UsageError(
      `give exactly one of --key, --ca, or --issuer with --identity/--identity-regexp\n\n${USAGE}`,
    );
  if (v.key !== undefined) {
    if (v.identity?.length || v.identityRegexp !== undefined)
      throw new UsageError('--identity and --identity-regexp do not apply to --key');
    return { method: 'key', keyPath: v.key };
  }
  if (v.ca?.length) {
    if (v.identityRegexp !== undefined)
      throw new UsageError('--identity-regexp applies to Sigstore keyless (--issuer) only');
    return { method: 'certificate', caPaths: v.ca, identities: v.identity ?? [] };
  }
  if ((v.identity?.length ?? 0) > 1)
    throw new UsageError('Sigstore keyless takes one --identity (use --identity-regexp for alternatives)');
  const identity = v.identity?.[0];
  if (identity === undefined && v.identityRegexp === undefined)
    throw new UsageError('--issuer needs --identity or --identity-regexp');
  if (v.trustedRoot === undefined)
    throw new UsageError(
      'Sigstore keyless verification is offline: give the trusted root JSON with --trusted-root',
    );
  const spec: TrustSpec = { method: 'keyless', issuer: v.issuer ?? '', trustedRootPath: v.trustedRoot };
  if (identity !== undefined) spec.identity = identity;
  if (v.identityRegexp !== undefined) spec.identityRegExp = v.identityRegexp;
  return spec;
}

export function verifierInput(argv: string[]): { input: VerifierInput; output: 'text' | 'json' } {
  const { values, positionals } = parseFlags(argv, OPTIONS, USAGE);
  if (values.help) throw new HelpRequested();
  const c = values.config !== undefined ? readConfig(values.config) : {};
  if (positionals.length > 1)
    throw new UsageError(`expected one MODEL_PATH, got ${positionals.length}\n\n${USAGE}`);
  const modelPath = positionals[0] ?? str(c, 'model');
  if (modelPath === undefined) throw new UsageError(`MODEL_PATH is required\n\n${USAGE}`);
  const signaturePath = values.signature ?? str(c, 'signature');
  if (signaturePath === undefined) throw new UsageError(`--signature is required\n\n${USAGE}`);
  const pick = <T>(flag: T | undefined, conf: T | undefined) => (flag !== undefined ? flag : conf);
  const trust = trustSpec({
    ...((values.key ?? str(c, 'key')) !== undefined ? { key: values.key ?? str(c, 'key') } : {}),
    ...(pick(values.ca, list(c, 'ca')) !== undefined ? { ca: pick(values.ca, list(c, 'ca')) } : {}),
    ...(pick(values.identity, list(c, 'identity')) !== undefined
      ? { identity: pick(values.identity, list(c, 'identity')) }
      : {}),
    ...(pick(values['identity-regexp'], str(c, 'identityRegexp')) !== undefined
      ? { identityRegexp: pick(values['identity-regexp'], str(c, 'identityRegexp')) }
      : {}),
    ...(pick(values.issuer, str(c, 'issuer')) !== undefined
      ? { issuer: pick(values.issuer, str(c, 'issuer')) }
      : {}),
    ...(pick(values['trusted-root'], str(c, 'trustedRoot')) !== undefined
      ? { trustedRoot: pick(values['trusted-root'], str(c, 'trustedRoot')) }
      : {}),
  });
  const ignore = [...(list(c, 'ignorePaths') ?? []), ...(values['ignore-path'] ?? [])].map((p) =>
    resolveIgnorePath(modelPath, p),
  );
  const input: VerifierInput = {
    modelPath,
    signaturePath,
    trust,
    ignorePaths: ignore,
    allowSymlinks: values['allow-symlinks'] ?? bool(c, 'allowSymlinks') ?? false,
    ignoreUnsignedFiles: values['ignore-unsigned-files'] ?? bool(c, 'ignoreUnsignedFiles') ?? false,
  };
  const denyFormats = parseDenyFormats([...(list(c, 'denyFormats') ?? []), ...(values['deny-format'] ?? [])]);
  const allowGlobals = parseAllowGlobals([
    ...(list(c, 'allowGlobals') ?? []),
    ...(values['allow-global'] ?? []),
  ]);
  if ((values.scan ?? bool(c, 'scan') ?? false) || denyFormats.length > 0 || allowGlobals.length > 0)
    input.scan = { denyFormats, allowGlobals };
  const expectDigest = values['expect-digest'] ?? str(c, 'expectDigest');
  if (expectDigest !== undefined) input.expectDigest = expectDigest;
  const configWorkers = c.workers === undefined ? undefined : String(c.workers);
  const workers = parseWorkers(values.workers ?? configWorkers);
  if (workers !== undefined) input.workers = workers;
  const terminationLog = values['termination-log'] ?? (values.verifier ? DEFAULT_TERMINATION_LOG : undefined);
  if (terminationLog !== undefined) input.terminationLogPath = terminationLog;
  return { input, output: outputFormat(values.output ?? (values.verifier ? 'json' : undefined)) };
}

class HelpRequested extends Error {}

async function runPodMode(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, OPTIONS, USAGE);
  const envName = values['pod-config-env'] ?? '';
  const others = Object.keys(values).filter(
    (k) => !['pod-config-env', 'termination-log', 'workers', 'verifier', 'output'].includes(k),
  );
  if (positionals.length > 0 || others.length > 0)
    throw new UsageError(
      `--pod-config-env takes the whole configuration from ${envName}; drop ${[...positionals, ...others.map((k) => `--${k}`)].join(' ')}`,
    );
  const workers = parseWorkers(values.workers);
  const progress = {
    isTTY: process.stderr.isTTY === true,
    write: (t: string) => void process.stderr.write(t),
  };
  const { exitCode, results } = await runPodVerifier(process.env[envName], {
    terminationLogPath: values['termination-log'] ?? DEFAULT_TERMINATION_LOG,
    ...(workers !== undefined ? { workers } : {}),
    progress,
  });
  for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
  return exitCode;
}

export async function run(argv: string[]): Promise<number> {
  if (argv.some((a) => a === '--pod-config-env' || a.startsWith('--pod-config-env=')))
    return runPodMode(argv);
  if (argv.some((a) => a === '--oci-manifest' || a.startsWith('--oci-manifest=')))
    return (await import('./oci.ts')).runVerify(argv);
  let parsed;
  try {
    parsed = verifierInput(argv);
  } catch (err) {
    if (err instanceof HelpRequested) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    throw err;
  }
  const { input, output } = parsed;
  const { exitCode, result } = await runVerifier(input, {
    isTTY: process.stderr.isTTY === true,
    write: (t) => process.stderr.write(t),
  });
  if (output === 'json') {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else if (result.verdict === 'valid') {
    const size = result.bytes !== undefined ? `, ${formatBytes(result.bytes)}` : '';
    process.stdout.write(
      `VALID ${result.model}: ${result.digest ?? ''} signed by ${result.signer ?? '?'} (${result.files ?? 0} files${size}, ${result.durationMs} ms)\n`,
    );
  } else {
    process.stdout.write(
      `${result.verdict === 'invalid' ? 'INVALID' : 'ERROR'} ${result.model}: ${result.reason ?? ''}\n`,
    );
  }
  return exitCode;
}
