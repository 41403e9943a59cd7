// An in-process OCI registry on 127.0.0.1 for unit tests: manifests, blobs (optionally with Range),
// uploads, the referrers API in the three behaviours the real test registry offers (`spec`,
// `config-media-type` as go-containerregistry reports it, `none` for the tag fallback), optional Bearer
// token auth, pages of referrers, and an outage switch. The e2e suite uses the real registry instead.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ReferrersMode = 'spec' | 'config-media-type' | 'none';

export interface FakeRegistryOptions {
  referrers?: ReferrersMode;
  /** Require `user:password` through a Bearer token flow. */
  auth?: { user: string; password: string };
  /** Serve byte ranges of blobs (default true). */
  ranges?: boolean;
  /** Referrers per page (default: all on one page). */
  pageSize?: number;
}

const digestOf = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface StoredManifest {
  bytes: Buffer;
  type: string;
}

export class FakeRegistry {
  readonly blobs = new Map<string, Buffer>();
  /** repo -> reference (tag or digest) -> manifest */
  readonly manifests = new Map<string, Map<string, StoredManifest>>();
  readonly requests: { method: string; path: string; range?: string }[] = [];
  status: number | undefined;
  private server: Server | undefined;
  private uploads = 0;
  private readonly tokens = new Set<string>();

  constructor(readonly opts: FakeRegistryOptions = {}) {}

  /** `127.0.0.1:<port>`: the registry as written in references. */
  host = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req, res).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.host = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  /** Stores a blob; returns its digest. */
  putBlob(bytes: Uint8Array): string {
    const d = digestOf(bytes);
    this.blobs.set(d, Buffer.from(bytes));
    return d;
  }

  /** Stores a manifest under its digest and optional tag; returns its digest. */
  putManifest(repo: string, bytes: Uint8Array, type: string, tag?: string): string {
    const d = digestOf(bytes);
    const m = this.manifests.get(repo) ?? new Map<string, StoredManifest>();
    m.set(d, { bytes: Buffer.from(bytes), type });
    if (tag) m.set(tag, { bytes: Buffer.from(bytes), type });
    this.manifests.set(repo, m);
    return d;
  }

  private async body(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  private authorised(req: IncomingMessage, res: ServerResponse): boolean {
    if (!this.opts.auth) return true;
    const h = req.headers.authorization ?? '';
    if (h.startsWith('Bearer ') && this.tokens.has(h.slice(7))) return true;
    res.statusCode = 401;
    res.setHeader('www-authenticate', `Bearer realm="http://${this.host}/token",service="fake",scope="x"`);
    res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
    return false;
  }

  private referrersOf(repo: string, subject: string, artifactType: string | undefined) {
    const out: Record<string, unknown>[] = [];
    const seen = new Set<string>();
    for (const [ref, m] of this.manifests.get(repo) ?? []) {
      if (!ref.startsWith('sha256:') || seen.has(ref)) continue;
      seen.add(ref);
      const doc = JSON.parse(m.bytes.toString('utf8')) as Record<string, unknown> & {
        subject?: { digest?: string };
        config?: { mediaType?: string };
        annotations?: Record<string, string>;
        artifactType?: string;
      };
      if (doc.subject?.digest !== subject) continue;
      const type =
        this.opts.referrers === 'config-media-type'
          ? doc.config?.mediaType
          : (doc.artifactType ?? doc.config?.mediaType);
      if (this.opts.referrers === 'spec' && artifactType && type !== artifactType) continue;
      out.push({
        mediaType: m.type,
        digest: ref,
        size: m.bytes.length,
        ...(type ? { artifactType: type } : {}),
        ...(doc.annotations ? { annotations: doc.annotations } : {}),
      });
    }
    return out;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${this.host}`);
    this.requests.push({
      method: req.method ?? 'GET',
      path: url.pathname + url.search,
      ...(req.headers.range ? { range: req.headers.range } : {}),
    });
    if (this.status !== undefined) {
      res.statusCode = this.status;
      res.end();
      return;
    }
    if (url.pathname === '/token') {
      const expect = `Basic ${Buffer.from(`${this.opts.auth?.user}:${this.opts.auth?.password}`).toString('base64')}`;
      if (req.headers.authorization !== expect) {
        res.statusCode = 401;
        res.end();
        return;
      }
      const token = `t${this.tokens.size}`;
      this.tokens.add(token);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ token, expires_in: 300 }));
      return;
    }
    if (!this.authorised(req, res)) return;
    const m = /^\/v2\/(.+)\/(manifests|blobs|referrers)\/(.+)$/.exec(url.pathname);
    if (!m) {
      res.statusCode = url.pathname === '/v2/' ? 200 : 404;
      res.end();
      return;
    }
    const [, repo, kind, ref] = m as unknown as [string, string, string, string];
    if (kind === 'referrers') {
      if (this.opts.referrers === 'none' || !this.opts.referrers) {
        res.statusCode = 404;
        res.end();
        return;
      }
      const filter = url.searchParams.get('artifactType') ?? undefined;
      const all = this.referrersOf(repo, ref, filter);
      const size = this.opts.pageSize ?? all.length;
      const page = Number(url.searchParams.get('page') ?? '0');
      const items = all.slice(page * size, (page + 1) * size);
      if ((page + 1) * size < all.length)
        res.setHeader(
          'link',
          `</v2/${repo}/referrers/${ref}?page=${page + 1}${filter ? `&artifactType=${encodeURIComponent(filter)}` : ''}>; rel="next"`,
        );
      if (this.opts.referrers === 'spec' && filter) res.setHeader('oci-filters-applied', 'artifactType');
      res.setHeader('content-type', 'application/vnd.oci.image.index.v1+json');
      res.end(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.index.v1+json',
          manifests: items,
        }),
      );
      return;
    }
    if (kind === 'manifests') {
      if (req.method === 'PUT') {
        const bytes = await this.body(req);
        const type = String(req.headers['content-type'] ?? '');
        const d = this.putManifest(repo, bytes, type, ref.startsWith('sha256:') ? undefined : ref);
        res.statusCode = 201;
        res.setHeader('docker-content-digest', d);
        const doc = JSON.parse(bytes.toString('utf8')) as { subject?: { digest?: string } };
        if (doc.subject?.digest && this.opts.referrers && this.opts.referrers !== 'none')
          res.setHeader('oci-subject', doc.subject.digest);
        res.end();
        return;
      }
      const stored = this.manifests.get(repo)?.get(ref);
      if (!stored) {
        res.statusCode = 404;
        res.end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
        return;
      }
      res.setHeader('content-type', stored.type);
      res.setHeader('content-length', String(stored.bytes.length));
      res.end(req.method === 'HEAD' ? undefined : stored.bytes);
      return;
    }
    // blobs
    if (ref.startsWith('uploads')) {
      if (req.method === 'POST') {
        res.statusCode = 202;
        res.setHeader('location', `/v2/${repo}/blobs/uploads/u${this.uploads++}`);
        res.end();
        return;
      }
      const bytes = await this.body(req);
      const d = url.searchParams.get('digest');
      if (d !== digestOf(bytes)) {
        res.statusCode = 400;
        res.end('{"errors":[{"code":"DIGEST_INVALID"}]}');
        return;
      }
      this.blobs.set(d, bytes);
      res.statusCode = 201;
      res.end();
      return;
    }
    const blob = this.blobs.get(ref);
    if (!blob) {
      res.statusCode = 404;
      res.end('{"errors":[{"code":"BLOB_UNKNOWN"}]}');
      return;
    }
    const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (range && this.opts.ranges !== false) {
      const start = Number(range[1]);
      const end = Math.min(Number(range[2]), blob.length - 1);
      if (start >= blob.length) {
        res.statusCode = 416;
        res.end();
        return;
      }
      res.statusCode = 206;
      res.setHeader('content-range', `bytes ${start}-${end}/${blob.length}`);
      res.end(blob.subarray(start, end + 1));
      return;
    }
    res.setHeader('content-length', String(blob.length));
    res.end(req.method === 'HEAD' ? undefined : blob);
  }
}
