// Where a reference lives in the distribution API: the registry host to call, the repository, and the tag
// or digest. Canonicalised as the container runtime does (src/workloads/uri.ts), so `ubuntu` and
// `docker.io/library/ubuntu` are the same repository.
import { parseOciReference } from '../workloads/uri.ts';

export interface RepositoryRef {
  /** The registry as written in references (`docker.io`, `registry.example.com:5000`). */
  registry: string;
  /** The host the API is called on (`registry-1.docker.io` for docker.io). */
  apiHost: string;
  /** Repository path inside the registry (`library/ubuntu`). */
  repository: string;
}

export interface ImageRef extends RepositoryRef {
  tag?: string;
  digest?: string;
}

/** `registry/repository` as written in a canonical reference. */
export const repositoryName = (r: RepositoryRef): string => `${r.registry}/${r.repository}`;

const apiHostOf = (registry: string) => (registry === 'docker.io' ? 'registry-1.docker.io' : registry);

/** Parses `[registry/]repo[:tag][@sha256:…]` or `oci://…`; throws an Error whose message says what is wrong. */
export function parseImageRef(ref: string): ImageRef {
  const raw = ref.replace(/^(?:oci|oci\+native|oci\+fetch|docker):\/\//, '');
  const parsed = parseOciReference(raw);
  if (!parsed.ok) throw new Error(parsed.reason);
  // oci://registry/repo[:tag][@digest], canonical.
  const body = parsed.value.uri.slice('oci://'.length);
  const at = body.indexOf('@');
  const noDigest = at >= 0 ? body.slice(0, at) : body;
  const slash = noDigest.indexOf('/');
  const registry = noDigest.slice(0, slash);
  let repository = noDigest.slice(slash + 1);
  let tag: string | undefined;
  const colon = repository.lastIndexOf(':');
  if (colon >= 0) {
    tag = repository.slice(colon + 1);
    repository = repository.slice(0, colon);
  }
  return {
    registry,
    apiHost: apiHostOf(registry),
    repository,
    ...(tag !== undefined ? { tag } : {}),
    ...(parsed.value.digest ? { digest: parsed.value.digest } : {}),
  };
}
