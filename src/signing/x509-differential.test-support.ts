// Runs the differential cases: builds each chain once (every name carries an "OU=case N" RDN, so
// the chains of all cases can share one trust store without meeting), writes them under a temp
// directory, and asks `openssl verify` for its verdict on every leaf in one process per option set
// and verification time, and modelgate's validator for its own.
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateCertificatePath } from './path-validation.ts';
import { parseCertificate, type ParsedCertificate } from './x509.ts';
import {
  buildCertificate,
  KeyRing,
  OID,
  toPem,
  type KeyKind,
  type KeyPair,
} from './x509-builder.test-support.ts';
import type { ChainCase } from './x509-cases.test-support.ts';

/**
 * What modelgate's path validation is compared with: `openssl verify` as the real model_signing runs
 * it (pyOpenSSL's X509StoreContext: no purpose, no -x509_strict, no partial chains), plus the two
 * switches that make OpenSSL apply RFC 5280 parts it skips by default: -policy_check (§6.1 policy
 * processing: a CA's requireExplicitPolicy) and -auth_level 1 (no MD5 or SHA-1 signatures).
 */
export const OPENSSL_FLAGS = ['-auth_level', '1', '-policy_check'] as const;

export interface OpensslVerdict {
  ok: boolean;
  /** OpenSSL's "error N at D depth lookup: …" line; empty when ok. */
  error: string;
}

export interface CaseRun {
  c: ChainCase;
  index: number;
  der: Record<string, Buffer>;
  openssl: OpensslVerdict;
  /** The same with -x509_strict added. */
  strict: OpensslVerdict;
  /** 'ok', or why modelgate refused. */
  modelgate: string;
}

/** modelgate's verdict on the case: 'ok' or the refusal message. */
export function modelgateVerdict(c: ChainCase, der: Record<string, Buffer>): string {
  try {
    const parse = (name: string): ParsedCertificate => parseCertificate(der[name] as Buffer, name);
    const chain = [parse(c.leaf), ...c.untrusted.map(parse)];
    validateCertificatePath(chain, c.trusted.map(parse), c.at);
    return 'ok';
  } catch (err) {
    return (err as Error).message;
  }
}

function openssl(args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolve({ stdout, stderr }));
  });
}

/** Verdicts of one `openssl verify` over many leaf files: "f: OK" on stdout, error blocks on stderr. */
function parseVerdicts(
  files: string[],
  out: { stdout: string; stderr: string },
): Map<string, OpensslVerdict> {
  const verdicts = new Map<string, OpensslVerdict>();
  for (const line of out.stdout.split('\n')) {
    const m = /^(\S+): OK$/.exec(line);
    if (m?.[1]) verdicts.set(m[1], { ok: true, error: '' });
  }
  let pending = '';
  for (const line of out.stderr.split('\n')) {
    const detail = /error \d+ at \d+ depth lookup: .*/.exec(line);
    if (detail) pending ||= detail[0];
    const failed = /^error (\S+): verification failed$/.exec(line);
    if (failed?.[1]) {
      verdicts.set(failed[1], { ok: false, error: pending || 'verification failed' });
      pending = '';
    }
    const unreadable = /^Could not read certificate (?:file )?from (\S+)$/.exec(line);
    if (unreadable?.[1]) verdicts.set(unreadable[1], { ok: false, error: line });
  }
  for (const f of files)
    if (!verdicts.has(f))
      throw new Error(`openssl verify gave no verdict for ${f}:\n${out.stderr.slice(0, 2000)}`);
  return verdicts;
}

/** Build, write and judge every case. */
export async function runCases(cases: ChainCase[], dir: string): Promise<CaseRun[]> {
  const pools = new Map<KeyKind, KeyPair[]>();
  const runs: CaseRun[] = cases.map((c, index) => {
    const ring = new KeyRing(pools);
    const der: Record<string, Buffer> = {};
    for (const [name, spec] of Object.entries(c.specs))
      der[name] = buildCertificate(
        spec,
        ring,
        c.keyKinds,
        (n) => {
          const s = c.specs[n];
          if (!s) throw new Error(`case ${c.id}: no certificate ${n}`);
          return s;
        },
        { type: OID.ou, value: `case ${index}` },
      );
    const pending = { ok: false, error: 'not run' };
    return { c, index, der, openssl: pending, strict: pending, modelgate: modelgateVerdict(c, der) };
  });

  // OpenSSL's validity ends before notAfter, RFC 5280's (and Go's, and modelgate's) at it inclusive:
  // a case whose certificate ends exactly at the verification time asks OpenSSL a second earlier.
  const opensslTime = (c: ChainCase): number => {
    const t = c.at.getTime();
    const endsNow = Object.values(c.specs).some((s) => s.notAfter.getTime() === t);
    if (endsNow && Object.values(c.specs).some((s) => s.notBefore.getTime() === t))
      throw new Error(`case ${c.id}: a certificate starts and one ends at the verification time`);
    return Math.floor(t / 1000) - (endsNow ? 1 : 0);
  };
  const groups = new Map<number, CaseRun[]>();
  for (const r of runs) {
    const t = opensslTime(r.c);
    groups.set(t, [...(groups.get(t) ?? []), r]);
  }
  // A certificate OpenSSL cannot load at all would make it refuse the whole shared store: it is left
  // out of the files (its case is then judged without it, and a leaf that cannot load is refused).
  const loadable = (d: Buffer): boolean => {
    try {
      new X509Certificate(d);
      return true;
    } catch {
      return false;
    }
  };
  for (const [t, group] of groups) {
    const groupDir = join(dir, String(t));
    mkdirSync(groupDir, { recursive: true });
    const pem = (r: CaseRun, names: string[]) =>
      names
        .map((n) => r.der[n] as Buffer)
        .filter(loadable)
        .map(toPem)
        .join('');
    writeFileSync(join(groupDir, 'trusted.pem'), group.map((r) => pem(r, r.c.trusted)).join(''));
    writeFileSync(join(groupDir, 'untrusted.pem'), group.map((r) => pem(r, r.c.untrusted)).join(''));
    writeFileSync(join(groupDir, 'cases.txt'), group.map((r) => `${r.index}\t${r.c.id}\n`).join(''));
    const files = group.map((r) => {
      const f = `leaf-${r.index}.pem`;
      writeFileSync(join(groupDir, f), pem(r, [r.c.leaf]));
      return f;
    });
    const base = [
      'verify',
      '-no-CApath',
      '-no-CAstore',
      '-CAfile',
      'trusted.pem',
      '-untrusted',
      'untrusted.pem',
    ];
    const at = ['-attime', String(t)];
    const [plain, strict] = await Promise.all([
      openssl([...base, ...OPENSSL_FLAGS, ...at, ...files], groupDir),
      openssl([...base, ...OPENSSL_FLAGS, '-x509_strict', ...at, ...files], groupDir),
    ]);
    const plainVerdicts = parseVerdicts(files, plain);
    const strictVerdicts = parseVerdicts(files, strict);
    group.forEach((r, i) => {
      r.openssl = plainVerdicts.get(files[i] as string) as OpensslVerdict;
      r.strict = strictVerdicts.get(files[i] as string) as OpensslVerdict;
    });
  }
  return runs;
}
