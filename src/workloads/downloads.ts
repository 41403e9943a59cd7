// Where models come from when they are downloaded: the endpoints and caches download clients read from
// the environment (a redirect or a persistent cache changes whose bytes are loaded), and downloaders —
// init containers that fetch sources into a volume a server then reads.
import type { Candidate, CommandLineReading } from './command-line.ts';
import type { ContainerContext, ContainerView } from './container.ts';
import { arr, isObj, obj, str, type JsonObject } from '../json/shape.ts';
import { envValue, isCredentialName, type ContainerEnv } from './env.ts';
import { HUB_ID, addRemote } from './model-values.ts';
import { mountFor, normalisePath } from './pod.ts';
import { DEFAULT_ENDPOINTS, DOWNLOAD_ENV, DOWNLOAD_ENV_PREFIXES, GRAMMARS, type Grammar } from './servers.ts';
import { parseModelUri } from './uri.ts';

/** The client's own endpoint, written out: no redirect. A scheme-less S3 endpoint with S3_USE_HTTPS off is plain HTTP. */
function isDefaultEndpoint(name: string, value: string, env: ContainerEnv): boolean {
  if (!DEFAULT_ENDPOINTS.get(name)?.test(value)) return false;
  if (!/^S3_|AWS_/.test(name) || value.startsWith('https://')) return true;
  const https = envValue(env, 'S3_USE_HTTPS');
  return !https || (https.kind === 'literal' && !/^(0|false|no|off)$/i.test(https.value));
}

/** Download endpoints and caches from the environment (Hugging Face, S3, GCS, ModelScope clients). */
export function readDownloadEnv(view: ContainerView, env: ContainerEnv, ctx: ContainerContext): void {
  for (const [n, kind] of DOWNLOAD_ENV) {
    const v = envValue(env, n);
    if (!v) continue;
    if (kind === 'redirect') {
      if (v.kind === 'literal' && (v.value === '' || isDefaultEndpoint(n, v.value, env))) continue;
      view.unreadable.push({
        where: `env ${n}`,
        value: v.kind === 'literal' ? v.value : `(from ${v.from})`,
        reason: `${n} redirects where models are downloaded from, so a reference's name no longer says whose bytes are fetched`,
        remediation: `remove ${n}, or deliver the model in a volume the runtime verifier checks (or a digest-pinned image)`,
        relevance: 'unbound',
      });
    } else if (kind === 'cache') {
      if (v.kind === 'unknown')
        view.unreadable.push({
          where: `env ${n}`,
          value: `(from ${v.from})`,
          reason: `${n} sets the download cache from ${v.from}, which modelgate does not read; a cache on shared storage can hold other weights under a model's name`,
          remediation: `set ${n} literally to a path on an emptyDir volume`,
          relevance: 'unbound',
        });
      else if (v.value !== '') cacheLocation(view, `env ${n}`, v.value, ctx.volumes);
    }
  }
  for (const [n, v] of env.vars) {
    const prefix = DOWNLOAD_ENV_PREFIXES.find((p) => n.startsWith(p));
    if (prefix === undefined || isCredentialName(n)) continue;
    view.unreadable.push({
      where: `env ${n}`,
      value: v.kind === 'literal' ? v.value : `(from ${v.from})`,
      reason: `${n} configures a download client's remote (${prefix}<REMOTE>_...), so a source's name no longer says whose bytes are fetched`,
      remediation: `remove ${n}, or deliver the model in a volume the runtime verifier checks (or a digest-pinned image)`,
      relevance: 'unbound',
    });
  }
  for (const f of env.envFrom)
    if (
      !isCredentialName(f.prefix) &&
      ([...DOWNLOAD_ENV.keys()].some((n) => n.startsWith(f.prefix)) ||
        DOWNLOAD_ENV_PREFIXES.some((p) => p.startsWith(f.prefix) || f.prefix.startsWith(p))) &&
      !f.source.secret
    )
      view.unreadable.push({
        where: f.location,
        value: f.source.from,
        reason: `${f.source.from} may set variables that redirect downloads or caches (${[
          ...DOWNLOAD_ENV.keys(),
        ]
          .filter((n) => n.startsWith(f.prefix))
          .slice(0, 4)
          .join(', ')}, ...), and modelgate does not read it at admission`,
        remediation: 'set the variables the server needs literally in env, or give envFrom a prefix',
        relevance: 'unbound',
      });
}

/** A download cache on storage that outlives the pod can hold other weights under a model's name. */
export function cacheLocation(
  view: ContainerView,
  where: string,
  value: string,
  volumes: ContainerContext['volumes'],
): void {
  const path = normalisePath(value);
  if (path === undefined) return;
  // The volume holding the cache directory, and any volume mounted inside it.
  const holders = [
    mountFor(path, view.mounts)?.mount,
    ...view.mounts.filter((m) => m.mountPath.startsWith(`${path}/`)),
  ];
  for (const mount of holders) {
    const vol = mount ? volumes.get(mount.volume) : undefined;
    if (!vol || vol.podLocal) continue;
    if (view.unreadable.some((u) => u.where === where && u.value === value)) return;
    view.unreadable.push({
      where,
      value,
      reason: `the download cache ${value} is on volume "${vol.name}" (${vol.type}, mounted at ${mount!.mountPath}), which outlives the pod: files already there are loaded under a model's name without being downloaded or checked`,
      remediation:
        'put the cache on an emptyDir volume, or deliver the model in a volume the runtime verifier checks',
      relevance: 'unbound',
    });
    return;
  }
}

/** A download endpoint named on the command line: like HF_ENDPOINT, it changes whose bytes are fetched. */
export function redirectFlags(view: ContainerView, reading: CommandLineReading): void {
  for (const r of reading.redirects)
    view.unreadable.push({
      where: r.where,
      value: r.value,
      reason: `${r.where} downloads from ${r.value} instead of the source's own service, so the source's name no longer says whose bytes are fetched`,
      remediation: `remove ${r.where}`,
      relevance: 'unbound',
    });
}

export function readDownloader(
  view: ContainerView,
  reading: CommandLineReading,
  ctx: ContainerContext,
  g: Grammar,
): void {
  const positionals = reading.candidates;
  const pairs: { source: Candidate; dest?: string }[] = [];
  if (g === GRAMMARS.STORAGE_INITIALIZER) {
    // KServe: [src, dst] or several pairs.
    for (let i = 0; i < positionals.length; i += 2)
      pairs.push({
        source: positionals[i]!,
        ...(positionals[i + 1] ? { dest: positionals[i + 1]!.value } : {}),
      });
  } else {
    const dest = reading.destinations[0]?.value ?? positionals.find((c) => c.kind === 'destination')?.value;
    for (const c of positionals)
      if (c.kind !== 'destination') pairs.push({ source: c, ...(dest !== undefined ? { dest } : {}) });
  }
  for (const { source, dest } of pairs) {
    let destinationVolume: string | undefined;
    if (dest !== undefined) {
      const p = normalisePath(dest);
      const hit = p !== undefined ? mountFor(p, view.mounts) : undefined;
      if (hit) {
        destinationVolume = hit.mount.volume;
        if (!view.destinations.includes(destinationVolume)) view.destinations.push(destinationVolume);
      }
    }
    const value = source.value;
    if (g === GRAMMARS.HF_DOWNLOAD && HUB_ID.test(value)) {
      const revs = reading.revisions.map((r) => r.value);
      for (const rev of revs.length > 0 ? revs : [undefined]) {
        const p = parseModelUri(`hf://${value}${rev ? `:${rev}` : ''}`);
        view.models.push({
          value,
          where: source.where,
          kind: 'remote',
          ...(p.ok ? { parsed: p.value } : { unclassified: p.reason }),
          ...(destinationVolume ? { destinationVolume } : {}),
        });
      }
      continue;
    }
    addRemote(view, value, source.where, ctx, destinationVolume);
  }
}

/** A pod's name resolution, as far as it can send a download host elsewhere. */
export interface PodNetwork {
  /** Host names the pod's hostAliases map to addresses of the deployer's choosing. */
  aliases: string[];
  /** The pod's own DNS servers or search domains (dnsPolicy None, dnsConfig), described. */
  dns?: string;
}

export function podNetworkOf(spec: JsonObject): PodNetwork {
  const aliases = arr(spec.hostAliases).flatMap((a) =>
    isObj(a) ? arr(a.hostnames).filter((h): h is string => typeof h === 'string') : [],
  );
  const cfg = obj(spec.dnsConfig);
  const nameservers = arr(cfg.nameservers).filter((n): n is string => typeof n === 'string');
  const searches = arr(cfg.searches).filter((n): n is string => typeof n === 'string');
  const parts = [
    ...(str(spec.dnsPolicy) === 'None' ? ['dnsPolicy None'] : []),
    ...(nameservers.length > 0 ? [`nameservers ${nameservers.join(', ')}`] : []),
    ...(searches.length > 0 ? [`search domains ${searches.join(', ')}`] : []),
  ];
  return { aliases, ...(parts.length > 0 ? { dns: parts.join('; ') } : {}) };
}

/** Files that decide where a host name resolves, and the system's trusted certificate authorities. */
const RESOLVER_FILES = [
  '/etc/hosts',
  '/etc/resolv.conf',
  '/etc/nsswitch.conf',
  '/etc/host.conf',
  '/etc/gai.conf',
];
const TRUST_DIRS = ['/etc/ssl', '/etc/pki', '/etc/ca-certificates', '/etc/ca-certificates.conf'];
const within = (a: string, b: string) => a === b || a.startsWith(`${b}/`);

/**
 * Whatever sends a download host to another address (hostAliases, the pod's own DNS, a file over
 * /etc/hosts or /etc/resolv.conf), or makes another certificate authority trusted (a volume over
 * /etc/ssl, /etc/pki): with both, or over plain HTTP, a server at the deployer's address serves any bytes
 * under a source's name — the effect of HF_ENDPOINT. Read for containers that download at run time.
 */
export function networkRedirects(view: ContainerView, ctx: ContainerContext): void {
  const add = (where: string, value: string, reason: string, remediation: string) =>
    view.unreadable.push({ where, value, reason, remediation, relevance: 'unbound' });
  const net = ctx.podNetwork;
  if (net && net.aliases.length > 0)
    add(
      'hostAliases',
      net.aliases.slice(0, 8).join(', '),
      `the pod's hostAliases send ${net.aliases.slice(0, 3).join(', ')}${net.aliases.length > 3 ? ', ...' : ''} to addresses the pod chooses, so a download may come from another server than the source names`,
      'remove hostAliases from the pod',
    );
  if (net?.dns)
    add(
      'dnsConfig',
      net.dns,
      `the pod resolves host names with its own DNS settings (${net.dns}), so a download may come from another server than the source names`,
      'use the cluster DNS (remove dnsPolicy None and dnsConfig nameservers and searches)',
    );
  for (const m of view.mounts) {
    const file = RESOLVER_FILES.find((f) => within(m.mountPath, f));
    const trust = TRUST_DIRS.find((d) => within(m.mountPath, d) || within(d, m.mountPath));
    if (file === undefined && trust === undefined) continue;
    add(
      `volumeMounts ${m.volume}`,
      m.mountPath,
      file !== undefined
        ? `volume "${m.volume}" is mounted over ${file}, which decides where host names resolve, so a download may come from another server than the source names`
        : `volume "${m.volume}" is mounted over ${trust}, the certificate authorities the container trusts, so a server the pod chooses can pass for the source`,
      `do not mount over ${file ?? trust}`,
    );
  }
}
