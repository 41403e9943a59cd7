// Parses and classifies model locations: OCI references, Hugging Face repos, object-store URIs, PVCs.
// The result says whether the reference is immutable (pinned) and gives a canonical URI that source
// globs are matched against, so `ubuntu` and `docker.io/library/ubuntu` cannot be told apart by a policy.

export type ModelScheme = 'oci' | 'hf' | 's3' | 'gs' | 'azure' | 'https' | 'http' | 'pvc' | 'model-registry';

export interface ParsedModelUri {
  scheme: ModelScheme;
  /** Canonical form, e.g. oci://docker.io/library/ubuntu:latest, hf://org/name:rev, s3://bucket/key. */
  uri: string;
  /** Immutable content identifier, when the reference has one: sha256:<hex> (OCI) or a 40-hex commit (hf). */
  digest?: string;
  pinned: boolean;
  /** Why the reference is not pinned, written for the deployer. */
  unpinnedReason?: string;
  /**
   * The URI scheme an OCI reference was written with (KServe: `oci://` is a modelcar, `oci+native://` an
   * image volume, `oci+fetch://` a download by the storage initializer); absent for bare references.
   */
  transport?: OciTransport;
}

export type OciTransport = 'oci' | 'oci+native' | 'oci+fetch' | 'docker';

export type UriParse = { ok: true; value: ParsedModelUri } | { ok: false; reason: string };

const SHA256 = /^sha256:[0-9a-f]{64}$/;
const HF_COMMIT = /^[0-9a-f]{40}$/;
const OCI_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const OCI_REPO = new RegExp(`^${OCI_COMPONENT}(?:/${OCI_COMPONENT})*$`);

/** Splits an OCI reference into registry/repository, tag and digest, defaulting like the container runtime. */
export function parseOciReference(ref: string): UriParse {
  const trimmed = ref.trim();
  if (trimmed === '' || /\s/.test(trimmed))
    return { ok: false, reason: `"${ref}" is not a valid OCI reference` };
  let rest = trimmed;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!SHA256.test(digest)) {
      return {
        ok: false,
        reason: `"${ref}" has digest "${digest}", expected sha256 followed by 64 lowercase hex digits`,
      };
    }
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!/^[\w][\w.-]{0,127}$/.test(tag))
      return { ok: false, reason: `"${ref}" has an invalid tag "${tag}"` };
  }
  const parts = rest.split('/');
  const first = parts[0] ?? '';
  const hasRegistry =
    parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  // Registry names are host names: case does not matter to DNS, so one spelling is compared.
  let registry = hasRegistry ? first.toLowerCase() : 'docker.io';
  let repo = hasRegistry ? parts.slice(1).join('/') : rest;
  if (registry === 'index.docker.io') registry = 'docker.io';
  if (registry === 'docker.io' && !repo.includes('/')) repo = `library/${repo}`;
  if (repo === '' || !OCI_REPO.test(repo)) {
    return {
      ok: false,
      reason: `"${ref}" has an invalid repository name "${repo}" (lowercase letters, digits, ., _, -, /)`,
    };
  }
  const name = `${registry}/${repo}`;
  const uri = `oci://${name}${digest ? '' : `:${tag ?? 'latest'}`}${tag && digest ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`;
  return digest
    ? { ok: true, value: { scheme: 'oci', uri, digest, pinned: true } }
    : {
        ok: true,
        value: {
          scheme: 'oci',
          uri,
          pinned: false,
          unpinnedReason: `the image is referenced by tag "${tag ?? 'latest'}", which can be moved to other content; pin it as ${name}@sha256:<digest>`,
        },
      };
}

function parseHf(rest: string, original: string): UriParse {
  // hf://owner/name, hf://owner/name:revision (KServe), or hf://owner/name@revision.
  const m = /^([A-Za-z0-9][\w.-]*)\/([\w.-]+)(?:[:@]([\w./-]+))?$/.exec(rest);
  if (!m)
    return {
      ok: false,
      reason: `"${original}" is not a Hugging Face reference of the form hf://owner/name[:revision]`,
    };
  const [, owner, name, revision] = m;
  const uri = `hf://${owner}/${name}${revision ? `:${revision}` : ''}`;
  if (revision && HF_COMMIT.test(revision))
    return { ok: true, value: { scheme: 'hf', uri, digest: revision, pinned: true } };
  return {
    ok: true,
    value: {
      scheme: 'hf',
      uri,
      pinned: false,
      unpinnedReason: revision
        ? `revision "${revision}" is a branch or tag that can move; pin the 40-hex commit: hf://${owner}/${name}:<commit sha>`
        : `no revision is given, so the repository's main branch is used and can change at any time; pin the 40-hex commit: hf://${owner}/${name}:<commit sha>`,
    },
  };
}

const MUTABLE_STORE = (scheme: string) =>
  `${scheme} objects can be overwritten in place; declare the signed digest in the modelgate.io/models annotation`;

/** Classifies a model location written anywhere in a workload. */
export function parseModelUri(raw: string): UriParse {
  const s = raw.trim();
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(s);
  if (!m)
    return {
      ok: false,
      reason: `"${raw}" has no scheme (expected oci://, hf://, s3://, gs://, pvc://, https://)`,
    };
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  switch (scheme) {
    case 'oci':
    case 'oci+native': // KServe: mounted as a Kubernetes image volume
    case 'oci+fetch': // KServe: layers pulled by the storage initializer
    case 'docker': {
      const p = parseOciReference(rest);
      return p.ok ? { ok: true, value: { ...p.value, transport: scheme } } : p;
    }
    case 'hf':
      return parseHf(rest, raw);
    case 's3':
    case 'gs':
    case 'pvc': {
      if (!/^[^/\s]+(\/[^\s]*)?$/.test(rest))
        return { ok: false, reason: `"${raw}" is not a valid ${scheme}:// URI` };
      return {
        ok: true,
        value: {
          scheme,
          uri: `${scheme}://${rest}`,
          pinned: false,
          unpinnedReason:
            scheme === 'pvc'
              ? "a volume's content can change; declare the signed digest in the modelgate.io/models annotation"
              : MUTABLE_STORE(scheme),
        },
      };
    }
    case 'https':
    case 'http': {
      let url: URL;
      try {
        url = new URL(s);
      } catch {
        return { ok: false, reason: `"${raw}" is not a valid URL` };
      }
      const azure = url.hostname.endsWith('.blob.core.windows.net');
      return {
        ok: true,
        value: {
          scheme: azure ? 'azure' : (scheme as 'http' | 'https'),
          uri: url.href,
          pinned: false,
          unpinnedReason:
            'content served from a URL can change; declare the signed digest in the modelgate.io/models annotation',
        },
      };
    }
    case 'model-registry':
      return {
        ok: true,
        value: {
          scheme: 'model-registry',
          uri: s,
          pinned: false,
          unpinnedReason:
            'a registry entry resolves at pull time; declare the signed digest in the modelgate.io/models annotation',
        },
      };
    default:
      return { ok: false, reason: `scheme "${scheme}://" in "${raw}" is not one modelgate understands` };
  }
}

/** A Hugging Face model id as vLLM and TGI take it ("owner/name"), turned into an hf:// URI. */
export function hfIdToUri(id: string, revision?: string): string | undefined {
  if (!/^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(id)) return undefined;
  return `hf://${id}${revision ? `:${revision}` : ''}`;
}
