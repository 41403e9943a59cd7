// Where the API server is and how to authenticate to it: a kubeconfig file (kubectl's semantics for
// the parts a controller uses), or the pod's service account in a cluster. This replaces
// @kubernetes/client-node's KubeConfig in the controller, whose import alone loads the whole generated
// API (about 57 MiB of resident memory, a third of the controller's budget at 10,000 workloads) to
// read a few fields. HttpKubeClient accepts either: both satisfy `KubeAccess`.
//
// Supported: clusters (server, certificate-authority[-data], insecure-skip-tls-verify,
// tls-server-name), users (client-certificate[-data] + client-key[-data], token, tokenFile,
// username/password, exec credential plugins, cached until their expirationTimestamp), $KUBECONFIG
// lists (merged: the first file that sets a name wins), in-cluster service accounts (token re-read, as
// it rotates). Legacy auth-provider plugins and proxy-url are refused with the fix.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type https from 'node:https';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import yaml from 'js-yaml';
import { isObj } from '../json/shape.ts';

/** What HttpKubeClient needs; @kubernetes/client-node's KubeConfig has the same two methods. */
export interface KubeAccess {
  getCurrentCluster(): { server: string } | null;
  /** Sets TLS material and the Authorization header on `opts`; called for every request (tokens rotate). */
  applyToHTTPSOptions(opts: https.RequestOptions): Promise<void>;
}

/** A kubeconfig (or service account) that cannot be used, with what to do about it. */
export class KubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

type Obj = Record<string, unknown>;

interface ExecConfig {
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  apiVersion: string;
  provideClusterInfo: boolean;
}

interface Resolved {
  server: string;
  ca?: Buffer;
  insecure: boolean;
  tlsServerName?: string;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  tokenFile?: string;
  basic?: string;
  exec?: ExecConfig;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
/** Named entries of a kubeconfig list (`clusters`, `users`, `contexts`). */
const named = (v: unknown): { name: string; body: Obj }[] =>
  (Array.isArray(v) ? v : [])
    .filter(isObj)
    .filter((e) => typeof e.name === 'string')
    .map((e) => ({ name: e.name as string, body: e }));

export class Kubeconfig implements KubeAccess {
  private cachedToken: { value: string; until: number } | undefined;
  private execCredential: Promise<{ token?: string; cert?: Buffer; key?: Buffer; until: number }> | undefined;

  private constructor(
    private readonly r: Resolved,
    /** Where the configuration came from, for error messages. */
    readonly source: string,
  ) {}

  /** `path`, else the in-cluster service account, else $KUBECONFIG / ~/.kube/config (kubectl's order for a controller). */
  static load(path?: string): Kubeconfig {
    if (path) return Kubeconfig.fromFiles([path]);
    if (process.env.KUBERNETES_SERVICE_HOST) return Kubeconfig.inCluster();
    const env = process.env.KUBECONFIG;
    const files = env ? env.split(delimiter).filter(Boolean) : [join(homedir(), '.kube', 'config')];
    return Kubeconfig.fromFiles(files);
  }

  /** The pod's service account: the API server's Service, its CA, and a token re-read as it rotates. */
  static inCluster(dir = SERVICE_ACCOUNT_DIR): Kubeconfig {
    const host = process.env.KUBERNETES_SERVICE_HOST;
    const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
    if (!host)
      throw new KubeconfigError(
        'not running in a cluster ($KUBERNETES_SERVICE_HOST is not set): pass --kubeconfig',
      );
    let ca: Buffer;
    try {
      ca = readFileSync(join(dir, 'ca.crt'));
    } catch (err) {
      throw new KubeconfigError(
        `cannot read the service account CA ${join(dir, 'ca.crt')}: ${(err as Error).message}; is automountServiceAccountToken disabled for this pod?`,
      );
    }
    const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
    return new Kubeconfig({ server, ca, insecure: false, tokenFile: join(dir, 'token') }, 'in-cluster');
  }

  /** One kubeconfig, or several merged as kubectl merges $KUBECONFIG (the first to set a name wins). */
  static fromFiles(files: readonly string[]): Kubeconfig {
    const merged = {
      clusters: new Map<string, Obj>(),
      users: new Map<string, Obj>(),
      contexts: new Map<string, Obj>(),
    };
    let current: string | undefined;
    const seen: string[] = [];
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        if (files.length > 1 && (err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw new KubeconfigError(`cannot read ${file}: ${(err as Error).message}`);
      }
      let doc: unknown;
      try {
        doc = yaml.load(text);
      } catch (err) {
        throw new KubeconfigError(`${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
      }
      if (!isObj(doc)) throw new KubeconfigError(`${file} is not a kubeconfig (expected a mapping)`);
      seen.push(file);
      const base = dirname(file);
      // Relative file paths in a kubeconfig are relative to that file (kubectl's rule).
      const rebase = (o: Obj, keys: string[]): Obj => {
        const out = { ...o };
        for (const k of keys) {
          const v = str(out[k]);
          if (v && !isAbsolute(v)) out[k] = join(base, v);
        }
        return out;
      };
      for (const { name, body } of named(doc.clusters))
        if (!merged.clusters.has(name))
          merged.clusters.set(
            name,
            rebase(isObj(body.cluster) ? body.cluster : {}, ['certificate-authority']),
          );
      for (const { name, body } of named(doc.users))
        if (!merged.users.has(name))
          merged.users.set(
            name,
            rebase(isObj(body.user) ? body.user : {}, ['client-certificate', 'client-key', 'tokenFile']),
          );
      for (const { name, body } of named(doc.contexts))
        if (!merged.contexts.has(name)) merged.contexts.set(name, isObj(body.context) ? body.context : {});
      current ??= str(doc['current-context']);
    }
    const source = seen.join(delimiter) || files.join(delimiter);
    if (seen.length === 0) throw new KubeconfigError(`no kubeconfig found (looked for ${files.join(', ')})`);
    if (!current)
      throw new KubeconfigError(`${source} has no current-context: set one with kubectl config use-context`);
    const context = merged.contexts.get(current);
    if (!context)
      throw new KubeconfigError(`${source}: current-context "${current}" is not among its contexts`);
    const clusterName = str(context.cluster) ?? '';
    const cluster = merged.clusters.get(clusterName);
    if (!cluster)
      throw new KubeconfigError(
        `${source}: context "${current}" names cluster "${clusterName}", which is not defined`,
      );
    const userName = str(context.user);
    const user = userName ? merged.users.get(userName) : {};
    if (!user)
      throw new KubeconfigError(
        `${source}: context "${current}" names user "${userName}", which is not defined`,
      );
    return new Kubeconfig(resolve(cluster, user, source), source);
  }

  getCurrentCluster(): { server: string } {
    return { server: this.r.server };
  }

  async applyToHTTPSOptions(opts: https.RequestOptions): Promise<void> {
    const r = this.r;
    if (r.ca) opts.ca = r.ca;
    if (r.insecure) opts.rejectUnauthorized = false;
    if (r.tlsServerName) opts.servername = r.tlsServerName;
    if (r.cert) opts.cert = r.cert;
    if (r.key) opts.key = r.key;
    let bearer = r.token ?? (r.tokenFile ? this.fileToken(r.tokenFile) : undefined);
    if (r.exec) {
      const c = await this.execCredentials(r.exec);
      if (c.token) bearer = c.token;
      if (c.cert) opts.cert = c.cert;
      if (c.key) opts.key = c.key;
    }
    const headers = (opts.headers ?? {}) as Record<string, string>;
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    else if (r.basic) headers.Authorization = `Basic ${r.basic}`;
    opts.headers = headers;
  }

  /** The token of a token file, re-read every minute (service account tokens rotate). */
  private fileToken(file: string): string {
    const now = Date.now();
    if (this.cachedToken && now < this.cachedToken.until) return this.cachedToken.value;
    let value: string;
    try {
      value = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new KubeconfigError(`cannot read the token file ${file}: ${(err as Error).message}`);
    }
    this.cachedToken = { value, until: now + 60_000 };
    return value;
  }

  /** Runs the exec credential plugin; its answer is kept until its expirationTimestamp. */
  private execCredentials(
    exec: ExecConfig,
  ): Promise<{ token?: string; cert?: Buffer; key?: Buffer; until: number }> {
    const cached = this.execCredential;
    if (cached) {
      return cached.then((c) => {
        if (Date.now() < c.until) return c;
        this.execCredential = undefined;
        return this.execCredentials(exec);
      });
    }
    const info = {
      apiVersion: exec.apiVersion,
      kind: 'ExecCredential',
      spec: {
        interactive: false,
        ...(exec.provideClusterInfo
          ? { cluster: { server: this.r.server, 'insecure-skip-tls-verify': this.r.insecure } }
          : {}),
      },
    };
    const run = new Promise<{ token?: string; cert?: Buffer; key?: Buffer; until: number }>((res, rej) => {
      execFile(
        exec.command,
        exec.args,
        {
          env: {
            ...process.env,
            ...Object.fromEntries(exec.env.map((e) => [e.name, e.value])),
            KUBERNETES_EXEC_INFO: JSON.stringify(info),
          },
          timeout: 60_000,
          maxBuffer: 1 << 20,
        },
        (err, stdout) => {
          if (err)
            return rej(
              new KubeconfigError(
                `the kubeconfig's exec credential plugin ${exec.command} failed: ${err.message.split('\n')[0]}`,
              ),
            );
          let parsed: unknown;
          try {
            parsed = JSON.parse(stdout);
          } catch {
            return rej(
              new KubeconfigError(
                `the exec credential plugin ${exec.command} did not print an ExecCredential (JSON)`,
              ),
            );
          }
          const status = isObj(parsed) && isObj(parsed.status) ? parsed.status : {};
          const expires = str(status.expirationTimestamp);
          const until = expires ? Date.parse(expires) - 10_000 : Number.POSITIVE_INFINITY;
          const token = str(status.token);
          const cert = str(status.clientCertificateData);
          const key = str(status.clientKeyData);
          if (!token && !(cert && key))
            return rej(
              new KubeconfigError(
                `the exec credential plugin ${exec.command} returned neither a token nor a client certificate`,
              ),
            );
          res({
            ...(token ? { token } : {}),
            ...(cert ? { cert: Buffer.from(cert) } : {}),
            ...(key ? { key: Buffer.from(key) } : {}),
            until,
          });
        },
      );
    });
    this.execCredential = run;
    run.catch(() => (this.execCredential = undefined));
    return run;
  }
}

function readPem(
  source: string,
  what: string,
  file: string | undefined,
  data: string | undefined,
): Buffer | undefined {
  if (data) return Buffer.from(data, 'base64');
  if (!file) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new KubeconfigError(`${source}: cannot read the ${what} ${file}: ${(err as Error).message}`);
  }
}

function resolve(cluster: Obj, user: Obj, source: string): Resolved {
  const server = str(cluster.server);
  if (!server) throw new KubeconfigError(`${source}: the current cluster has no server`);
  if (str(cluster['proxy-url']))
    throw new KubeconfigError(
      `${source}: proxy-url is not supported by modelgate; reach the API server directly`,
    );
  if (isObj(user['auth-provider']))
    throw new KubeconfigError(
      `${source}: the legacy auth-provider "${str(user['auth-provider'].name) ?? '?'}" is not supported: use an exec credential plugin (e.g. gke-gcloud-auth-plugin, kubelogin)`,
    );
  const out: Resolved = {
    server,
    insecure: cluster['insecure-skip-tls-verify'] === true,
  };
  const ca = readPem(
    source,
    'certificate authority',
    str(cluster['certificate-authority']),
    str(cluster['certificate-authority-data']),
  );
  if (ca) out.ca = ca;
  const tlsServerName = str(cluster['tls-server-name']);
  if (tlsServerName) out.tlsServerName = tlsServerName;
  const cert = readPem(
    source,
    'client certificate',
    str(user['client-certificate']),
    str(user['client-certificate-data']),
  );
  const key = readPem(source, 'client key', str(user['client-key']), str(user['client-key-data']));
  if (cert) out.cert = cert;
  if (key) out.key = key;
  const token = str(user.token);
  if (token) out.token = token;
  const tokenFile = str(user.tokenFile);
  if (tokenFile) out.tokenFile = tokenFile;
  const username = str(user.username);
  if (username) out.basic = Buffer.from(`${username}:${str(user.password) ?? ''}`).toString('base64');
  if (isObj(user.exec)) {
    const e = user.exec;
    const command = str(e.command);
    if (!command) throw new KubeconfigError(`${source}: the user's exec plugin has no command`);
    out.exec = {
      command,
      args: Array.isArray(e.args) ? e.args.filter((a): a is string => typeof a === 'string') : [],
      env: (Array.isArray(e.env) ? e.env : [])
        .filter(isObj)
        .map((v) => ({ name: str(v.name) ?? '', value: typeof v.value === 'string' ? v.value : '' }))
        .filter((v) => v.name),
      apiVersion: str(e.apiVersion) ?? 'client.authentication.k8s.io/v1',
      provideClusterInfo: e.provideClusterInfo === true,
    };
  }
  return out;
}
