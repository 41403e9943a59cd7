// Registry credentials from Docker config JSON: a `kubernetes.io/dockerconfigjson` (or legacy
// `dockercfg`) pull Secret, or a Docker/Podman auth file. Matched to a registry the way the kubelet
// matches pull secrets (pkg/credentialprovider/keyring.go): a key is a host (optionally `*.`-wildcarded
// per label, with a port) and an optional path prefix of the repository; more specific keys first.
// Node credential providers (ECR, GCR, ACR plugins on the kubelet) cannot be reproduced here.
import { isObj } from '../json/shape.ts';
import type { RepositoryRef } from './reference.ts';

export interface RegistryCredential {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (`identitytoken`), exchanged at the token endpoint. */
  identityToken?: string;
  /** A bearer token used as is (`registrytoken`). */
  registryToken?: string;
  /** Where it came from, for log lines (never the secret itself). */
  source: string;
}

interface Entry {
  host: string;
  port?: string;
  path: string;
  credential: RegistryCredential;
}

export class CredentialError extends Error {}

/** Docker Hub's many names for itself. */
const DOCKER_HUB = new Set([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
]);

function parseKey(key: string): { host: string; port?: string; path: string } | undefined {
  let k = key.trim().toLowerCase();
  k = k.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  const slash = k.indexOf('/');
  let hostPort = slash >= 0 ? k.slice(0, slash) : k;
  let path = slash >= 0 ? k.slice(slash + 1).replace(/\/+$/, '') : '';
  if (hostPort === '') return undefined;
  if (DOCKER_HUB.has(hostPort.split(':')[0]!)) {
    hostPort = 'docker.io';
    if (path === 'v1' || path === 'v2') path = '';
  }
  const colon = hostPort.lastIndexOf(':');
  const host = colon >= 0 ? hostPort.slice(0, colon) : hostPort;
  const port = colon >= 0 ? hostPort.slice(colon + 1) : undefined;
  return { host, ...(port ? { port } : {}), path };
}

function credentialOf(v: unknown, source: string): RegistryCredential | undefined {
  if (!isObj(v)) return undefined;
  const c: RegistryCredential = { source };
  if (typeof v.auth === 'string' && v.auth !== '') {
    const decoded = Buffer.from(v.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new CredentialError(`${source}: "auth" is not base64 of user:password`);
    c.username = decoded.slice(0, colon);
    c.password = decoded.slice(colon + 1);
  }
  if (typeof v.username === 'string') c.username = v.username;
  if (typeof v.password === 'string') c.password = v.password;
  if (typeof v.identitytoken === 'string' && v.identitytoken !== '') c.identityToken = v.identitytoken;
  if (typeof v.registrytoken === 'string' && v.registrytoken !== '') c.registryToken = v.registrytoken;
  return c.username !== undefined || c.identityToken || c.registryToken ? c : undefined;
}

/** A set of credentials, most specific first when asked for a repository. */
export class Keyring {
  private readonly entries: Entry[] = [];

  /**
   * Adds the entries of Docker config JSON (`{"auths": {...}}` or the legacy top-level map). `source`
   * names it in messages (e.g. "Secret ns/name"). Throws CredentialError for text that is not one.
   */
  addDockerConfig(text: string, source: string): void {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new CredentialError(`${source} is not JSON: ${(err as Error).message}`);
    }
    if (!isObj(json)) throw new CredentialError(`${source} is not a JSON object`);
    const auths = isObj(json.auths) ? json.auths : json;
    for (const [key, v] of Object.entries(auths)) {
      const parsed = parseKey(key);
      const credential = credentialOf(v, source);
      if (parsed && credential) this.entries.push({ ...parsed, credential });
    }
  }

  get size(): number {
    return this.entries.length;
  }

  /** Credentials for a repository, most specific first (longer path, then fewer wildcards). */
  lookup(repo: RepositoryRef): RegistryCredential[] {
    const registry = repo.registry.toLowerCase();
    const colon = registry.lastIndexOf(':');
    const host = colon >= 0 && !registry.includes(']') ? registry.slice(0, colon) : registry;
    const port = colon >= 0 ? registry.slice(colon + 1) : undefined;
    const matches = this.entries.filter(
      (e) =>
        hostMatches(e.host, host) &&
        e.port === port &&
        (e.path === '' || repo.repository === e.path || repo.repository.startsWith(`${e.path}/`)),
    );
    const wildcards = (e: Entry) => e.host.split('.').filter((l) => l === '*').length;
    matches.sort((a, b) => b.path.length - a.path.length || wildcards(a) - wildcards(b));
    return matches.map((e) => e.credential);
  }
}

/** `*.example.com` matches `a.example.com`, not `example.com` nor `a.b.example.com` (one label per `*`). */
function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.split('.');
  const h = host.split('.');
  if (p.length !== h.length) return false;
  return p.every((label, i) => label === '*' || label === h[i]);
}
