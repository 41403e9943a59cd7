// A small OCI distribution client (distribution-spec v1.1): manifests, blobs (whole, by range, as a
// stream), the referrers API and its tag fallback, and the pushes `modelgate sign --attach` needs.
// Every response is bounded in size and time; content fetched by digest is checked against that digest;
// credentials go only to the registry they are for and the token endpoint it names; plain HTTP only for
// hosts configured as insecure. No library: the only maintained JavaScript OCI client (@sigstore/oci)
// attaches artifacts but neither lists referrers nor reads blobs by range, and pulls in npm's fetch stack.
import { createHash } from 'node:crypto';
import type { RegistryCredential } from './credentials.ts';
import { digestOf, isSha256Digest, MAX_MANIFEST_BYTES } from './manifest.ts';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from './media-types.ts';
import type { RepositoryRef } from './reference.ts';

/** Media types asked for when fetching a manifest. */
export const MANIFEST_ACCEPT = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST];

export class RegistryError extends Error {
  constructor(
    message: string,
    /** HTTP status, when the registry answered. */
    readonly status?: number,
    /** The registry could not be reached or did not answer in time (an outage, not a verdict). */
    readonly unreachable = false,
  ) {
    super(message);
  }
}

/** The registry answered a Range request with the whole blob. */
export class RangeNotSupported extends RegistryError {}

export interface RegistryClientOptions {
  /** Credentials for a repository, most specific first (a Keyring's lookup). */
  credentials?: (repo: RepositoryRef) => RegistryCredential[];
  /** Hosts (`host:port` as written in references) reached over plain HTTP. Default none. */
  insecureHosts?: ReadonlySet<string>;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  /** Injected for tests. */
  fetch?: typeof fetch;
  /** Aborts everything in flight (a stopping controller). */
  signal?: AbortSignal;
}

export interface FetchedManifest {
  bytes: Uint8Array;
  contentType: string;
  /** SHA-256 of the bytes; checked against the reference when it is a digest. */
  digest: string;
}

interface Token {
  value: string;
  expires: number;
}

const MAX_REDIRECTS = 3;
const MAX_TOKEN_BYTES = 64 * 1024;
const MAX_ERROR_BYTES = 4 * 1024;

/** Parses `Bearer realm="…",service="…",scope="…"` (RFC 7235 auth-params, quoted or token values). */
export function parseChallenge(
  header: string,
): { scheme: string; params: Record<string, string> } | undefined {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/g;
  for (let p = re.exec(m[2]!); p; p = re.exec(m[2]!))
    params[p[1]!.toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
  return { scheme: m[1]!.toLowerCase(), params };
}

async function readBounded(res: Response, max: number, what: string): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw new RegistryError(`${what} is ${declared} bytes, over the ${max}-byte limit modelgate reads`);
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      throw new RegistryError(`${what} is over the ${max}-byte limit modelgate reads`);
    }
    chunks.push(value);
  }
  const joined = Buffer.concat(chunks);
  return new Uint8Array(joined.buffer, joined.byteOffset, joined.length);
}

/** A tag or a digest, as the distribution spec's grammar allows: nothing else reaches a URL path. */
function checkedReference(reference: string): string {
  if (
    /^[\w][\w.-]{0,127}$/.test(reference) ||
    /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(reference)
  )
    return reference;
  throw new RegistryError(`"${reference.slice(0, 80)}" is neither a tag nor a digest`);
}

const encodeRepo = (repository: string) => repository.split('/').map(encodeURIComponent).join('/');

export class RegistryClient {
  private readonly tokens = new Map<string, Token>();
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly o: RegistryClientOptions = {}) {
    this.fetchImpl = o.fetch ?? fetch;
  }

  private base(repo: RepositoryRef): string {
    const insecure = this.o.insecureHosts?.has(repo.registry) ?? false;
    return `${insecure ? 'http' : 'https'}://${repo.apiHost}/v2/${encodeRepo(repo.repository)}`;
  }

  /** A path under the repository, or an absolute URL the registry gave (Location, Link), which must stay on it. */
  private url(repo: RepositoryRef, pathOrUrl: string): string {
    const base = this.base(repo);
    if (pathOrUrl.startsWith('/') && !pathOrUrl.startsWith('/v2/')) return `${base}${pathOrUrl}`;
    const u = new URL(pathOrUrl, base);
    if (u.origin !== new URL(base).origin)
      throw new RegistryError(
        `${repo.registry} pointed to another origin (${u.origin}), which modelgate does not follow`,
      );
    return u.href;
  }

  private signal(): AbortSignal {
    const t = AbortSignal.timeout(this.o.timeoutMs ?? 10_000);
    return this.o.signal ? AbortSignal.any([t, this.o.signal]) : t;
  }

  /** One HTTP exchange with redirects followed by hand (credentials never leave the registry's origin). */
  private async exchange(
    url: string,
    init: RequestInit & { headers: Record<string, string> },
  ): Promise<Response> {
    let current = url;
    const origin = new URL(url).origin;
    for (let hop = 0; ; hop++) {
      let res: Response;
      try {
        res = await this.fetchImpl(current, { ...init, redirect: 'manual', signal: this.signal() });
      } catch (err) {
        const e = err as Error & { cause?: { code?: string } };
        const why =
          e.name === 'TimeoutError'
            ? `no answer within ${this.o.timeoutMs ?? 10_000} ms`
            : (e.cause?.code ?? e.message);
        throw new RegistryError(`cannot reach ${new URL(current).host}: ${why}`, undefined, true);
      }
      if (res.status < 300 || res.status >= 400 || res.status === 304) return res;
      const location = res.headers.get('location');
      await res.body?.cancel().catch(() => undefined);
      if (!location || hop >= MAX_REDIRECTS)
        throw new RegistryError(`too many redirects from ${new URL(url).host}`, res.status);
      const next = new URL(location, current);
      if (next.protocol !== 'https:' && !(next.protocol === 'http:' && new URL(url).protocol === 'http:'))
        throw new RegistryError(
          `the registry redirected to ${next.protocol} ${next.host}, which modelgate does not follow`,
        );
      if (next.origin !== origin) {
        const { authorization: _dropped, ...rest } = init.headers;
        init = { ...init, headers: rest };
      }
      current = next.href;
    }
  }

  /**
   * A request with the registry's auth dance: anonymous (or a cached token) first; on 401, a Bearer
   * token from the realm the registry names (with each matching credential in turn) or Basic auth.
   */
  private async request(
    repo: RepositoryRef,
    path: string,
    init: { method?: string; headers?: Record<string, string>; body?: Uint8Array; push?: boolean } = {},
  ): Promise<Response> {
    const url = this.url(repo, path);
    const scope = `repository:${repo.repository}:${init.push ? 'pull,push' : 'pull'}`;
    const key = `${repo.apiHost}|${scope}`;
    const headers: Record<string, string> = { ...init.headers };
    const cached = this.tokens.get(key);
    if (cached && cached.expires > Date.now()) headers.authorization = `Bearer ${cached.value}`;
    const send = (h: Record<string, string>) =>
      this.exchange(url, {
        method: init.method ?? 'GET',
        headers: h,
        ...(init.body ? { body: init.body } : {}),
      });
    let res = await send(headers);
    if (res.status !== 401) return res;
    const challenge = parseChallenge(res.headers.get('www-authenticate') ?? '');
    await res.body?.cancel().catch(() => undefined);
    const creds = this.o.credentials?.(repo) ?? [];
    if (challenge?.scheme === 'basic') {
      for (const c of creds) {
        if (c.username === undefined) continue;
        res = await send({
          ...init.headers,
          authorization: `Basic ${Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')}`,
        });
        if (res.status !== 401) return res;
        await res.body?.cancel().catch(() => undefined);
      }
      throw new RegistryError(
        `${repo.registry} refused ${creds.length ? 'the credentials given' : 'anonymous access'} (401) for ${repo.repository}`,
        401,
      );
    }
    if (challenge?.scheme !== 'bearer' || !challenge.params.realm)
      throw new RegistryError(`${repo.registry} answered 401 without a usable challenge`, 401);
    for (const c of [undefined, ...creds]) {
      if (c === undefined && creds.length > 0) continue; // anonymous only when there is nothing else
      const token = await this.token(challenge.params, scope, c, repo);
      if (!token) continue;
      res = await send({ ...init.headers, authorization: `Bearer ${token.value}` });
      if (res.status !== 401 && res.status !== 403) {
        this.tokens.set(key, token);
        if (this.tokens.size > 256) this.tokens.delete(this.tokens.keys().next().value ?? '');
        return res;
      }
      await res.body?.cancel().catch(() => undefined);
    }
    throw new RegistryError(
      `${repo.registry} refused ${creds.length ? `the credentials given (${creds.map((c) => c.source).join(', ')})` : 'anonymous access'} for ${repo.repository}: give modelgate a pull secret for it`,
      401,
    );
  }

  private async token(
    params: Record<string, string>,
    scope: string,
    c: RegistryCredential | undefined,
    repo: RepositoryRef,
  ): Promise<Token | undefined> {
    if (c?.registryToken) return { value: c.registryToken, expires: Date.now() + 60_000 };
    const realm = new URL(params.realm!);
    const insecure = this.o.insecureHosts?.has(repo.registry) ?? false;
    if (realm.protocol !== 'https:' && !(insecure && realm.protocol === 'http:'))
      throw new RegistryError(
        `${repo.registry} names a token endpoint over ${realm.protocol} (${realm.host}), which modelgate does not call`,
      );
    const headers: Record<string, string> = {};
    let init: RequestInit;
    if (c?.identityToken) {
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: c.identityToken,
        scope,
        service: params.service ?? '',
        client_id: 'modelgate',
      });
      init = { method: 'POST', body: form.toString() };
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else {
      if (params.service) realm.searchParams.set('service', params.service);
      realm.searchParams.set('scope', scope);
      if (c?.username !== undefined)
        headers.authorization = `Basic ${Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')}`;
      init = { method: 'GET' };
    }
    const res = await this.exchange(realm.href, { ...init, headers });
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel().catch(() => undefined);
      return undefined;
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      throw new RegistryError(`the token endpoint of ${repo.registry} answered ${res.status}`, res.status);
    }
    const body = JSON.parse(
      Buffer.from(await readBounded(res, MAX_TOKEN_BYTES, 'the token response')).toString('utf8'),
    ) as Record<string, unknown>;
    const value =
      typeof body.token === 'string'
        ? body.token
        : typeof body.access_token === 'string'
          ? body.access_token
          : undefined;
    if (!value) throw new RegistryError(`the token endpoint of ${repo.registry} returned no token`);
    const ttl = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60;
    return { value, expires: Date.now() + Math.min(ttl, 3600) * 1000 - 5000 };
  }

  private async fail(res: Response, what: string): Promise<never> {
    const text = Buffer.from(
      await readBounded(res, MAX_ERROR_BYTES, 'the error').catch(() => new Uint8Array()),
    ).toString('utf8');
    let detail = '';
    try {
      const j = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
      detail = j.errors?.map((e) => `${e.code ?? ''} ${e.message ?? ''}`.trim()).join('; ') ?? '';
    } catch {
      detail = text.slice(0, 200);
    }
    throw new RegistryError(
      `${what}: ${res.status}${detail ? ` (${detail})` : ''}`,
      res.status,
      res.status >= 500 || res.status === 429,
    );
  }

  /** A manifest or index by tag or digest; by digest, the bytes must hash to it. */
  async getManifest(
    repo: RepositoryRef,
    reference: string,
    maxBytes = MAX_MANIFEST_BYTES,
  ): Promise<FetchedManifest | undefined> {
    const res = await this.request(repo, `/manifests/${checkedReference(reference)}`, {
      headers: { accept: MANIFEST_ACCEPT.join(', ') },
    });
    if (res.status === 404) {
      await res.body?.cancel().catch(() => undefined);
      return undefined;
    }
    if (res.status !== 200)
      return this.fail(res, `GET manifest ${reference} of ${repo.registry}/${repo.repository}`);
    const bytes = await readBounded(res, maxBytes, `manifest ${reference}`);
    const digest = digestOf(bytes);
    if (isSha256Digest(reference) && digest !== reference)
      throw new RegistryError(
        `${repo.registry} served manifest ${reference} with content whose digest is ${digest}`,
      );
    return { bytes, contentType: res.headers.get('content-type') ?? '', digest };
  }

  /** A whole blob, at most `maxBytes`, checked against its digest. */
  async getBlob(repo: RepositoryRef, digest: string, maxBytes: number): Promise<Uint8Array> {
    const res = await this.request(repo, `/blobs/${checkedReference(digest)}`);
    if (res.status !== 200)
      return this.fail(res, `GET blob ${digest} of ${repo.registry}/${repo.repository}`);
    const bytes = await readBounded(res, maxBytes, `blob ${digest}`);
    if (digestOf(bytes) !== digest)
      throw new RegistryError(`${repo.registry} served blob ${digest} with other content`);
    return bytes;
  }

  /**
   * `length` bytes of a blob at `offset` (HTTP Range, which the distribution spec leaves optional). A
   * registry that ignores Range (200) gets RangeNotSupported: the caller streams the blob instead. The
   * bytes are not checked against the digest (only a whole blob can be): callers that must know them
   * exact stream the blob.
   */
  async getBlobRange(
    repo: RepositoryRef,
    digest: string,
    offset: number,
    length: number,
  ): Promise<Uint8Array> {
    if (length <= 0) return new Uint8Array(0);
    const res = await this.request(repo, `/blobs/${checkedReference(digest)}`, {
      headers: { range: `bytes=${offset}-${offset + length - 1}` },
    });
    if (res.status === 416) {
      await res.body?.cancel().catch(() => undefined);
      return new Uint8Array(0);
    }
    if (res.status === 200) {
      await res.body?.cancel().catch(() => undefined);
      throw new RangeNotSupported(`${repo.registry} does not serve byte ranges of blobs`);
    }
    if (res.status !== 206) return this.fail(res, `GET blob ${digest} range`);
    return readBounded(res, length, `a range of blob ${digest}`);
  }

  /** A blob as a stream of chunks whose SHA-256 is checked when it ends (an error then, not silence). */
  async *streamBlob(repo: RepositoryRef, digest: string, maxBytes: number): AsyncGenerator<Uint8Array> {
    const res = await this.request(repo, `/blobs/${checkedReference(digest)}`);
    if (res.status !== 200) await this.fail(res, `GET blob ${digest}`);
    if (!res.body) throw new RegistryError(`blob ${digest} has no body`);
    const hash = createHash('sha256');
    let total = 0;
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.length;
        if (total > maxBytes)
          throw new RegistryError(`blob ${digest} is over the ${maxBytes}-byte limit modelgate reads`);
        hash.update(value);
        yield value;
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
    if (`sha256:${hash.digest('hex')}` !== digest)
      throw new RegistryError(`${repo.registry} served blob ${digest} with other content`);
  }

  /**
   * The referrers of `digest`: the OCI 1.1 API, or — when the registry does not serve it (404) — the
   * `sha256-<hex>` tag that clients maintain instead. `artifactType` is passed as a filter; whether the
   * registry applied it is returned, so the caller filters itself when it did not.
   */
  async referrers(
    repo: RepositoryRef,
    digest: string,
    opts: { artifactType?: string; maxBytes?: number; maxPages?: number } = {},
  ): Promise<{ api: 'referrers' | 'tag'; documents: FetchedManifest[]; filtered: boolean }> {
    const query = opts.artifactType ? `?artifactType=${encodeURIComponent(opts.artifactType)}` : '';
    let res = await this.request(repo, `/referrers/${checkedReference(digest)}${query}`, {
      headers: { accept: OCI_INDEX },
    });
    if (res.status === 404 || res.status === 405) {
      await res.body?.cancel().catch(() => undefined);
      const tag = await this.getManifest(repo, digest.replace(':', '-'), opts.maxBytes);
      return { api: 'tag', documents: tag ? [tag] : [], filtered: false };
    }
    const documents: FetchedManifest[] = [];
    const filtered = (res.headers.get('oci-filters-applied') ?? '')
      .split(',')
      .map((s) => s.trim())
      .includes('artifactType');
    for (let page = 0; ; page++) {
      if (res.status !== 200) return this.fail(res, `GET referrers of ${digest}`);
      const bytes = await readBounded(res, opts.maxBytes ?? MAX_MANIFEST_BYTES, 'the referrers list');
      documents.push({
        bytes,
        contentType: res.headers.get('content-type') ?? OCI_INDEX,
        digest: digestOf(bytes),
      });
      const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.get('link') ?? '')?.[1];
      if (!next || page + 1 >= (opts.maxPages ?? 4)) break;
      // Pages come from the same registry, or not at all (url() refuses another origin).
      res = await this.request(repo, next, { headers: { accept: OCI_INDEX } });
    }
    return { api: 'referrers', documents, filtered };
  }

  async blobExists(repo: RepositoryRef, digest: string, push = false): Promise<boolean> {
    const res = await this.request(repo, `/blobs/${checkedReference(digest)}`, { method: 'HEAD', push });
    await res.body?.cancel().catch(() => undefined);
    return res.status === 200;
  }

  /** Uploads a blob (POST then PUT, the flow every registry serves) unless it is already there. */
  async putBlob(repo: RepositoryRef, bytes: Uint8Array): Promise<string> {
    const digest = digestOf(bytes);
    if (await this.blobExists(repo, digest, true)) return digest;
    const start = await this.request(repo, '/blobs/uploads/', {
      method: 'POST',
      push: true,
      headers: { 'content-length': '0' },
    });
    if (start.status !== 202)
      return this.fail(start, `starting an upload to ${repo.registry}/${repo.repository}`);
    await start.body?.cancel().catch(() => undefined);
    const location = start.headers.get('location');
    if (!location) throw new RegistryError(`${repo.registry} started an upload without a Location`);
    const url = new URL(this.url(repo, location));
    url.searchParams.set('digest', digest);
    const done = await this.request(repo, url.href, {
      method: 'PUT',
      push: true,
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    if (done.status !== 201) return this.fail(done, `uploading blob ${digest}`);
    await done.body?.cancel().catch(() => undefined);
    return digest;
  }

  /** Pushes a manifest under a tag or its digest; returns the `OCI-Subject` header (set by registries with the referrers API). */
  async putManifest(
    repo: RepositoryRef,
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
  ): Promise<{ digest: string; subject?: string }> {
    const res = await this.request(repo, `/manifests/${checkedReference(reference)}`, {
      method: 'PUT',
      push: true,
      headers: { 'content-type': mediaType },
      body: bytes,
    });
    if (res.status !== 201 && res.status !== 200) return this.fail(res, `pushing manifest ${reference}`);
    await res.body?.cancel().catch(() => undefined);
    const subject = res.headers.get('oci-subject') ?? undefined;
    return { digest: digestOf(bytes), ...(subject ? { subject } : {}) };
  }
}
