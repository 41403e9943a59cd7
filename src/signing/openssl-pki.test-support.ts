// Certificate chains made by the openssl CLI inside the test, and `openssl verify`'s verdict on them,
// so a path-validation test can assert that OpenSSL and modelgate agree on the very same certificates.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface IssueOptions {
  /** Lines of the v3 extension section, e.g. "basicConstraints = critical,CA:TRUE". */
  extensions: string[];
  /** Issuer's name in this PKI; absent = self-signed. */
  issuer?: string;
  days?: number;
}

export interface OpensslVerdict {
  ok: boolean;
  output: string;
}

let serial = 1;

export class OpensslPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'modelgate-openssl-pki-'));

  private openssl(args: string[]): string {
    return execFileSync('openssl', args, {
      cwd: this.dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  private file(name: string): string {
    return join(this.dir, name);
  }

  /** Make a P-256 key and a certificate `name` with the given subject and v3 extensions. */
  issue(name: string, subject: string, options: IssueOptions): string {
    this.openssl([
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-out',
      `${name}.key`,
    ]);
    const config = this.file(`${name}.cnf`);
    writeFileSync(
      config,
      ['[req]', 'distinguished_name = dn', '[dn]', '[v3]', ...options.extensions, ''].join('\n'),
    );
    const days = String(options.days ?? 3650);
    if (options.issuer === undefined) {
      this.openssl([
        'req',
        '-x509',
        '-new',
        '-key',
        `${name}.key`,
        '-subj',
        subject,
        '-days',
        days,
        '-config',
        config,
        '-extensions',
        'v3',
        '-set_serial',
        String(serial++),
        '-out',
        `${name}.pem`,
      ]);
    } else {
      this.openssl([
        'req',
        '-new',
        '-key',
        `${name}.key`,
        '-subj',
        subject,
        '-config',
        config,
        '-out',
        `${name}.csr`,
      ]);
      this.openssl([
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        `${options.issuer}.pem`,
        '-CAkey',
        `${options.issuer}.key`,
        '-set_serial',
        String(serial++),
        '-days',
        days,
        '-extfile',
        config,
        '-extensions',
        'v3',
        '-out',
        `${name}.pem`,
      ]);
    }
    return this.pem(name);
  }

  pem(name: string): string {
    return readFileSync(this.file(`${name}.pem`), 'utf8');
  }

  keyPem(name: string): string {
    return readFileSync(this.file(`${name}.key`), 'utf8');
  }

  /** DER of certificate `name`. */
  der(name: string): Buffer {
    return execFileSync('openssl', ['x509', '-in', `${name}.pem`, '-outform', 'DER'], { cwd: this.dir });
  }

  /** `openssl verify` of `leaf` with `trusted` as -CAfile and `untrusted` intermediates. */
  verify(
    leaf: string,
    trusted: string[],
    untrusted: string[],
    options: { at?: Date; purpose?: string } = {},
  ): OpensslVerdict {
    const bundle = (names: string[], file: string) => {
      writeFileSync(this.file(file), names.map((n) => this.pem(n)).join(''));
      return file;
    };
    const args = ['verify', '-CAfile', bundle(trusted, 'trusted.pem')];
    if (untrusted.length > 0) args.push('-untrusted', bundle(untrusted, 'untrusted.pem'));
    if (options.at) args.push('-attime', String(Math.floor(options.at.getTime() / 1000)));
    if (options.purpose) args.push('-purpose', options.purpose);
    args.push(`${leaf}.pem`);
    const r = spawnSync('openssl', args, { cwd: this.dir, encoding: 'utf8' });
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Extension lines for common certificate shapes. */
export const EXT = {
  root: [
    'basicConstraints = critical,CA:TRUE',
    'keyUsage = critical,keyCertSign,cRLSign',
    'subjectKeyIdentifier = hash',
  ],
  intermediate: (...extra: string[]) => [
    'basicConstraints = critical,CA:TRUE',
    'keyUsage = critical,keyCertSign,cRLSign',
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
    ...extra,
  ],
  leaf: (...extra: string[]) => [
    'basicConstraints = critical,CA:FALSE',
    'keyUsage = critical,digitalSignature',
    'extendedKeyUsage = codeSigning',
    'authorityKeyIdentifier = keyid',
    ...extra,
  ],
};
