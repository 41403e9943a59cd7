// Glue between the wire and the decision core: an AdmissionRequest goes to decide() (validate) or to
// decide() + verifierInjection() (mutate) with the current policy snapshot, and the Decision comes back as
// an AdmissionResponse. The verdicts themselves are made in src/policy and src/mutation.
import type { CompiledPolicy } from '../policy/compile.ts';
import { decide, type AdmissionInput, type DecideOptions } from '../policy/decide.ts';
import type { PolicySnapshot, PolicyStore } from '../policy/store.ts';
import type { BundleVerifier, TrustValidator } from '../policy/signature-seam.ts';
import { GROUP } from '../api/types.ts';
import { MemoryClusterView } from '../policy/cluster-view.ts';
import { admitPolicy } from '../policy/policy-admission.ts';
import type { PolicySet } from '../policy/policy-set.ts';
import type { Decision, OciEvidenceMiss, Violation } from '../policy/types.ts';
import { verifierDecideOptions, verifierInjection, type VerifierDefaults } from '../mutation/index.ts';
import { NamespaceIndexedPolicySet } from '../policy/namespace-index.ts';
import { auditAnnotations, denialMessage, objectLabel, trimWarnings } from './messages.ts';
import type { AdmissionRequest, AdmissionResponse } from './review.ts';

export interface AdmissionOptions {
  store: PolicyStore;
  verifier: VerifierDefaults;
  /** Parses trust material of policies being created or updated (signing's trustProblem). */
  validateTrust: TrustValidator;
  /** Namespace of cluster-wide key Secrets and trusted roots (default modelgate-system). */
  controllerNamespace?: string;
  verifyBundle?: BundleVerifier;
  exemptNamespaces?: ReadonlySet<string>;
  /** Told (after deciding) which OCI digests had no registry evidence yet: the controller is asked for it. */
  onOciMisses?: (misses: OciEvidenceMiss[], object: unknown, namespace: string) => void;
}

export type Verdict = 'allowed' | 'denied' | 'warned' | 'patched';

/** The answer plus what telemetry records about it. */
export interface AdmissionOutcome {
  response: AdmissionResponse;
  verdict: Verdict;
  policies: string[];
  reasons: string[];
  /** Per matching policy: did it find a violation. */
  policyResults: { policy: string; violated: boolean }[];
  /** Which evidence verified each model, per policy ("policy model: admission-oci"), for the audit record. */
  evidence?: string[];
}

export interface Admission {
  validate(req: AdmissionRequest): AdmissionOutcome;
  mutate(req: AdmissionRequest): AdmissionOutcome;
}

interface SnapshotExtras {
  byId: Map<string, CompiledPolicy>;
  policies: PolicySet;
  validateOptions: DecideOptions;
}

function inputOf(req: AdmissionRequest): AdmissionInput {
  return {
    operation: req.operation,
    kind: { group: req.kind.group, kind: req.kind.kind },
    ...(req.object !== undefined ? { object: req.object } : {}),
    ...(req.oldObject !== undefined ? { oldObject: req.oldObject } : {}),
    ...(req.namespace ? { namespace: req.namespace } : {}),
    ...(req.subResource ? { subResource: req.subResource } : {}),
  };
}

const objectName = (req: AdmissionRequest): string | undefined => {
  if (req.name) return req.name;
  const meta = (req.object as { metadata?: { name?: unknown; generateName?: unknown } } | undefined)
    ?.metadata;
  return typeof meta?.name === 'string'
    ? meta.name
    : typeof meta?.generateName === 'string'
      ? `${meta.generateName}*`
      : undefined;
};

const objectNamespace = (o: unknown): string => {
  const ns = (o as { metadata?: { namespace?: unknown } } | undefined)?.metadata?.namespace;
  return typeof ns === 'string' && ns !== '' ? ns : 'default';
};

const policyResults = (d: Decision) =>
  d.policies.map((policy) => ({ policy, violated: d.violations.some((v) => v.policy === policy) }));

export function createAdmission(opts: AdmissionOptions): Admission {
  const base: DecideOptions = {
    ...(opts.verifyBundle ? { verifyBundle: opts.verifyBundle } : {}),
    ...(opts.exemptNamespaces ? { exemptNamespaces: opts.exemptNamespaces } : {}),
  };
  // Per-snapshot derived values, computed once per policy change rather than per request.
  const extras = new WeakMap<PolicySnapshot, SnapshotExtras>();
  const extrasOf = (snap: PolicySnapshot): SnapshotExtras => {
    let e = extras.get(snap);
    if (!e) {
      const byId = new Map(snap.policies.policies.map((p) => [p.id, p]));
      e = {
        byId,
        policies: new NamespaceIndexedPolicySet(snap.policies, snap.cluster),
        validateOptions: { ...base, ...verifierDecideOptions(opts.verifier) },
      };
      extras.set(snap, e);
    }
    return e;
  };

  /** A request modelgate cannot decide: fail closed where an Enforce policy could apply, else warn. */
  function undecidable(
    req: AdmissionRequest,
    reason: string,
    snap: PolicySnapshot | undefined,
  ): AdmissionOutcome {
    const ns = req.namespace ?? 'default';
    const candidates = snap ? snap.policies.candidates(req.kind.group, req.kind.kind, ns) : undefined;
    const enforced = candidates === undefined || candidates.some((p) => p.enforcement === 'Enforce');
    const message = `modelgate could not decide on ${objectLabel(req.kind.kind, req.namespace, objectName(req))}: ${reason}`;
    if (enforced)
      return {
        response: {
          uid: req.uid,
          allowed: false,
          status: { code: 403, reason: 'Forbidden', message },
          auditAnnotations: auditAnnotations({ decision: 'undecidable', policies: [], violations: 0 }),
        },
        verdict: 'denied',
        policies: [],
        reasons: [reason],
        policyResults: [],
      };
    return {
      response: {
        uid: req.uid,
        allowed: true,
        warnings: trimWarnings([`${message} (admitted: no policy that could apply enforces)`]),
      },
      verdict: 'warned',
      policies: [],
      reasons: [reason],
      policyResults: [],
    };
  }

  /** Snapshot for a request, or the reason there is none yet. Never reads files: the store is in memory. */
  function snapshotFor(req: AdmissionRequest): PolicySnapshot | string {
    if (!opts.store.ready()) return 'policies are not loaded yet; retry in a few seconds';
    if (
      (req.operation === 'CREATE' || req.operation === 'UPDATE') &&
      req.object === undefined &&
      !req.subResource
    )
      return `request.object is missing from a ${req.operation} request`;
    return opts.store.snapshot();
  }

  function validate(req: AdmissionRequest): AdmissionOutcome {
    if (req.operation === 'DELETE' || req.operation === 'CONNECT')
      return allowedOutcome(req, [], [`${req.operation} is never blocked`]);
    if (
      req.kind.group === GROUP &&
      (req.kind.kind === 'ClusterModelPolicy' || req.kind.kind === 'ModelPolicy')
    )
      return policyOutcome(req);
    const snap = snapshotFor(req);
    if (typeof snap === 'string')
      return undecidable(req, snap, opts.store.ready() ? opts.store.snapshot() : undefined);
    let decision: Decision;
    try {
      const { policies, validateOptions } = extrasOf(snap);
      decision = decide(inputOf(req), policies, snap.cluster, validateOptions);
    } catch (err) {
      return undecidable(req, `internal error: ${(err as Error).message}`, snap);
    }
    if (decision.ociMisses && opts.onOciMisses)
      opts.onOciMisses(decision.ociMisses, req.object, req.namespace ?? objectNamespace(req.object));
    const label = objectLabel(req.kind.kind, req.namespace, objectName(req));
    const evidence = decision.evidence?.map((e) => `[${e.policy}] ${e.model}: ${e.kind}`);
    const reasons =
      decision.violations.length > 0
        ? decision.violations.map(formatReason)
        : decision.skipped
          ? [decision.skipped]
          : [];
    const annotations = auditAnnotations({
      decision: decision.allowed ? 'allowed' : 'denied',
      policies: decision.policies,
      violations: decision.violations.length,
    });
    const warnings = trimWarnings(decision.warnings);
    if (!decision.allowed) {
      const enforced = decision.violations.filter((v) => v.enforcement === 'Enforce');
      return {
        response: {
          uid: req.uid,
          allowed: false,
          status: { code: 403, reason: 'Forbidden', message: denialMessage(label, enforced) },
          ...(warnings.length > 0 ? { warnings } : {}),
          auditAnnotations: annotations,
        },
        verdict: 'denied',
        policies: decision.policies,
        reasons,
        policyResults: policyResults(decision),
        ...(evidence ? { evidence } : {}),
      };
    }
    return {
      response: {
        uid: req.uid,
        allowed: true,
        ...(warnings.length > 0 ? { warnings } : {}),
        ...(decision.policies.length > 0 ? { auditAnnotations: annotations } : {}),
      },
      verdict: warnings.length > 0 ? 'warned' : 'allowed',
      policies: decision.policies,
      reasons,
      policyResults: policyResults(decision),
      ...(evidence ? { evidence } : {}),
    };
  }

  /** A policy being created or updated: refused when it could not be enforced as written. */
  function policyOutcome(req: AdmissionRequest): AdmissionOutcome {
    const cluster = opts.store.ready() ? opts.store.snapshot().cluster : new MemoryClusterView();
    const a = admitPolicy(req.object, cluster, {
      controllerNamespace: opts.controllerNamespace ?? 'modelgate-system',
      validateTrust: opts.validateTrust,
    });
    const warnings = trimWarnings(a.warnings);
    if (!a.allowed)
      return {
        response: {
          uid: req.uid,
          allowed: false,
          status: { code: 422, reason: 'Invalid', message: a.message ?? 'the policy is invalid' },
        },
        verdict: 'denied',
        policies: [],
        reasons: [a.message ?? ''],
        policyResults: [],
      };
    return {
      response: { uid: req.uid, allowed: true, ...(warnings.length > 0 ? { warnings } : {}) },
      verdict: warnings.length > 0 ? 'warned' : 'allowed',
      policies: [],
      reasons: a.warnings,
      policyResults: [],
    };
  }

  function mutate(req: AdmissionRequest): AdmissionOutcome {
    // Only a Pod being created gets the verifier: its init containers cannot change afterwards, and pod
    // templates become pods that come through here. Validation enforces what mutation could not do.
    if (req.operation !== 'CREATE' || req.subResource || req.kind.group !== '' || req.kind.kind !== 'Pod')
      return allowedOutcome(req, [], ['not a pod being created']);
    const snap = snapshotFor(req);
    if (typeof snap === 'string')
      return undecidable(req, snap, opts.store.ready() ? opts.store.snapshot() : undefined);
    try {
      const { byId, policies } = extrasOf(snap);
      const decision = decide(inputOf(req), policies, snap.cluster, base);
      const matching = decision.policies
        .map((id) => byId.get(id))
        .filter((p): p is CompiledPolicy => p !== undefined);
      const namespace =
        req.namespace ??
        (req.object as { metadata?: { namespace?: string } }).metadata?.namespace ??
        'default';
      const result = verifierInjection(req.object, {
        namespace,
        policies: matching,
        cluster: snap.cluster,
        defaults: opts.verifier,
        ...(opts.verifyBundle ? { verifyBundle: opts.verifyBundle } : {}),
      });
      const warnings = trimWarnings(
        result.refusals.map(
          (r) =>
            `[${r.policy.id}] the runtime verifier was not injected: ${r.message}. Fix: ${r.remediation}.`,
        ),
      );
      const response: AdmissionResponse = {
        uid: req.uid,
        allowed: true,
        ...(warnings.length > 0 ? { warnings } : {}),
      };
      if (result.patch.length > 0) {
        response.patchType = 'JSONPatch';
        response.patch = Buffer.from(JSON.stringify(result.patch)).toString('base64');
        response.auditAnnotations = {
          'verifier-injected': 'true',
          policies: result.config?.policies.join(',') ?? '',
        };
      }
      return {
        response,
        verdict: result.patch.length > 0 ? 'patched' : warnings.length > 0 ? 'warned' : 'allowed',
        policies: decision.policies,
        reasons: result.refusals.map((r) => r.message),
        policyResults: [],
      };
    } catch (err) {
      return undecidable(req, `internal error: ${(err as Error).message}`, snap);
    }
  }

  return { validate, mutate };
}

function formatReason(v: Violation): string {
  return `[${v.policy}] [${v.enforcement}] ${v.check}${v.model ? ` (${v.model})` : ''}: ${v.message}`;
}

function allowedOutcome(req: AdmissionRequest, policies: string[], reasons: string[]): AdmissionOutcome {
  return {
    response: { uid: req.uid, allowed: true },
    verdict: 'allowed',
    policies,
    reasons,
    policyResults: [],
  };
}
