// The red-team harness: one cluster view and policy set (redteam-policies.yaml), and one decision per case
// reached three ways — the webhook (mutate, then validate, as the API server calls them), `modelgate check`
// and the audit — which must agree.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditWorkload } from '../../src/controller/audit-evaluate.ts';
import type { KubeObject } from '../../src/kube/types.ts';
import { checkDecision } from '../../src/cli/check.ts';
import { verifierDecideOptions } from '../../src/mutation/index.ts';
import { buildSnapshot } from '../../src/policy-store/file-store.ts';
import { parseManifestText } from '../../src/policy-store/manifests.ts';
import { DEFAULT_EXEMPT_NAMESPACES } from '../../src/policy/decide.ts';
import type { PolicySnapshot, PolicyStore } from '../../src/policy/store.ts';
import { VerdictCache } from '../../src/signing/index.ts';
import { trustProblem } from '../../src/signing/trust.ts';
import { createAdmission, type AdmissionOutcome } from '../../src/webhook/admission.ts';
import type { AdmissionRequest } from '../../src/webhook/review.ts';
import { expect } from 'vitest';
import type { Case } from './cases.ts';

export const VERIFIER_IMAGE = `registry.example.com/modelgate/verifier@sha256:${'a'.repeat(64)}`;
const HERE = import.meta.dirname;

export function loadSnapshot(): PolicySnapshot {
  const read = (f: string) => parseManifestText(readFileSync(join(HERE, f), 'utf8'), f);
  return buildSnapshot(read('redteam-policies.yaml'), read('redteam-cluster.yaml'), 'modelgate-system');
}

function staticStore(snapshot: PolicySnapshot): PolicyStore {
  return {
    snapshot: () => snapshot,
    ready: () => true,
    onChange: () => undefined,
    start: async () => undefined,
    stop: async () => undefined,
  };
}

type Obj = Record<string, unknown>;

export interface Verdicts {
  /** The object as the API server would store it (after the mutating webhook's patch). */
  final: Obj;
  webhook: AdmissionOutcome;
  check: { allowed: boolean; reasons: string[] };
  audit: { violations: string[]; enforced: boolean } | undefined;
}

/** Applies a JSONPatch of add/remove operations (what the mutating webhook sends). */
function applyPatch(doc: Obj, patchB64: string | undefined): Obj {
  if (!patchB64) return doc;
  const out = structuredClone(doc);
  const ops = JSON.parse(Buffer.from(patchB64, 'base64').toString('utf8')) as {
    op: string;
    path: string;
    value?: unknown;
  }[];
  for (const op of ops) {
    const parts = op.path.split('/').slice(1);
    const last = parts.pop()!;
    let cur: unknown = out;
    for (const p of parts) cur = (cur as Record<string, unknown>)[p];
    if (Array.isArray(cur)) {
      const i = last === '-' ? cur.length : Number(last);
      if (op.op === 'add') cur.splice(i, 0, op.value);
      else if (op.op === 'remove') cur.splice(i, 1);
      else throw new Error(`unsupported op ${op.op}`);
    } else if (op.op === 'add') (cur as Record<string, unknown>)[last] = op.value;
    else throw new Error(`unsupported op ${op.op} on an object`);
  }
  return out;
}

export function createJudge(snapshot: PolicySnapshot) {
  const verdicts = new VerdictCache();
  const verifyBundle = (b: Uint8Array, t: Parameters<VerdictCache['verify']>[1]) => verdicts.verify(b, t);
  const admission = createAdmission({
    store: staticStore(snapshot),
    verifier: { image: VERIFIER_IMAGE },
    verifyBundle,
    validateTrust: trustProblem,
  });
  const options = { verifyBundle, ...verifierDecideOptions({ image: VERIFIER_IMAGE }) };
  let uid = 0;
  const request = (object: Obj, extra: Partial<AdmissionRequest> = {}): AdmissionRequest => {
    const apiVersion = String(object.apiVersion ?? '');
    const group = apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
    const version = apiVersion.includes('/') ? apiVersion.split('/')[1]! : apiVersion;
    const meta = (object.metadata ?? {}) as Obj;
    return {
      uid: `redteam-${++uid}`,
      kind: { group, version, kind: String(object.kind) },
      operation: 'CREATE',
      namespace: String(meta.namespace ?? 'default'),
      name: String(meta.name ?? ''),
      object,
      user: 'redteam',
      dryRun: false,
      ...extra,
    };
  };

  return function judge(object: Obj, req: Partial<AdmissionRequest> = {}, bypassMutation = false): Verdicts {
    const ns = String(((object.metadata ?? {}) as Obj).namespace ?? 'default');
    let final = object;
    if ((req.operation ?? 'CREATE') === 'CREATE' && !req.subResource && !bypassMutation) {
      const m = admission.mutate(request(object, req));
      final = applyPatch(object, m.response.patch);
    }
    const webhook = admission.validate(request(final, req));
    const c = checkDecision(final, ns, snapshot, options);
    const a = auditWorkload(
      final as unknown as KubeObject,
      snapshot,
      DEFAULT_EXEMPT_NAMESPACES,
      verifyBundle,
      options,
    );
    return {
      final,
      webhook,
      check: { allowed: c.allowed, reasons: c.violations.map((v) => `${v.check}: ${v.message}`) },
      audit: a && {
        violations: a.violations.map((v) => `${v.check}: ${v.message}`),
        enforced: a.violations.some((v) => v.enforcement === 'Enforce'),
      },
    };
  };
}

/** One case, decided three ways: the webhook's verdict and reasons, and `check` and the audit agreeing. */
export function expectCaseVerdict(judge: ReturnType<typeof createJudge>, c: Case): void {
  const v = judge(
    c.object,
    c.request
      ? {
          operation: c.request.operation,
          oldObject: c.request.oldObject,
          ...(c.request.subResource ? { subResource: c.request.subResource } : {}),
        }
      : {},
    c.bypassMutation === true,
  );
  // What the deployer reads: the violations, and the denial message with each fix.
  const reasons = `${v.webhook.reasons.join('\n')}\n${v.webhook.response.status?.message ?? ''}`;
  if (c.expect === 'allow') {
    expect(v.webhook.verdict, `webhook refused a control: ${reasons}`).not.toBe('denied');
  } else {
    expect(v.webhook.verdict, `webhook admitted a hostile workload`).toBe('denied');
    expect(reasons).toMatch(c.why!);
    // Every refusal says how to fix it.
    expect(v.webhook.response.status?.message ?? '').toMatch(/Fix: \S/);
  }
  if (!c.request) {
    // The offline check and the audit reach the webhook's verdict on the object as stored.
    expect(v.check.allowed, `check disagrees: ${v.check.reasons.join('; ')}`).toBe(c.expect === 'allow');
    const auditDenies = v.audit?.enforced ?? false;
    expect(auditDenies, `audit disagrees: ${v.audit?.violations.join('; ')}`).toBe(c.expect === 'deny');
  }
}
