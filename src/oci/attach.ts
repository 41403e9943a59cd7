// Attaching a model-signing bundle to a manifest as an OCI 1.1 referrer, in cosign's layout
// (specs/BUNDLE_SPEC.md), so that `modelgate` — and anything that reads cosign's bundles — finds it:
// the empty config, one layer holding the bundle, artifactType = the bundle media type, subject = the
// signed manifest, and the bundle's predicate type as an annotation. A registry without the referrers
// API gets the `sha256-<hex>` tag index updated too, as the distribution spec asks of clients.
import { PREDICATE_V1 } from '../signing/statement.ts';
import { digestOf, parseOciDocument, type Descriptor } from './manifest.ts';
import {
  BUNDLE_CONTENT_ANNOTATION,
  BUNDLE_PREDICATE_ANNOTATION,
  CREATED_ANNOTATION,
  OCI_EMPTY,
  OCI_EMPTY_BYTES,
  OCI_EMPTY_DIGEST,
  OCI_INDEX,
  OCI_MANIFEST,
  SIGSTORE_BUNDLE_V03,
} from './media-types.ts';
import type { RepositoryRef } from './reference.ts';
import { RegistryError, type RegistryClient } from './registry.ts';

export interface SubjectDescriptor {
  mediaType: string;
  digest: string;
  size: number;
}

/** The referrer manifest for a bundle (bytes are what is pushed and what its digest is computed over). */
export function bundleReferrerManifest(
  subject: SubjectDescriptor,
  bundle: Uint8Array,
  created: Date,
): Uint8Array {
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: SIGSTORE_BUNDLE_V03,
    config: { mediaType: OCI_EMPTY, digest: OCI_EMPTY_DIGEST, size: OCI_EMPTY_BYTES.length },
    layers: [{ mediaType: SIGSTORE_BUNDLE_V03, digest: digestOf(bundle), size: bundle.length }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: {
      [BUNDLE_CONTENT_ANNOTATION]: 'dsse-envelope',
      [BUNDLE_PREDICATE_ANNOTATION]: PREDICATE_V1,
      [CREATED_ANNOTATION]: created.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    },
  };
  return new TextEncoder().encode(JSON.stringify(manifest));
}

export interface Attached {
  /** Digest of the referrer manifest. */
  referrer: string;
  /** How a reader finds it: the registry's referrers API, or the tag index modelgate updated. */
  via: 'referrers' | 'tag';
}

/** Pushes the bundle as a referrer of `subject` in `repo`. */
export async function attachBundle(
  client: RegistryClient,
  repo: RepositoryRef,
  subject: SubjectDescriptor,
  bundle: Uint8Array,
  created = new Date(),
): Promise<Attached> {
  await client.putBlob(repo, OCI_EMPTY_BYTES);
  await client.putBlob(repo, bundle);
  const bytes = bundleReferrerManifest(subject, bundle, created);
  const pushed = await client.putManifest(repo, digestOf(bytes), bytes, OCI_MANIFEST);
  if (pushed.subject === subject.digest) return { referrer: pushed.digest, via: 'referrers' };
  // No OCI-Subject header: the registry keeps no referrers list, so clients maintain the tag index.
  const tag = subject.digest.replace(':', '-');
  const existing = await client.getManifest(repo, tag);
  let manifests: Descriptor[] = [];
  if (existing) {
    const doc = parseOciDocument(existing.bytes, existing.contentType);
    if (doc.kind !== 'index')
      throw new RegistryError(`tag ${tag} exists and is not an index: modelgate will not overwrite it`);
    manifests = doc.manifests;
  }
  const entry: Descriptor = {
    mediaType: OCI_MANIFEST,
    digest: pushed.digest,
    size: bytes.length,
    artifactType: SIGSTORE_BUNDLE_V03,
    annotations: JSON.parse(Buffer.from(bytes).toString('utf8')).annotations as Record<string, string>,
  };
  const index = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      ...manifests
        .filter((m) => m.digest !== pushed.digest)
        .map(({ platform, ...m }) => ({ ...m, ...(platform ? { platform } : {}) })),
      entry,
    ],
  };
  await client.putManifest(repo, tag, new TextEncoder().encode(JSON.stringify(index)), OCI_INDEX);
  return { referrer: pushed.digest, via: 'tag' };
}
