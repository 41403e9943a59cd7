// The runtime verifier (the init container the webhook injects, and `modelgate verify` on a laptop):
// load inputs from mounted files, verify the model, report the result, pick the exit code.
import { readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { verifyModel, verifyModelWithAuthorities, type ModelVerification } from '../signing/verify-model.ts';
import type { TrustMaterial } from '../signing/trust.ts';
import { progressReporter, type ProgressSink } from './progress.ts';
import { parsePodConfig, PodConfigError, type PodConfig, type PodModel } from './pod-config.ts';
import {
  terminationMessage,
  terminationMessageList,
  toVerifierResult,
  type VerifierResult,
} from './result.ts';
import { scanVerifiedModel, type ScanStepOptions } from './scan-step.ts';

export const DEFAULT_TERMINATION_LOG = '/dev/termination-log';

/** Trust as files on disk (mounted Secrets/ConfigMaps) or values from flags. */
export type TrustSpec =
  | { method: 'key'; keyPath: string }
  | { method: 'certificate'; caPaths: string[]; identities: string[] }
  | {
      method: 'keyless';
      issuer: string;
      identity?: string;
      identityRegExp?: string;
      trustedRootPath: string;
    };

export interface VerifierInput {
  modelPath: string;
  signaturePath: string;
  trust: TrustSpec;
  ignorePaths: string[];
  allowSymlinks: boolean;
  ignoreUnsignedFiles: boolean;
  /** "sha256:<hex>" pinned by the workload (modelgate.io/models annotation). */
  expectDigest?: string;
  workers?: number;
  /** Where to write the compact JSON result; undefined = nowhere. */
  terminationLogPath?: string;
  /** Run the format scan on the verified files (`--scan`, `--deny-format`, `--allow-global`). */
  scan?: Omit<ScanStepOptions, 'skip'>;
}

export class InputError extends Error {}

async function readInput(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new InputError(
      `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

export async function loadTrust(spec: TrustSpec): Promise<TrustMaterial> {
  switch (spec.method) {
    case 'key':
      return { method: 'key', publicKeyPem: (await readInput(spec.keyPath, 'public key')).toString('utf8') };
    case 'certificate': {
      const pems = await Promise.all(spec.caPaths.map((p) => readInput(p, 'CA certificate')));
      return {
        method: 'certificate',
        caCertificatesPem: pems.map((b) => b.toString('utf8')).join('\n'),
        identities: spec.identities,
      };
    }
    case 'keyless': {
      const trust: TrustMaterial = {
        method: 'keyless',
        issuer: spec.issuer,
        trustedRootJson: (await readInput(spec.trustedRootPath, 'trusted root')).toString('utf8'),
      };
      if (spec.identity !== undefined) trust.subject = spec.identity;
      if (spec.identityRegExp !== undefined) trust.subjectRegExp = spec.identityRegExp;
      return trust;
    }
  }
}

export interface VerifierRun {
  exitCode: number;
  result: VerifierResult;
  verification?: ModelVerification;
}

const EXIT = { valid: 0, invalid: 1, unusable: 2 } as const;

/** Verify one model. Never throws for bad input: every failure becomes a result and a non-zero exit. */
export async function runVerifier(input: VerifierInput, progress?: ProgressSink): Promise<VerifierRun> {
  const started = performance.now();
  let run: VerifierRun;
  try {
    const trust = await loadTrust(input.trust);
    const bundle = await readInput(input.signaturePath, 'signature bundle');
    const reporter = progress ? progressReporter(`verifying ${input.modelPath}`, progress) : undefined;
    const verification = await verifyModel(input.modelPath, bundle, trust, {
      ignorePaths: input.ignorePaths,
      allowSymlinks: input.allowSymlinks,
      ignoreUnsignedFiles: input.ignoreUnsignedFiles,
      bundlePath: input.signaturePath,
      ...(input.expectDigest !== undefined ? { expectDigest: input.expectDigest } : {}),
      ...(input.workers !== undefined ? { workers: input.workers } : {}),
      ...(reporter ? { onProgress: (p) => reporter.update(p) } : {}),
    });
    reporter?.done();
    run = {
      exitCode: EXIT[verification.verdict],
      result: toVerifierResult(input.modelPath, verification),
      verification,
    };
    if (input.scan !== undefined)
      run.exitCode = await scanVerifiedModel(
        input.modelPath,
        { ...input.scan, skip: [input.signaturePath] },
        run.result,
        run.exitCode,
      );
  } catch (err) {
    const reason =
      err instanceof InputError
        ? err.message
        : `verifier error: ${err instanceof Error ? err.message : String(err)}`;
    run = {
      exitCode: 2,
      result: {
        model: input.modelPath,
        verdict: 'unusable',
        reason,
        durationMs: Math.round(performance.now() - started),
      },
    };
  }
  if (input.terminationLogPath !== undefined) {
    try {
      await writeFile(input.terminationLogPath, terminationMessage(run.result));
    } catch (err) {
      // The verdict still decides the exit code; losing the message must not turn a failure into success.
      progress?.write(
        `modelgate verify: cannot write the termination message to ${input.terminationLogPath}: ${(err as Error).message}\n`,
      );
      if (run.exitCode === 0) run.exitCode = 2;
    }
  }
  return run;
}

export interface PodVerifierRun {
  exitCode: number;
  results: VerifierResult[];
}

const worst = (codes: number[]) => (codes.includes(2) ? 2 : codes.includes(1) ? 1 : 0);

/**
 * The injected init container: verify every model of the pod configuration (see pod-config.ts), write
 * the list of results to the termination message, exit non-zero if any model fails.
 */
export async function runPodVerifier(
  configJson: string | undefined,
  options: { terminationLogPath?: string; workers?: number; progress?: ProgressSink } = {},
): Promise<PodVerifierRun> {
  const results: VerifierResult[] = [];
  const codes: number[] = [];
  try {
    if (configJson === undefined || configJson === '')
      throw new PodConfigError('no verifier configuration in the environment');
    const config = parsePodConfig(configJson);
    for (const model of config.models) {
      const r = model.scanOnly
        ? scanOnlyRun(model)
        : await verifyPodModel(model, config.threshold, config.authorities, options);
      if (r.exitCode === 0) await scanPodModel(model, config, r);
      results.push(r.result);
      codes.push(r.exitCode);
    }
  } catch (err) {
    const reason =
      err instanceof PodConfigError
        ? err.message
        : `verifier error: ${err instanceof Error ? err.message : String(err)}`;
    results.push({ model: '(configuration)', verdict: 'unusable', reason, durationMs: 0 });
    codes.push(2);
  }
  let exitCode = worst(codes);
  if (options.terminationLogPath !== undefined) {
    try {
      await writeFile(options.terminationLogPath, terminationMessageList(results));
    } catch (err) {
      options.progress?.write(
        `modelgate verify: cannot write the termination message to ${options.terminationLogPath}: ${(err as Error).message}\n`,
      );
      if (exitCode === 0) exitCode = 2;
    }
  }
  return { exitCode, results };
}

/** Runs the format scan on a model whose signature passed, and folds a failure into its result. */
async function scanPodModel(
  model: PodModel,
  config: Pick<PodConfig, 'denyFormats' | 'allowGlobals'>,
  run: VerifierRun,
): Promise<void> {
  // A scan-only model has no bundle in its volume: a file named like one is scanned like any other.
  const skip =
    model.inlineBundle || model.scanOnly
      ? []
      : [isAbsolute(model.signature) ? model.signature : join(model.path, model.signature)];
  const options = { denyFormats: config.denyFormats, allowGlobals: config.allowGlobals, skip };
  run.exitCode = await scanVerifiedModel(model.path, options, run.result, run.exitCode);
}

/** A model proven at admission (OCI manifest signature): nothing to hash, the scan (next step) runs. */
function scanOnlyRun(model: PodModel): VerifierRun {
  return {
    exitCode: 0,
    result: {
      model: model.name,
      verdict: 'valid',
      evidence: 'admission-oci',
      reason:
        'signature verified at admission over the OCI manifest the runtime enforces; files scanned, not re-hashed',
      durationMs: 0,
    },
  };
}

async function verifyPodModel(
  model: PodModel,
  threshold: number,
  authorities: Parameters<typeof verifyModelWithAuthorities>[2],
  options: { workers?: number; progress?: ProgressSink },
): Promise<VerifierRun> {
  const started = performance.now();
  if (threshold === 0) {
    // No policy asks for a signature: only the format scan (next step) applies.
    return {
      exitCode: 0,
      result: {
        model: model.name,
        verdict: 'valid',
        reason: 'no signature required by the policies',
        durationMs: 0,
      },
    };
  }
  const signaturePath = isAbsolute(model.signature) ? model.signature : join(model.path, model.signature);
  let bundle: Uint8Array;
  try {
    bundle = model.inlineBundle ?? (await readInput(signaturePath, 'signature bundle'));
  } catch (err) {
    return {
      exitCode: 2,
      result: {
        model: model.name,
        verdict: 'unusable',
        reason: (err as Error).message,
        durationMs: Math.round(performance.now() - started),
      },
    };
  }
  const reporter = options.progress
    ? progressReporter(`verifying ${model.name}`, options.progress)
    : undefined;
  const verification = await verifyModelWithAuthorities(model.path, bundle, authorities, threshold, {
    ...(model.inlineBundle ? {} : { bundlePath: signaturePath }),
    ...(model.digest !== undefined ? { expectDigest: model.digest } : {}),
    ...(model.readPaths ? { readPaths: model.readPaths } : {}),
    ...(options.workers !== undefined ? { workers: options.workers } : {}),
    ...(reporter ? { onProgress: (p) => reporter.update(p) } : {}),
  });
  reporter?.done();
  return {
    exitCode: EXIT[verification.verdict],
    result: toVerifierResult(model.name, verification),
    verification,
  };
}
