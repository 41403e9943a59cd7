// The modelgate.io/v1alpha1 policy API as TypeScript types. The OpenAPI schema in schema.ts is the
// CRD's source of truth; types.test.ts proves that these types and that schema describe the same fields.

export const GROUP = 'modelgate.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export type Enforcement = 'Enforce' | 'Warn' | 'Audit';
export type Sensitivity = 'low' | 'medium' | 'high';

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface GroupKind {
  group: string;
  kind: string;
}

export interface PolicyMatch {
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
  kinds?: GroupKind[];
}

export interface SecretKeyRef {
  name: string;
  /** Only for ClusterModelPolicy; a ModelPolicy reads Secrets in its own namespace only. */
  namespace?: string;
  key: string;
}

export interface ConfigMapKeyRef {
  name: string;
  namespace?: string;
  key: string;
}

export interface KeyAuthority {
  pem?: string;
  secretRef?: SecretKeyRef;
}

export interface CertificateAuthority {
  caBundle: string;
  identities?: string[];
}

export interface KeylessAuthority {
  issuer: string;
  subject?: string;
  subjectRegExp?: string;
  trustedRootRef: ConfigMapKeyRef;
}

export interface Authority {
  name: string;
  key?: KeyAuthority;
  certificate?: CertificateAuthority;
  keyless?: KeylessAuthority;
}

export interface ResourceRequirements {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

export interface VerifierSpec {
  inject?: boolean;
  image?: string;
  resources?: ResourceRequirements;
}

export interface FormatsSpec {
  deny?: string[];
  /** Pickle globals the scan treats as data, in data-only shapes (ClusterModelPolicy only). */
  allowPickleGlobals?: string[];
}

/**
 * A platform team's statement that an image loads no model (a mesh sidecar, a log shipper, a web
 * frontend): by repository glob or by manifest digest. ClusterModelPolicy only.
 */
/**
 * How a ClusterModelPolicy's spec.serverImages names a server (the schema's enum): a platform team approves an
 * image as shipping one of these (src/workloads/servers.ts gives each grammar its id).
 */
export const SERVER_IDS = [
  'vllm',
  'sglang',
  'text-generation-inference',
  'llama.cpp',
  'triton',
  'kserve',
  'kserve-huggingface',
  'mlserver',
  'torchserve',
  'tensorflow-serving',
  'nim',
  'ollama',
] as const;
export type ServerId = (typeof SERVER_IDS)[number];

/** An image the platform team vouches for as shipping a model server (its code decides what is loaded). */
export interface ServerImage {
  /** Repository glob, without tag or digest: registry.example.com/mirror/vllm/vllm-openai. */
  repository?: string;
  /** sha256:<64 hex> of the image manifest: exactly this image. */
  digest?: string;
  /** The servers the image ships, read with their grammars. */
  servers: ServerId[];
  /** Why the image is trusted (a mirror of the official image, an internal build), shown in reports. */
  reason: string;
}

export interface NonModelImage {
  /** Repository glob, without tag or digest: docker.io/istio/proxyv2, registry.example.com/platform/**. */
  repository?: string;
  /** sha256:<64 hex> of the image manifest: exactly this image. */
  digest?: string;
  /** Why the image loads no model, shown in decisions and reports. */
  reason: string;
}

export interface NodeLabelRequirement {
  key: string;
  values: string[];
}

export interface ConfidentialComputingWhen {
  sensitivity: Sensitivity[];
}

export interface ConfidentialComputingSpec {
  when?: ConfidentialComputingWhen;
  always?: boolean;
  runtimeClassNames: string[];
  handlers?: string[];
  requiredNodeLabels?: NodeLabelRequirement[];
}

export interface ModelPolicySpec {
  enforcement?: Enforcement;
  match?: PolicyMatch;
  sources?: string[];
  requirePinned?: boolean;
  allowedDigests?: string[];
  authorities?: Authority[];
  threshold?: number;
  verifier?: VerifierSpec;
  formats?: FormatsSpec;
  nonModelImages?: NonModelImage[];
  serverImages?: ServerImage[];
  confidentialComputing?: ConfidentialComputingSpec;
  enforceUnchangedUpdates?: boolean;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface AuditSummary {
  matched?: number;
  violating?: number;
  lastScan?: string;
}

export interface ModelPolicyStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  audit?: AuditSummary;
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export type PolicyKind = 'ClusterModelPolicy' | 'ModelPolicy';

export interface ModelPolicyResource {
  apiVersion: typeof API_VERSION;
  kind: PolicyKind;
  metadata: ObjectMeta;
  spec: ModelPolicySpec;
  status?: ModelPolicyStatus;
}

/** Label and annotation keys (DESIGN §3: the `modelgate.io/` prefix only). */
export const SENSITIVITY_LABEL = 'modelgate.io/sensitivity';
export const MODELS_ANNOTATION = 'modelgate.io/models';
export const BUNDLE_CONFIGMAP_LABEL = 'modelgate.io/bundle';
/** The name modelgate gives the runtime verifier init container (a name proves nothing by itself). */
export const VERIFIER_CONTAINER_NAME = 'modelgate-verifier';
export const SENSITIVITIES: readonly Sensitivity[] = ['low', 'medium', 'high'];
export const ENFORCEMENTS: readonly Enforcement[] = ['Enforce', 'Warn', 'Audit'];

/**
 * What OpenSSF model signing leaves out of a signature unless told otherwise: git metadata at the top of the
 * model (model_signing's ignore_git_paths). The verifier does not check files there.
 */
export const OMS_DEFAULT_IGNORE_PATHS: readonly string[] = [
  '.git',
  '.gitattributes',
  '.github',
  '.gitignore',
];
