// Finding model-signing bundles attached to a manifest in the registry, in cosign's layout
// (sigstore/cosign specs/BUNDLE_SPEC.md): a referrer manifest whose artifactType is the Sigstore bundle
// v0.3 media type, with one layer of that type holding the bundle, `subject` = the signed manifest, and
// the `dev.sigstore.bundle.predicateType` annotation saying what the bundle's statement is about. Only
// bundles whose predicate is model-signing's are kept: a cosign image signature over the same digest is
// not evidence about the model's files.
//
// Tolerated: registries without the referrers API (the `sha256-<hex>` tag index clients maintain),
// registries that report the config media type as artifactType (go-containerregistry) or ignore the
// filter, referrers listed with artifactType `application/vnd.oci.empty.v1+json` (cosign#4422) and
// untyped legacy referrers — those are fetched and inspected. Everything is bounded.
import { PREDICATE_V1 } from '../signing/statement.ts';
import { isObj } from '../json/shape.ts';
import { OciFormatError, parseOciDocument, type Descriptor } from './manifest.ts';
import { BUNDLE_PREDICATE_ANNOTATION, OCI_EMPTY, SIGSTORE_BUNDLE_V03 } from './media-types.ts';
import type { RepositoryRef } from './reference.ts';
import { RegistryError, type RegistryClient } from './registry.ts';

export interface ReferrerLimits {
  /** Index entries looked at (default 64). */
  maxExamined: number;
  /** Referrer manifests and bundle blobs fetched (default 16). */
  maxFetched: number;
  /** A bundle larger than this is skipped (default 256 KiB: a keyless bundle is ~10 KiB). */
  maxBundleBytes: number;
}

export const DEFAULT_REFERRER_LIMITS: ReferrerLimits = {
  maxExamined: 64,
  maxFetched: 16,
  maxBundleBytes: 256 * 1024,
};

const MAX_REFERRER_MANIFEST = 64 * 1024;

export interface FoundBundle {
  /** Digest of the referrer manifest the bundle came from. */
  referrer: string;
  bundle: Uint8Array;
}

export interface Discovery {
  api: 'referrers' | 'tag';
  /** Index entries looked at. */
  examined: number;
  bundles: FoundBundle[];
  /** Why entries were passed over (bounded), for the record and the deployer. */
  skipped: string[];
}

const MAX_SKIPPED = 8;

/** The predicate type inside a bundle's DSSE payload, without verifying anything (used only to skip). */
export function bundlePredicateType(bytes: Uint8Array): string | undefined {
  try {
    const json = JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
    const env = isObj(json) && isObj(json.dsseEnvelope) ? json.dsseEnvelope : undefined;
    if (!env || typeof env.payload !== 'string') return undefined;
    const payload = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as unknown;
    return isObj(payload) && typeof payload.predicateType === 'string' ? payload.predicateType : undefined;
  } catch {
    return undefined;
  }
}

type Triage = 'bundle' | 'inspect' | string;

/** What an index entry says about itself: a bundle, something to fetch to know, or why it is skipped. */
function triage(d: Descriptor): Triage {
  const predicate = d.annotations[BUNDLE_PREDICATE_ANNOTATION];
  if (predicate !== undefined && predicate !== PREDICATE_V1)
    return `${d.digest.slice(0, 19)}…: a Sigstore bundle for ${predicate}, not a model-signing signature`;
  if (d.artifactType === SIGSTORE_BUNDLE_V03) return predicate === undefined ? 'inspect' : 'bundle';
  if (d.artifactType === undefined || d.artifactType === OCI_EMPTY || d.artifactType === '') return 'inspect';
  return `${d.digest.slice(0, 19)}…: artifactType ${d.artifactType}`;
}

/** Model-signing bundles attached to `digest` in `repo`. Throws RegistryError when the registry fails. */
export async function findModelSigningBundles(
  client: RegistryClient,
  repo: RepositoryRef,
  digest: string,
  limits: ReferrerLimits = DEFAULT_REFERRER_LIMITS,
): Promise<Discovery> {
  const out: Discovery = { api: 'referrers', examined: 0, bundles: [], skipped: [] };
  const skip = (why: string) => {
    if (out.skipped.length < MAX_SKIPPED) out.skipped.push(why);
  };
  const seen = new Set<string>();
  let fetched = 0;

  const consider = async (entries: Descriptor[]) => {
    for (const d of entries) {
      if (seen.has(d.digest)) continue;
      if (out.examined >= limits.maxExamined) {
        skip(`more than ${limits.maxExamined} referrers: the rest were not examined`);
        return;
      }
      seen.add(d.digest);
      out.examined++;
      const t = triage(d);
      if (t !== 'bundle' && t !== 'inspect') {
        skip(t);
        continue;
      }
      if (fetched >= limits.maxFetched) {
        skip(`more than ${limits.maxFetched} candidate signatures: the rest were not fetched`);
        return;
      }
      fetched++;
      const found = await fetchBundle(client, repo, digest, d, limits, skip);
      if (found) out.bundles.push(found);
    }
  };

  const listed = await client.referrers(repo, digest, { artifactType: SIGSTORE_BUNDLE_V03 });
  out.api = listed.api;
  await consider(entriesOf(listed.documents, skip));
  // A registry that filtered by artifactType hides cosign#4422 and untyped referrers: look once more
  // without the filter for those, when the filtered list held no signature.
  if (listed.filtered && out.bundles.length === 0) {
    const all = await client.referrers(repo, digest);
    await consider(entriesOf(all.documents, skip));
  }
  return out;
}

function entriesOf(
  documents: { bytes: Uint8Array; contentType: string }[],
  skip: (w: string) => void,
): Descriptor[] {
  const out: Descriptor[] = [];
  for (const doc of documents) {
    try {
      const parsed = parseOciDocument(doc.bytes, doc.contentType);
      if (parsed.kind !== 'index') {
        skip('the referrers list is not an index');
        continue;
      }
      out.push(...parsed.manifests);
    } catch (err) {
      if (!(err instanceof OciFormatError)) throw err;
      skip(`the referrers list is malformed: ${err.message}`);
    }
  }
  return out;
}

async function fetchBundle(
  client: RegistryClient,
  repo: RepositoryRef,
  subject: string,
  d: Descriptor,
  limits: ReferrerLimits,
  skip: (w: string) => void,
): Promise<FoundBundle | undefined> {
  const short = `${d.digest.slice(0, 19)}…`;
  let fetchedManifest;
  try {
    fetchedManifest = await client.getManifest(repo, d.digest, MAX_REFERRER_MANIFEST);
  } catch (err) {
    if (err instanceof RegistryError && !err.unreachable) {
      skip(`${short}: ${err.message}`);
      return undefined;
    }
    throw err;
  }
  if (!fetchedManifest) {
    skip(`${short}: listed but not found`);
    return undefined;
  }
  let m;
  try {
    m = parseOciDocument(fetchedManifest.bytes, fetchedManifest.contentType);
  } catch (err) {
    skip(`${short}: ${(err as Error).message}`);
    return undefined;
  }
  if (m.kind !== 'manifest') {
    skip(`${short}: not a manifest`);
    return undefined;
  }
  // The registry's list is not evidence: the referrer itself must name this subject.
  if (m.subject?.digest !== subject) {
    skip(`${short}: its subject is ${m.subject?.digest ?? 'missing'}, not ${subject}`);
    return undefined;
  }
  const predicate = m.annotations[BUNDLE_PREDICATE_ANNOTATION];
  if (predicate !== undefined && predicate !== PREDICATE_V1) {
    skip(`${short}: a Sigstore bundle for ${predicate}, not a model-signing signature`);
    return undefined;
  }
  const layer = m.layers.find(
    (l) =>
      l.mediaType === SIGSTORE_BUNDLE_V03 || l.mediaType.startsWith('application/vnd.dev.sigstore.bundle'),
  );
  if (!layer) {
    skip(`${short}: no Sigstore bundle layer (${m.artifactType ?? m.config.mediaType})`);
    return undefined;
  }
  if (layer.size > limits.maxBundleBytes) {
    skip(`${short}: its bundle is ${layer.size} bytes, over the ${limits.maxBundleBytes}-byte limit`);
    return undefined;
  }
  let bundle: Uint8Array;
  try {
    bundle = await client.getBlob(repo, layer.digest, limits.maxBundleBytes);
  } catch (err) {
    if (err instanceof RegistryError && !err.unreachable) {
      skip(`${short}: ${err.message}`);
      return undefined;
    }
    throw err;
  }
  const inner = bundlePredicateType(bundle);
  if (inner !== PREDICATE_V1) {
    skip(
      `${short}: its statement is ${inner ? `a ${inner} statement` : 'not readable'}, not a model-signing signature`,
    );
    return undefined;
  }
  return { referrer: d.digest, bundle };
}
