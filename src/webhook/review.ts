// admission.k8s.io/v1 AdmissionReview on the wire: parse the untrusted body once into a typed request,
// and build the response envelope. Nothing here decides anything.
import type { Operation } from '../policy/decide.ts';
import { isObj } from '../json/shape.ts';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';
const OPERATIONS: readonly Operation[] = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];
const MAX_UID_LENGTH = 128;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  operation: Operation;
  namespace?: string;
  name?: string;
  subResource?: string;
  /** userInfo.username only: groups and extra may carry identifiers the audit log does not need. */
  user?: string;
  object?: unknown;
  oldObject?: unknown;
  dryRun: boolean;
}

export type ReviewParse =
  | { ok: true; request: AdmissionRequest }
  /** `uid` is set when the envelope was well-formed enough to answer with an AdmissionReview. */
  | { ok: false; message: string; uid?: string };

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; message: string; reason?: string };
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
  patchType?: 'JSONPatch';
  /** base64 of the JSON patch. */
  patch?: string;
}

export interface AdmissionReviewResponse {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

function parseKind(v: unknown): GroupVersionKind | undefined {
  if (!isObj(v) || typeof v.kind !== 'string' || v.kind === '') return undefined;
  return {
    group: typeof v.group === 'string' ? v.group : '',
    version: typeof v.version === 'string' ? v.version : '',
    kind: v.kind,
  };
}

export function parseAdmissionReview(body: unknown): ReviewParse {
  if (!isObj(body))
    return { ok: false, message: 'the body must be a JSON object: an admission.k8s.io/v1 AdmissionReview' };
  if (body.apiVersion !== ADMISSION_API_VERSION)
    return {
      ok: false,
      message: `apiVersion must be "${ADMISSION_API_VERSION}", got ${JSON.stringify(body.apiVersion ?? null).slice(0, 64)}`,
    };
  if (body.kind !== 'AdmissionReview')
    return {
      ok: false,
      message: `kind must be "AdmissionReview", got ${JSON.stringify(body.kind ?? null).slice(0, 64)}`,
    };
  const req = body.request;
  if (!isObj(req)) return { ok: false, message: 'the AdmissionReview has no request object' };
  const uid = str(req.uid);
  if (!uid) return { ok: false, message: 'request.uid is missing or not a string' };
  if (uid.length > MAX_UID_LENGTH)
    return { ok: false, message: `request.uid is longer than ${MAX_UID_LENGTH} characters` };
  const fail = (message: string): ReviewParse => ({ ok: false, message, uid });
  const operation = req.operation;
  if (typeof operation !== 'string' || !(OPERATIONS as readonly string[]).includes(operation))
    return fail(
      `request.operation must be one of ${OPERATIONS.join(', ')}, got ${JSON.stringify(operation ?? null).slice(0, 64)}`,
    );
  const kind = parseKind(req.kind);
  if (!kind) return fail('request.kind must be an object with group, version and kind');
  if (req.dryRun !== undefined && typeof req.dryRun !== 'boolean')
    return fail('request.dryRun must be a boolean');
  const userInfo = isObj(req.userInfo) ? req.userInfo : {};
  const namespace = str(req.namespace);
  const name = str(req.name);
  const subResource = str(req.subResource);
  const user = str(userInfo.username);
  return {
    ok: true,
    request: {
      uid,
      kind,
      operation: operation as Operation,
      ...(namespace ? { namespace } : {}),
      ...(name ? { name } : {}),
      ...(subResource ? { subResource } : {}),
      ...(user ? { user: user.slice(0, 256) } : {}),
      ...(req.object !== undefined && req.object !== null ? { object: req.object } : {}),
      ...(req.oldObject !== undefined && req.oldObject !== null ? { oldObject: req.oldObject } : {}),
      dryRun: req.dryRun === true,
    },
  };
}

export function reviewResponse(response: AdmissionResponse): AdmissionReviewResponse {
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}
