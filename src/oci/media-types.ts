// The media types modelgate reads in OCI manifests: images (OCI and Docker), CNCF ModelPack (current
// `vnd.cncf` and legacy `vnd.cnai` names), KitOps ModelKits, ORAS-style artifacts and Sigstore bundles
// attached as referrers. Pure: classification only.
//
// Sources: opencontainers/image-spec (media-types.md, manifest.md), modelpack/model-spec
// (specs-go/v1/mediatype.go), kitops (pkg/lib/constants), sigstore/cosign (specs/BUNDLE_SPEC.md).

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

export const OCI_IMAGE_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const DOCKER_IMAGE_CONFIG = 'application/vnd.docker.container.image.v1+json';

/** The OCI 1.1 empty descriptor: `{}` (image-spec manifest.md, "Guidance for an Empty Descriptor"). */
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
export const OCI_EMPTY_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
export const OCI_EMPTY_BYTES = new TextEncoder().encode('{}');

export const MODELPACK_ARTIFACT = 'application/vnd.cncf.model.manifest.v1+json';
export const MODELPACK_CONFIG = 'application/vnd.cncf.model.config.v1+json';
export const MODELPACK_LEGACY_ARTIFACT = 'application/vnd.cnai.model.manifest.v1+json';
export const MODELPACK_LEGACY_CONFIG = 'application/vnd.cnai.model.config.v1+json';
export const KITOPS_CONFIG = 'application/vnd.kitops.modelkit.config.v1+json';

/** Sigstore bundle v0.3 as cosign attaches it (artifactType of the referrer and media type of its layer). */
export { BUNDLE_V03_MEDIA_TYPE as SIGSTORE_BUNDLE_V03 } from '../signing/bundle.ts';
export const BUNDLE_CONTENT_ANNOTATION = 'dev.sigstore.bundle.content';
export const BUNDLE_PREDICATE_ANNOTATION = 'dev.sigstore.bundle.predicateType';
export const CREATED_ANNOTATION = 'org.opencontainers.image.created';

/** A layer's file name: ORAS and the model-signing Go CLI use the OCI title. */
export const TITLE_ANNOTATION = 'org.opencontainers.image.title';
/** ModelPack's file path annotation (and its legacy name); modelgate reads it after the title. */
export const MODELPACK_FILEPATH_ANNOTATION = 'org.cncf.model.filepath';
export const MODELPACK_LEGACY_FILEPATH_ANNOTATION = 'org.cnai.model.filepath';

/** How a blob is packed: one file as is, or a tar archive (possibly compressed). */
export type Packing = 'raw' | 'tar' | 'tar+gzip' | 'tar+zstd' | 'unknown';

export type ManifestFamily =
  'oci-image' | 'docker-image' | 'modelpack' | 'modelpack-legacy' | 'kitops' | 'artifact';

export interface LayerKind {
  /** Which specification names this media type. */
  family: 'oci-image' | 'docker-image' | 'modelpack' | 'modelpack-legacy' | 'kitops' | 'other';
  /** ModelPack: weight, weight.config, doc, code, dataset; KitOps: model, modelpart, dataset, code, docs. */
  role?: string;
  packing: Packing;
}

const MODELPACK_LAYER =
  /^application\/vnd\.(cncf|cnai)\.model\.(weight|weight\.config|doc|code|dataset)\.v1\.(raw|tar|tar\+gzip|tar\+zstd)$/;
const KITOPS_LAYER =
  /^application\/vnd\.kitops\.modelkit\.(model|modelpart|dataset|code|docs|prompts)\.v1\.(tar|tar\+gzip|tar\+zstd)$/;
const OCI_LAYER =
  /^application\/vnd\.oci\.image\.layer\.(?:nondistributable\.)?v1\.(tar|tar\+gzip|tar\+zstd)$/;
const DOCKER_LAYERS: Record<string, Packing> = {
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'tar+gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip': 'tar+gzip',
  'application/vnd.docker.image.rootfs.diff.tar': 'tar',
};

/** What a layer's media type says about its content. Unknown types are `other` with unknown packing. */
export function classifyLayer(mediaType: string): LayerKind {
  let m = MODELPACK_LAYER.exec(mediaType);
  if (m)
    return {
      family: m[1] === 'cncf' ? 'modelpack' : 'modelpack-legacy',
      role: m[2]!,
      packing: m[3] as Packing,
    };
  m = KITOPS_LAYER.exec(mediaType);
  if (m) return { family: 'kitops', role: m[1]!, packing: m[2] as Packing };
  m = OCI_LAYER.exec(mediaType);
  if (m) return { family: 'oci-image', packing: m[1] as Packing };
  const docker = DOCKER_LAYERS[mediaType];
  if (docker) return { family: 'docker-image', packing: docker };
  return { family: 'other', packing: 'unknown' };
}

/** The family of a manifest, from its config media type (and artifactType, which artifacts set). */
export function manifestFamily(configMediaType: string, artifactType?: string): ManifestFamily {
  if (configMediaType === MODELPACK_CONFIG || artifactType === MODELPACK_ARTIFACT) return 'modelpack';
  if (configMediaType === MODELPACK_LEGACY_CONFIG || artifactType === MODELPACK_LEGACY_ARTIFACT)
    return 'modelpack-legacy';
  if (configMediaType === KITOPS_CONFIG) return 'kitops';
  if (configMediaType === OCI_IMAGE_CONFIG) return 'oci-image';
  if (configMediaType === DOCKER_IMAGE_CONFIG) return 'docker-image';
  return 'artifact';
}

/** A config media type a container runtime unpacks into a root file system (the "runnable image" shape). */
export const isImageConfig = (mediaType: string): boolean =>
  mediaType === OCI_IMAGE_CONFIG || mediaType === DOCKER_IMAGE_CONFIG;

/** Manifest media types modelgate reads as a single image manifest. */
export const isImageManifestType = (mediaType: string | undefined): boolean =>
  mediaType === OCI_MANIFEST || mediaType === DOCKER_MANIFEST;

export const isIndexType = (mediaType: string | undefined): boolean =>
  mediaType === OCI_INDEX || mediaType === DOCKER_MANIFEST_LIST;
