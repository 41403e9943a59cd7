// Resolving one manifest digest into an evidence record (evidence.ts): fetch the manifest by digest
// (checked), its config, find model-signing bundles among its referrers, keep those whose statement
// covers exactly this manifest — preferring those that verify under some policy's trust — and scan the
// layers when a signature makes the model admissible. Network I/O; the verdicts are the readers'.
import { BundleFormatError, parseBundle } from '../signing/bundle.ts';
import {
  ociManifestResources,
  OciSigningError,
  statementCoversManifest,
  type OciResourceSet,
} from './signed-manifest.ts';
import { parseStatement, StatementError } from '../signing/statement.ts';
import type { TrustMaterial } from '../signing/trust.ts';
import type { SignatureVerdict } from '../signing/verify-signature.ts';
import { declaredFormats } from './declared-format.ts';
import {
  EVIDENCE_VERSION,
  MAX_RECORD_BUNDLE_BYTES,
  MAX_RECORD_BUNDLES,
  resourcesDigest,
  scanHoldsFor,
  type ManifestFacts,
  type OciEvidenceRecord,
  type ScanFacts,
} from './evidence.ts';
import { scanLayers, type LayerScanOptions } from './layer-scan.ts';
import {
  deliveryShape,
  layerFilePath,
  layerName,
  manifestFamily,
  OciFormatError,
  parseOciDocument,
  type ImageManifest,
} from './manifest.ts';
import { TITLE_ANNOTATION } from './media-types.ts';
import { repositoryName, type RepositoryRef } from './reference.ts';
import { findModelSigningBundles, type ReferrerLimits } from './referrers.ts';
import { RegistryError, type RegistryClient } from './registry.ts';

export interface ResolveOptions {
  client: RegistryClient;
  /** Trust material of every policy: bundles that verify under some of it are kept first. */
  trust: readonly TrustMaterial[];
  verify: (bundle: Uint8Array, trust: TrustMaterial) => SignatureVerdict;
  now: () => number;
  /** Scan the layers (default: yes, when a kept bundle verifies). Undefined: no scan. */
  scan?: LayerScanOptions;
  /**
   * A complete scan of the same digest done before (layers are content-addressed), reused while it holds
   * for `allowGlobals` (scanHoldsFor).
   */
  reuseScan?: ScanFacts;
  /** Pickle globals the scan may treat as data: the union of the policies' formats.allowPickleGlobals. */
  allowGlobals?: readonly string[];
  /** Runs a scan (the controller queues scans one at a time: each streams gigabytes through the scanner). */
  runScan?: (scan: () => Promise<ScanFacts>) => Promise<ScanFacts>;
  referrerLimits?: ReferrerLimits;
}

/** The config blob (small JSON) when it can be read; configs of artifacts may be anything. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

function factsOf(m: ImageManifest, config: unknown): { facts: ManifestFacts; sets: OciResourceSet[] } {
  const family = manifestFamily(m.config.mediaType, m.artifactType);
  const shape = deliveryShape(m, config);
  const names = m.layers.map((l, i) => ({
    name: layerName(l, i, 'modelgate'),
    named: !!l.annotations[TITLE_ANNOTATION] || layerFilePath(l) !== undefined,
  }));
  let sets: OciResourceSet[] = [];
  let unsignable: string | undefined;
  try {
    sets = ociManifestResources(m);
  } catch (err) {
    if (!(err instanceof OciSigningError)) throw err;
    unsignable = err.message;
  }
  const facts: ManifestFacts = {
    ...(m.mediaType ? { mediaType: m.mediaType } : {}),
    ...(m.artifactType ? { artifactType: m.artifactType } : {}),
    configMediaType: m.config.mediaType,
    family,
    shape: shape.shape,
    shapeReason: shape.reason,
    layers: m.layers.length,
    bytes: m.layers.reduce((a, l) => a + l.size, 0),
    declared: declaredFormats(family, config, names),
    resourceSets: sets.map((s) => ({
      naming: s.naming,
      rootDigest: s.rootDigest,
      resourcesDigest: resourcesDigest(s.resources),
    })),
    ...(unsignable ? { unsignable } : {}),
  };
  return { facts, sets };
}

/** Does an (unverified) bundle's statement list exactly this manifest's resources? Used only to choose bundles. */
function coverage(bundle: Uint8Array, sets: readonly OciResourceSet[]): string | undefined {
  try {
    const statement = parseStatement(parseBundle(bundle).envelope.payload);
    const v = statementCoversManifest(statement, sets);
    return v.covered ? undefined : v.reason;
  } catch (err) {
    if (err instanceof BundleFormatError || err instanceof StatementError)
      return `unreadable bundle: ${err.message}`;
    throw err;
  }
}

/**
 * A record for `digest` in `repo`. Throws RegistryError only when the registry is unreachable (an outage:
 * the caller keeps what it knew); anything the registry says (not found, malformed) is in the record.
 */
export async function resolveEvidence(
  repo: RepositoryRef,
  digest: string,
  o: ResolveOptions,
): Promise<OciEvidenceRecord> {
  const at = o.now();
  const record: OciEvidenceRecord = {
    version: EVIDENCE_VERSION,
    digest,
    repository: repositoryName(repo),
    checkedAt: at,
  };
  const fail = (error: string): OciEvidenceRecord => ({ ...record, resolvedAt: at, error });
  let fetched;
  try {
    fetched = await o.client.getManifest(repo, digest);
  } catch (err) {
    if (err instanceof RegistryError && !err.unreachable) return fail(err.message);
    throw err;
  }
  if (!fetched) return fail(`manifest ${digest} is not in ${repositoryName(repo)}`);
  let doc;
  try {
    doc = parseOciDocument(fetched.bytes, fetched.contentType);
  } catch (err) {
    if (err instanceof OciFormatError) return fail(`the manifest is malformed: ${err.message}`);
    throw err;
  }
  if (doc.kind === 'index') {
    return {
      ...record,
      resolvedAt: at,
      manifest: {
        ...(doc.mediaType ? { mediaType: doc.mediaType } : {}),
        configMediaType: '',
        family: 'index',
        shape: 'index',
        shapeReason:
          'it is an image index (per-platform manifests), not one manifest: pin the digest of the platform manifest the model is in',
        layers: 0,
        bytes: 0,
        declared: [],
        resourceSets: [],
        unsignable: 'an image index is not signed in model-signing OCI mode; its platform manifests are',
      },
    };
  }
  let config: unknown;
  if (doc.config.size <= MAX_CONFIG_BYTES) {
    try {
      const bytes = await o.client.getBlob(repo, doc.config.digest, MAX_CONFIG_BYTES);
      config = JSON.parse(Buffer.from(bytes).toString('utf8'));
    } catch (err) {
      if (err instanceof RegistryError && err.unreachable) throw err;
      config = undefined; // an unreadable config: the shape check says so when it matters
    }
  }
  const { facts, sets } = factsOf(doc, config);
  record.manifest = facts;
  if (sets.length === 0) return { ...record, resolvedAt: at };

  const found = await findModelSigningBundles(o.client, repo, digest, o.referrerLimits);
  const skipped = [...found.skipped];
  const candidates: { bundle: Uint8Array; verified: boolean }[] = [];
  for (const b of found.bundles) {
    if (b.bundle.length > MAX_RECORD_BUNDLE_BYTES) {
      skipped.push(`${b.referrer.slice(0, 19)}…: bundle over ${MAX_RECORD_BUNDLE_BYTES} bytes`);
      continue;
    }
    const why = coverage(b.bundle, sets);
    if (why) {
      skipped.push(`${b.referrer.slice(0, 19)}…: ${why}`);
      continue;
    }
    candidates.push({ bundle: b.bundle, verified: o.trust.some((t) => o.verify(b.bundle, t).valid) });
  }
  candidates.sort((a, b) => Number(b.verified) - Number(a.verified));
  const kept = candidates.slice(0, MAX_RECORD_BUNDLES);
  record.signatures = {
    api: found.api,
    examined: found.examined,
    skipped,
    bundles: kept.map((c) => c.bundle),
  };

  if (kept.some((c) => c.verified)) {
    if (o.reuseScan && scanHoldsFor(o.reuseScan, o.allowGlobals ?? [])) record.scan = o.reuseScan;
    else if (o.scan) {
      const scan = () => scanFor(doc, facts, repo, o);
      record.scan = await (o.runScan ? o.runScan(scan) : scan());
    }
  }
  return { ...record, resolvedAt: at };
}

async function scanFor(
  m: ImageManifest,
  facts: ManifestFacts,
  repo: RepositoryRef,
  o: ResolveOptions,
): Promise<ScanFacts> {
  if (facts.shape !== 'runnable-image')
    return {
      status: 'incomplete',
      reason: `not scanned: ${facts.shapeReason}; a container runtime does not mount it as files, so where it is delivered (KServe's storage initializer, CRI-O) the runtime verifier scans it`,
      files: 0,
      bytes: 0,
      formats: {},
      problems: [],
    };
  const names = m.layers.map((l, i) => layerName(l, i, 'modelgate'));
  return scanLayers(o.client, repo, m, names, {
    ...o.scan!,
    ...(o.allowGlobals ? { allowGlobals: o.allowGlobals } : {}),
  });
}
