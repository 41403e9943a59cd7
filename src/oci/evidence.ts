// What modelgate knows about one OCI manifest digest: its shape (what a container runtime would mount),
// its declared formats, the resources a model-signing statement must list to cover it, the signature
// bundles found as its referrers, and a scan of its layers. The controller writes one record per digest
// into a ConfigMap of its own namespace; the webhook, the audit and `modelgate check` read them into
// their cluster view. Signatures are NOT verdicts here: each reader verifies the bundles against its own
// policies' trust material (cached), so a record serves every policy and never goes stale when trust
// changes. Pure: building, serialising and parsing records.
import { createHash } from 'node:crypto';
import { compareCodePoints } from '../hashing/manifest.ts';
import { arr, isObj, str } from '../json/shape.ts';
import type { DeclaredFormat } from './declared-format.ts';
import type { LayerNaming } from './manifest.ts';

export const EVIDENCE_VERSION = 1;
/** Label of the ConfigMaps holding records (only those in modelgate's own namespace are read). */
export const EVIDENCE_LABEL = 'modelgate.io/oci-evidence';
/** Label of the ConfigMaps the webhook creates to ask the controller for a record. */
export const EVIDENCE_REQUEST_LABEL = 'modelgate.io/oci-evidence-request';
export const EVIDENCE_KEY = 'evidence.json';
export const REQUEST_KEY = 'request.json';

/** Bounds that keep a record far below a ConfigMap's 1 MiB. */
export const MAX_RECORD_BUNDLES = 4;
export const MAX_RECORD_BUNDLE_BYTES = 64 * 1024;
const MAX_DECLARED = 32;
const MAX_PROBLEMS = 20;
const MAX_FORMATS = 64;
const MAX_SKIPPED = 8;
const MAX_TEXT = 512;

export interface ResourceSetSummary {
  naming: LayerNaming;
  /** The statement subject digest (hex) these resources give. */
  rootDigest: string;
  /** SHA-256 over the sorted (name, digest) list: a statement's resources must give the same. */
  resourcesDigest: string;
}

export interface ManifestFacts {
  mediaType?: string;
  artifactType?: string;
  configMediaType: string;
  family: string;
  /** What a runtime mounts from it as an image volume: files (`runnable-image`), nothing (`artifact`). */
  shape: 'runnable-image' | 'artifact' | 'index';
  shapeReason: string;
  layers: number;
  /** Sum of the layer sizes (compressed). */
  bytes: number;
  declared: DeclaredFormat[];
  /** The resources a covering statement lists, per naming (empty when no statement can cover it). */
  resourceSets: ResourceSetSummary[];
  /** Why no signature can cover this manifest (duplicate or unsafe layer names, no layer). */
  unsignable?: string;
}

export interface ScanProblem {
  file: string;
  verdict: string;
  rule: string;
  detail: string;
}

export interface ScanFacts {
  /** `complete`: every file of every layer was scanned; `incomplete`: see `reason`. */
  status: 'complete' | 'incomplete';
  reason?: string;
  files: number;
  bytes: number;
  /** Every format found (a file's own and what is inside it) and the first file it was found in. */
  formats: Record<string, string>;
  /** Files the scanner refused on content alone (code, malformed, over a limit); bounded. */
  problems: ScanProblem[];
  /** More problems than listed. */
  moreProblems?: number;
  /**
   * Pickle globals the scan was allowed to treat as data (the union of the policies'
   * `formats.allowPickleGlobals` when it ran); absent: none.
   */
  allowGlobals?: string[];
  /**
   * Those of them the model's pickles reference: the scan's verdict holds for a policy only if it allows
   * every one (src/policy/oci-evidence.ts). Never truncated: a scan that used more is incomplete.
   */
  usedGlobals?: string[];
}

/** The most allowed globals a record lists; a scan that used more is recorded incomplete. */
export const MAX_RECORD_GLOBALS = 256;

/**
 * Does a complete scan still hold when the policies allow `allowGlobals`? A clean scan always does (an
 * allowed global can only turn a finding into data); one with problems only if it already treated every
 * one of them as data (otherwise a problem may be a global a policy now allows).
 */
export function scanHoldsFor(scan: ScanFacts, allowGlobals: readonly string[]): boolean {
  if (scan.status !== 'complete') return false;
  if (scan.problems.length === 0 && !scan.moreProblems) return true;
  const had = new Set(scan.allowGlobals ?? []);
  return allowGlobals.every((g) => had.has(g));
}

export interface SignatureFacts {
  api: 'referrers' | 'tag';
  examined: number;
  skipped: string[];
  /** The bundles that may cover the manifest, as found (verified by each reader). */
  bundles: Uint8Array[];
}

export interface OciEvidenceRecord {
  version: typeof EVIDENCE_VERSION;
  /** The manifest digest the record is about. */
  digest: string;
  /** `registry/repository` it was resolved in. */
  repository: string;
  /** Last attempt (ms since the epoch). */
  checkedAt: number;
  /** Last complete resolution; absent when none has succeeded. */
  resolvedAt?: number;
  /** Why the last attempt failed (an outage keeps the facts of the last resolution). */
  error?: string;
  manifest?: ManifestFacts;
  signatures?: SignatureFacts;
  scan?: ScanFacts;
}

/** What a resource list hashes to, in OMS order: names and digests, so renames count. */
export function resourcesDigest(resources: readonly { name: string; digest: string }[]): string {
  const sorted = [...resources].sort((a, b) => compareCodePoints(a.name, b.name));
  const h = createHash('sha256');
  for (const r of sorted) h.update(`${r.name}\u0000${r.digest}\n`);
  return h.digest('hex');
}

/** ConfigMap name of the record for a digest. */
export const evidenceObjectName = (digest: string): string =>
  `modelgate-oci-${digest.replace(/^sha256:/, '')}`;

/** ConfigMap name of a request, one per (namespace, digest). */
export const requestObjectName = (namespace: string, digest: string): string =>
  `modelgate-oci-request-${createHash('sha256').update(`${namespace}\u0000${digest}`).digest('hex').slice(0, 40)}`;

const clip = (s: string) => (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}…` : s);

/** The record as JSON text (bundles base64), with every list bounded. */
export function serializeEvidence(r: OciEvidenceRecord): string {
  const out: Record<string, unknown> = {
    version: r.version,
    digest: r.digest,
    repository: r.repository,
    checkedAt: r.checkedAt,
    ...(r.resolvedAt !== undefined ? { resolvedAt: r.resolvedAt } : {}),
    ...(r.error !== undefined ? { error: clip(r.error) } : {}),
  };
  if (r.manifest) out.manifest = { ...r.manifest, declared: r.manifest.declared.slice(0, MAX_DECLARED) };
  if (r.signatures)
    out.signatures = {
      api: r.signatures.api,
      examined: r.signatures.examined,
      skipped: r.signatures.skipped.slice(0, MAX_SKIPPED).map(clip),
      bundles: r.signatures.bundles
        .filter((b) => b.length <= MAX_RECORD_BUNDLE_BYTES)
        .slice(0, MAX_RECORD_BUNDLES)
        .map((b) => Buffer.from(b).toString('base64')),
    };
  if (r.scan) {
    const formats = Object.entries(r.scan.formats).slice(0, MAX_FORMATS);
    out.scan = {
      ...r.scan,
      formats: Object.fromEntries(formats.map(([f, file]) => [f, clip(file)])),
      problems: r.scan.problems
        .slice(0, MAX_PROBLEMS)
        .map((p) => ({ ...p, file: clip(p.file), detail: clip(p.detail) })),
      ...(r.scan.problems.length > MAX_PROBLEMS || r.scan.moreProblems
        ? { moreProblems: (r.scan.moreProblems ?? 0) + Math.max(0, r.scan.problems.length - MAX_PROBLEMS) }
        : {}),
    };
    const scan = out.scan as Record<string, unknown>;
    delete scan.allowGlobals;
    delete scan.usedGlobals;
    if (r.scan.allowGlobals?.length) scan.allowGlobals = r.scan.allowGlobals.slice(0, MAX_RECORD_GLOBALS);
    if ((r.scan.usedGlobals?.length ?? 0) > MAX_RECORD_GLOBALS) {
      // Truncating would hide a global some policy does not allow: no verdict instead.
      scan.status = 'incomplete';
      scan.reason = `its pickles use more than ${MAX_RECORD_GLOBALS} globals allowed by policies (formats.allowPickleGlobals)`;
    } else if (r.scan.usedGlobals?.length) scan.usedGlobals = r.scan.usedGlobals;
  }
  return JSON.stringify(out);
}

export class EvidenceFormatError extends Error {}

const num = (v: unknown, where: string): number => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new EvidenceFormatError(`${where} is not a number`);
  return v;
};
const text = (v: unknown, where: string): string => {
  if (typeof v !== 'string') throw new EvidenceFormatError(`${where} is not a string`);
  return v;
};
const optText = (v: unknown) => (typeof v === 'string' ? v : undefined);

function parseManifestFacts(v: unknown): ManifestFacts {
  if (!isObj(v)) throw new EvidenceFormatError('manifest is not an object');
  const shape = v.shape;
  if (shape !== 'runnable-image' && shape !== 'artifact' && shape !== 'index')
    throw new EvidenceFormatError(`manifest.shape ${JSON.stringify(shape)} is unknown`);
  const out: ManifestFacts = {
    configMediaType: text(v.configMediaType, 'manifest.configMediaType'),
    family: text(v.family, 'manifest.family'),
    shape,
    shapeReason: optText(v.shapeReason) ?? '',
    layers: num(v.layers, 'manifest.layers'),
    bytes: num(v.bytes, 'manifest.bytes'),
    declared: arr(v.declared)
      .slice(0, MAX_DECLARED)
      .filter(isObj)
      .map((d) => ({
        source: str(d.source) ?? '',
        value: str(d.value) ?? '',
        formats: arr(d.formats).filter((f): f is string => typeof f === 'string'),
      })),
    resourceSets: arr(v.resourceSets)
      .filter(isObj)
      .map((s) => {
        const naming = s.naming === 'model-signing' ? 'model-signing' : 'modelgate';
        return {
          naming,
          rootDigest: text(s.rootDigest, 'manifest.resourceSets[].rootDigest'),
          resourcesDigest: text(s.resourcesDigest, 'manifest.resourceSets[].resourcesDigest'),
        };
      }),
  };
  if (optText(v.mediaType)) out.mediaType = v.mediaType as string;
  if (optText(v.artifactType)) out.artifactType = v.artifactType as string;
  if (optText(v.unsignable)) out.unsignable = v.unsignable as string;
  return out;
}

function parseScan(v: unknown): ScanFacts {
  if (!isObj(v)) throw new EvidenceFormatError('scan is not an object');
  if (v.status !== 'complete' && v.status !== 'incomplete')
    throw new EvidenceFormatError(`scan.status ${JSON.stringify(v.status)} is unknown`);
  const formats: Record<string, string> = {};
  if (isObj(v.formats))
    for (const [f, file] of Object.entries(v.formats)) if (typeof file === 'string') formats[f] = file;
  const out: ScanFacts = {
    status: v.status,
    files: num(v.files, 'scan.files'),
    bytes: num(v.bytes, 'scan.bytes'),
    formats,
    problems: arr(v.problems)
      .filter(isObj)
      .map((p) => ({
        file: str(p.file) ?? '',
        verdict: str(p.verdict) ?? 'rejected',
        rule: str(p.rule) ?? '',
        detail: str(p.detail) ?? '',
      })),
  };
  if (optText(v.reason)) out.reason = v.reason as string;
  if (typeof v.moreProblems === 'number') out.moreProblems = v.moreProblems;
  const globals = (field: 'allowGlobals' | 'usedGlobals'): string[] | undefined => {
    if (v[field] === undefined) return undefined;
    const list = v[field];
    if (
      !Array.isArray(list) ||
      list.length > MAX_RECORD_GLOBALS ||
      !list.every((g) => typeof g === 'string' && g.length > 0 && g.length <= MAX_TEXT)
    )
      throw new EvidenceFormatError(`scan.${field} is not a list of at most ${MAX_RECORD_GLOBALS} names`);
    return list as string[];
  };
  const allow = globals('allowGlobals');
  const used = globals('usedGlobals');
  if (allow?.length) out.allowGlobals = allow;
  if (used?.length) out.usedGlobals = used;
  return out;
}

/** Parses a record (JSON text from a ConfigMap). Throws EvidenceFormatError naming the field. */
/** A JSON object from a ConfigMap value, and its `digest` field (sha256:<64 hex>). */
function recordObject(json: string): { v: Record<string, unknown>; digest: string } {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (err) {
    throw new EvidenceFormatError(`not JSON: ${(err as Error).message}`);
  }
  if (!isObj(v)) throw new EvidenceFormatError('not a JSON object');
  const digest = text(v.digest, 'digest');
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new EvidenceFormatError('digest is not sha256:<64 hex>');
  return { v, digest };
}

export function parseEvidence(json: string): OciEvidenceRecord {
  const { v, digest } = recordObject(json);
  if (v.version !== EVIDENCE_VERSION)
    throw new EvidenceFormatError(`version ${JSON.stringify(v.version)} is not ${EVIDENCE_VERSION}`);
  const out: OciEvidenceRecord = {
    version: EVIDENCE_VERSION,
    digest,
    repository: text(v.repository, 'repository'),
    checkedAt: num(v.checkedAt, 'checkedAt'),
  };
  if (v.resolvedAt !== undefined) out.resolvedAt = num(v.resolvedAt, 'resolvedAt');
  if (optText(v.error)) out.error = v.error as string;
  if (v.manifest !== undefined) out.manifest = parseManifestFacts(v.manifest);
  if (v.signatures !== undefined) {
    const s = v.signatures;
    if (!isObj(s)) throw new EvidenceFormatError('signatures is not an object');
    out.signatures = {
      api: s.api === 'tag' ? 'tag' : 'referrers',
      examined: num(s.examined, 'signatures.examined'),
      skipped: arr(s.skipped)
        .filter((x): x is string => typeof x === 'string')
        .slice(0, MAX_SKIPPED),
      bundles: arr(s.bundles)
        .filter((b): b is string => typeof b === 'string')
        .slice(0, MAX_RECORD_BUNDLES)
        .map((b) => new Uint8Array(Buffer.from(b, 'base64'))),
    };
  }
  if (v.scan !== undefined) out.scan = parseScan(v.scan);
  return out;
}

export interface EvidenceRequest {
  digest: string;
  /** `registry/repository` of the reference that missed. */
  repository: string;
  /** The workload's namespace, whose pull secrets may be needed. */
  namespace: string;
  /** imagePullSecrets named by the pod spec. */
  pullSecrets: string[];
  /** The pod's service account (its imagePullSecrets count too). */
  serviceAccount?: string;
  requestedAt: number;
}

export function parseRequest(json: string): EvidenceRequest {
  const { v, digest } = recordObject(json);
  return {
    digest,
    repository: text(v.repository, 'repository'),
    namespace: text(v.namespace, 'namespace'),
    pullSecrets: arr(v.pullSecrets)
      .filter((x): x is string => typeof x === 'string')
      .slice(0, 16),
    ...(optText(v.serviceAccount) ? { serviceAccount: v.serviceAccount as string } : {}),
    requestedAt: num(v.requestedAt, 'requestedAt'),
  };
}

/** The ConfigMap holding a record (written by the controller in modelgate's namespace). */
export function evidenceObject(record: OciEvidenceRecord, namespace: string) {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: evidenceObjectName(record.digest),
      namespace,
      labels: { [EVIDENCE_LABEL]: 'true', 'app.kubernetes.io/managed-by': 'modelgate' },
    },
    data: { [EVIDENCE_KEY]: serializeEvidence(record) },
  };
}

/** The ConfigMap a webhook creates to ask for a record. */
export function requestObject(r: EvidenceRequest, namespace: string) {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: requestObjectName(r.namespace, r.digest),
      namespace,
      labels: { [EVIDENCE_REQUEST_LABEL]: 'true', 'app.kubernetes.io/managed-by': 'modelgate' },
    },
    data: { [REQUEST_KEY]: JSON.stringify(r) },
  };
}
