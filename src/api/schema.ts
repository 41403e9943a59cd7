// The OpenAPI v3 schema of ModelPolicy/ClusterModelPolicy: the single source of truth for crds/*.yaml
// (scripts/generate-crds.ts writes them; crds.test.ts fails when they drift) and for offline validation
// (validate.ts interprets it, so `modelgate check` and the controller reject what the API server rejects).
import { DENY_FORMAT_NAMES, PICKLE_GLOBAL_PATTERN } from './formats.ts';
import { ENFORCEMENTS, SENSITIVITIES, SERVER_IDS } from './types.ts';

export interface CelRule {
  rule: string;
  message: string;
  fieldPath?: string;
}

export interface SchemaNode {
  type?: 'object' | 'array' | 'string' | 'integer' | 'boolean';
  description?: string;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  additionalProperties?: SchemaNode;
  enum?: string[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-validations'?: CelRule[];
}

const str = (description: string, extra: Partial<SchemaNode> = {}): SchemaNode => ({
  type: 'string',
  description,
  ...extra,
});

const stringList = (
  description: string,
  item: Partial<SchemaNode> = {},
  extra: Partial<SchemaNode> = {},
): SchemaNode => ({
  type: 'array',
  description,
  items: { type: 'string', ...item },
  ...extra,
});

/** A list of platform-approved images (by repository glob or manifest digest), with a reason each. */
const imageApprovals = (
  description: string,
  what: string,
  properties: Record<string, SchemaNode>,
  reason: string,
  required: string[] = [],
): SchemaNode => ({
  type: 'array',
  description,
  maxItems: 256,
  items: {
    type: 'object',
    required: ['reason', ...required],
    'x-kubernetes-validations': [
      {
        rule: 'has(self.repository) != has(self.digest)',
        message: `${what} needs exactly one of repository or digest`,
      },
    ],
    properties: {
      repository: str(
        'Repository glob without tag or digest, matched against the canonical repository (docker.io/library/nginx for "nginx"): "*" within one path segment, "**" across segments. Example: docker.io/istio/proxyv2, registry.example.com/platform/**.',
        { minLength: 1, maxLength: 1024, pattern: '^[^@:]+(:[0-9]+)?(/[^@:]+)*$' },
      ),
      digest: str('The image manifest digest: exactly this image, whatever its name.', {
        pattern: SHA256_DIGEST,
      }),
      ...properties,
      reason: str(reason, { minLength: 1, maxLength: 256 }),
    },
  },
});

const labelSelector = (what: string): SchemaNode => ({
  type: 'object',
  description: `${what} A standard Kubernetes label selector; an empty selector matches everything.`,
  'x-kubernetes-map-type': 'atomic',
  properties: {
    matchLabels: {
      type: 'object',
      description: 'Labels that must all be present with these exact values.',
      additionalProperties: { type: 'string' },
    },
    matchExpressions: {
      type: 'array',
      description: 'Requirements that must all hold.',
      maxItems: 32,
      items: {
        type: 'object',
        required: ['key', 'operator'],
        properties: {
          key: str('The label key.', { minLength: 1, maxLength: 317 }),
          operator: str('How the key relates to the values.', {
            enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'],
          }),
          values: stringList(
            'Values for In and NotIn; must be empty for Exists and DoesNotExist.',
            {},
            { maxItems: 64 },
          ),
        },
        'x-kubernetes-validations': [
          {
            rule: "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : !has(self.values) || size(self.values) == 0",
            message: 'values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist',
          },
        ],
      },
    },
  },
});

const keyRef = (what: string, namespaceNote: string): SchemaNode => ({
  type: 'object',
  description: what,
  required: ['name', 'key'],
  properties: {
    name: str('Name of the object.', { minLength: 1, maxLength: 253 }),
    namespace: str(namespaceNote, { maxLength: 63 }),
    key: str('Key inside the object data.', { minLength: 1, maxLength: 253 }),
  },
});

const SHA256_DIGEST = '^sha256:[0-9a-f]{64}$';

/** Format names `formats.deny` accepts: the scanner's formats and its groups (pytorch, tensorflow, numpy). */
export const FORMAT_NAMES: readonly string[] = DENY_FORMAT_NAMES;

export const specSchema: SchemaNode = {
  type: 'object',
  description: 'What this policy requires of the models that matching workloads serve.',
  properties: {
    enforcement: str(
      'What happens when a workload violates this policy. Enforce: the API server rejects it. Warn: it is admitted and kubectl shows a warning. Audit: it is admitted silently and reported by the audit controller (Events, PolicyReports, metrics).',
      { enum: [...ENFORCEMENTS], default: 'Enforce' },
    ),
    match: {
      type: 'object',
      description: 'Which workloads this policy applies to. All conditions must hold.',
      properties: {
        namespaceSelector: labelSelector(
          'Selects namespaces by their labels. Ignored by a ModelPolicy, which applies only in its own namespace.',
        ),
        objectSelector: labelSelector('Selects workloads by their own labels.'),
        kinds: {
          type: 'array',
          description:
            'Workload kinds this policy applies to, e.g. {group: apps, kind: Deployment} or {group: serving.kserve.io, kind: InferenceService}. Use group "" for core kinds (Pod). Empty means every supported model-serving kind.',
          maxItems: 32,
          items: {
            type: 'object',
            required: ['group', 'kind'],
            properties: {
              group: str('API group; "" for the core group.', { maxLength: 253 }),
              kind: str('Kind, e.g. Deployment.', { minLength: 1, maxLength: 63 }),
            },
          },
        },
      },
    },
    sources: stringList(
      'Allowed model locations as URI globs: "*" matches within one path segment, "**" across segments. Examples: oci://registry.example.com/models/**, hf://example-org/*, s3://ml-models/prod/**, pvc://models/*. Empty means any source.',
      { minLength: 1, maxLength: 1024 },
      { maxItems: 256 },
    ),
    requirePinned: {
      type: 'boolean',
      description:
        'Every model reference must be immutable: an OCI reference with @sha256:<64 hex>, a Hugging Face reference with a 40-hex commit revision (hf://owner/name:<commit>), or a signed digest declared in the modelgate.io/models annotation.',
      default: false,
    },
    allowedDigests: stringList(
      'Model digests (sha256:<64 hex>) trusted without a signature: a model whose pinned digest is listed passes the signature check.',
      { pattern: SHA256_DIGEST },
      { maxItems: 1024 },
    ),
    authorities: {
      type: 'array',
      description:
        'Trusted signers. When set, every model must carry an OpenSSF model-signing bundle that verifies against at least `threshold` of these authorities (at admission when the bundle is inline or in a ConfigMap, otherwise at pod start by the runtime verifier).',
      maxItems: 16,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: {
        type: 'object',
        required: ['name'],
        'x-kubernetes-validations': [
          {
            rule: '[has(self.key), has(self.certificate), has(self.keyless)].filter(x, x).size() == 1',
            message: 'an authority needs exactly one of key, certificate or keyless',
          },
        ],
        properties: {
          name: str('A name for this authority, shown in decisions and reports.', {
            minLength: 1,
            maxLength: 63,
            pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
          }),
          key: {
            type: 'object',
            description: 'A public key (ECDSA P-256/P-384/P-521 or Ed25519), inline or from a Secret.',
            'x-kubernetes-validations': [
              {
                rule: 'has(self.pem) != has(self.secretRef)',
                message: 'key needs exactly one of pem or secretRef',
              },
            ],
            properties: {
              pem: str('The public key in PEM (SubjectPublicKeyInfo).', { maxLength: 16384 }),
              secretRef: keyRef(
                'A Secret holding the public key in PEM.',
                "Namespace of the Secret; ClusterModelPolicy only (defaults to modelgate's namespace). A ModelPolicy always reads its own namespace.",
              ),
            },
          },
          certificate: {
            type: 'object',
            description:
              'Signatures made with a certificate chain that leads to one of these CA certificates.',
            required: ['caBundle'],
            properties: {
              caBundle: str('Trusted CA certificates in PEM.', { minLength: 1, maxLength: 262144 }),
              identities: stringList(
                'Accepted signer identities: exact match on a subject alternative name (email, URI, DNS) or the subject common name of the signing certificate. Empty accepts any certificate that chains to the CA.',
                { minLength: 1, maxLength: 1024 },
                { maxItems: 64 },
              ),
            },
          },
          keyless: {
            type: 'object',
            description: 'Sigstore keyless signatures (Fulcio certificate + Rekor transparency log).',
            required: ['issuer', 'trustedRootRef'],
            'x-kubernetes-validations': [
              {
                rule: 'has(self.subject) != has(self.subjectRegExp)',
                message: 'keyless needs exactly one of subject or subjectRegExp',
              },
            ],
            properties: {
              issuer: str(
                'The OIDC issuer, e.g. https://token.actions.githubusercontent.com (exact match).',
                {
                  minLength: 1,
                  maxLength: 1024,
                },
              ),
              subject: str('The exact certificate identity (email or URI).', {
                minLength: 1,
                maxLength: 1024,
              }),
              subjectRegExp: str(
                'A regular expression the whole certificate identity must match (it is anchored).',
                {
                  minLength: 1,
                  maxLength: 1024,
                },
              ),
              trustedRootRef: keyRef(
                'A ConfigMap holding a Sigstore trusted root JSON (trusted_root.json).',
                "Namespace of the ConfigMap; ClusterModelPolicy only (defaults to modelgate's namespace).",
              ),
            },
          },
        },
      },
    },
    threshold: {
      type: 'integer',
      description: 'How many distinct authorities must verify a model. Defaults to 1.',
      minimum: 1,
      maximum: 16,
    },
    verifier: {
      type: 'object',
      description:
        'The runtime verifier: an init container that hashes every mounted model file against its signed manifest and scans the files before the model server starts.',
      properties: {
        inject: {
          type: 'boolean',
          description: 'Inject the verifier into matching pods that mount model volumes.',
          default: false,
        },
        image: str(
          "Verifier image, pinned by digest (<repository>@sha256:<64 hex>); defaults to the one configured at install time. ClusterModelPolicy only: what runs in a pod on modelgate's behalf is never chosen by a namespace.",
          { maxLength: 1024, pattern: '^[^@]+@sha256:[0-9a-f]{64}$' },
        ),
        resources: {
          type: 'object',
          description: 'Resources of the verifier container. ClusterModelPolicy only.',
          properties: {
            requests: {
              type: 'object',
              description: 'Requested resources, e.g. cpu: 500m.',
              additionalProperties: { type: 'string' },
            },
            limits: {
              type: 'object',
              description: 'Resource limits, e.g. memory: 256Mi.',
              additionalProperties: { type: 'string' },
            },
          },
        },
      },
    },
    formats: {
      type: 'object',
      description: "What the runtime verifier's scan of model files refuses and allows.",
      properties: {
        deny: stringList(
          'Formats to refuse, e.g. pickle (any file holding a Python pickle, including PyTorch checkpoints and joblib files).',
          { enum: [...FORMAT_NAMES] },
          { maxItems: FORMAT_NAMES.length, 'x-kubernetes-list-type': 'set' },
        ),
        allowPickleGlobals: stringList(
          "Pickle globals the runtime verifier's scan treats as data, for a library modelgate does not know (e.g. mycompany.preprocessing.ClipOutliers): exact, fully qualified names. An allowed name may be referenced, instantiated, given state and called with plain data, never used to run code, and never overrides the scanner's denylist (os.system, builtins.eval, ...). When several policies inject the verifier into one pod, a name is allowed only if every one of them allows it. ClusterModelPolicy only.",
          { pattern: PICKLE_GLOBAL_PATTERN, maxLength: 256 },
          { maxItems: 256, 'x-kubernetes-list-type': 'set' },
        ),
      },
    },
    nonModelImages: imageApprovals(
      'Images that load no model (a service-mesh sidecar, a log shipper, a web frontend), approved by the platform team. Every container of a workload this policy selects must either run a model server modelgate reads (its models are then checked) or run an image listed here. Approve only images that cannot fetch or load a model whatever their arguments: a general-purpose image with a shell or an interpreter is not one. ClusterModelPolicy only: a ModelPolicy cannot approve images.',
      'a non-model image',
      {},
      'Why this image loads no model; shown in decisions and reports.',
    ),
    serverImages: imageApprovals(
      "Images that ship a model server, approved by the platform team, beyond the servers' official images (docs/policy.md#model-servers): a mirror, an internal build. A server's code decides what it loads, so modelgate reads a container's command line as vLLM's (or another server's) only when its image is the server's official image or listed here for that server; otherwise the container is refused. ClusterModelPolicy only: a ModelPolicy cannot approve images.",
      'a server image',
      {
        servers: stringList(
          'The servers this image ships, as modelgate names them.',
          { enum: [...SERVER_IDS] },
          { minItems: 1, maxItems: SERVER_IDS.length, 'x-kubernetes-list-type': 'set' },
        ),
      },
      'Why this image is trusted to be the server it says (a mirror of the official image, an internal build); shown in decisions and reports.',
      ['servers'],
    ),
    confidentialComputing: {
      type: 'object',
      description:
        'Where sensitive models may run: on a confidential-computing (TEE) runtime class and on nodes with the given labels.',
      required: ['runtimeClassNames'],
      'x-kubernetes-validations': [
        {
          rule: 'has(self.when) != (has(self.always) && self.always)',
          message: 'confidentialComputing needs exactly one of when or always: true',
        },
      ],
      properties: {
        when: {
          type: 'object',
          description:
            'Apply only to workloads of these sensitivities (label modelgate.io/sensitivity on the workload, or on its namespace).',
          required: ['sensitivity'],
          properties: {
            sensitivity: stringList(
              'Sensitivities that require confidential computing.',
              { enum: [...SENSITIVITIES] },
              {
                minItems: 1,
                'x-kubernetes-list-type': 'set',
              },
            ),
          },
        },
        always: {
          type: 'boolean',
          description: 'Apply to every matching workload whatever its sensitivity.',
        },
        runtimeClassNames: stringList(
          'Allowed RuntimeClass names, e.g. kata-qemu-snp, kata-qemu-tdx, kata-qemu-nvidia-gpu-snp. Development runtimes such as kata-qemu-coco-dev pass only if listed.',
          { minLength: 1, maxLength: 253 },
          { minItems: 1, maxItems: 64, 'x-kubernetes-list-type': 'set' },
        ),
        handlers: stringList(
          'Allowed RuntimeClass handlers. The named RuntimeClass must exist and its handler must be one of these; defaults to runtimeClassNames (Kata names its handlers after its classes), so a class named like a TEE but using runc is refused.',
          { minLength: 1, maxLength: 253 },
          { maxItems: 64, 'x-kubernetes-list-type': 'set' },
        ),
        requiredNodeLabels: {
          type: 'array',
          description:
            'Node labels the pod must require: each must appear in spec.nodeSelector, or in every term of the required node affinity, with one of the values.',
          maxItems: 32,
          items: {
            type: 'object',
            required: ['key', 'values'],
            properties: {
              key: str('Node label key, e.g. feature.node.kubernetes.io/cpu-security.sev.snp.enabled.', {
                minLength: 1,
                maxLength: 317,
              }),
              values: stringList('Accepted values.', { maxLength: 63 }, { minItems: 1, maxItems: 64 }),
            },
          },
        },
      },
    },
    enforceUnchangedUpdates: {
      type: 'boolean',
      description:
        'Also enforce on updates that change neither the model references nor the placement of a workload (e.g. scaling or a label change). Default false: tightening a policy does not block routine updates of workloads already running; the audit controller reports them instead.',
      default: false,
    },
  },
  'x-kubernetes-validations': [
    {
      rule: '!has(self.threshold) || (has(self.authorities) && self.threshold <= size(self.authorities))',
      message: 'threshold cannot exceed the number of authorities',
      fieldPath: '.threshold',
    },
  ],
};

export const statusSchema: SchemaNode = {
  type: 'object',
  description: 'Observed state, written by the modelgate controller.',
  properties: {
    observedGeneration: { type: 'integer', description: 'The metadata.generation this status describes.' },
    conditions: {
      type: 'array',
      description:
        'Ready tells whether the policy compiled and is in force; its reason and message say why not.',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
      items: {
        type: 'object',
        required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
        properties: {
          type: str('Condition type, e.g. Ready.', { maxLength: 316 }),
          status: str('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
          reason: str('A CamelCase reason, e.g. Compiled, InvalidSpec, KeysUnresolved.', { maxLength: 1024 }),
          message: str('A human-readable explanation.', { maxLength: 32768 }),
          lastTransitionTime: str('When the status last changed.', { format: 'date-time' }),
          observedGeneration: { type: 'integer', description: 'The generation this condition was set for.' },
        },
      },
    },
    audit: {
      type: 'object',
      description: 'The last audit of existing workloads.',
      properties: {
        matched: { type: 'integer', description: 'Workloads this policy applies to.' },
        violating: { type: 'integer', description: 'Of those, how many violate it.' },
        lastScan: str('When the audit ran.', { format: 'date-time' }),
      },
    },
  },
};
