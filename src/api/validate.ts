// Validates untrusted policy objects against the schema in schema.ts, the way the API server would
// (structural schema + the CEL rules, re-implemented here so offline `modelgate check` and the
// controller reach the same verdict), and applies the schema defaults. Errors name the field.
import { specSchema, type SchemaNode } from './schema.ts';
import { API_VERSION, type ModelPolicyResource, type PolicyKind } from './types.ts';
import { compileIdentityPattern } from './identity-pattern.ts';
import { isObj as isObject } from '../json/shape.ts';

export interface FieldError {
  path: string;
  message: string;
}

type Json = unknown;
const has = (o: Record<string, Json>, k: string) => o[k] !== undefined && o[k] !== null;

/**
 * TypeScript twins of the CEL rules in schema.ts, keyed by the exact rule text. `celRulesImplemented`
 * (tested) proves that every rule in the schema has a twin here, so the two cannot silently diverge.
 */
export const celTwins: Record<string, (self: Record<string, Json>) => boolean> = {
  "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : !has(self.values) || size(self.values) == 0":
    (s) => {
      const n = Array.isArray(s.values) ? s.values.length : 0;
      return s.operator === 'In' || s.operator === 'NotIn' ? n > 0 : n === 0;
    },
  '[has(self.key), has(self.certificate), has(self.keyless)].filter(x, x).size() == 1': (s) =>
    [has(s, 'key'), has(s, 'certificate'), has(s, 'keyless')].filter(Boolean).length === 1,
  'has(self.pem) != has(self.secretRef)': (s) => has(s, 'pem') !== has(s, 'secretRef'),
  'has(self.repository) != has(self.digest)': (s) => has(s, 'repository') !== has(s, 'digest'),
  'has(self.subject) != has(self.subjectRegExp)': (s) => has(s, 'subject') !== has(s, 'subjectRegExp'),
  'has(self.when) != (has(self.always) && self.always)': (s) => has(s, 'when') !== (s.always === true),
  '!has(self.threshold) || (has(self.authorities) && self.threshold <= size(self.authorities))': (s) =>
    !has(s, 'threshold') ||
    (Array.isArray(s.authorities) && typeof s.threshold === 'number' && s.threshold <= s.authorities.length),
};

function describe(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

/** Walks `value` against `schema`, collecting every problem (not just the first). */
export function validateAgainstSchema(
  value: Json,
  schema: SchemaNode,
  path: string,
  errors: FieldError[],
): void {
  const fail = (message: string): void => {
    errors.push({ path, message });
  };
  switch (schema.type) {
    case 'object': {
      if (!isObject(value)) return fail(`must be an object, not ${describe(value)}`);
      for (const req of schema.required ?? []) {
        if (!has(value, req)) errors.push({ path: `${path}.${req}`, message: 'is required' });
      }
      for (const [k, v] of Object.entries(value)) {
        if (v === null || v === undefined) continue;
        const prop = schema.properties?.[k];
        if (prop) validateAgainstSchema(v, prop, `${path}.${k}`, errors);
        else if (schema.additionalProperties)
          validateAgainstSchema(v, schema.additionalProperties, `${path}.${k}`, errors);
        else if (!schema['x-kubernetes-preserve-unknown-fields']) {
          const known = Object.keys(schema.properties ?? {});
          errors.push({ path: `${path}.${k}`, message: `unknown field (known fields: ${known.join(', ')})` });
        }
      }
      break;
    }
    case 'array': {
      if (!Array.isArray(value)) return fail(`must be a list, not ${describe(value)}`);
      if (schema.minItems !== undefined && value.length < schema.minItems)
        fail(`must have at least ${schema.minItems} item(s)`);
      if (schema.maxItems !== undefined && value.length > schema.maxItems)
        fail(`must have at most ${schema.maxItems} items, has ${value.length}`);
      if (schema['x-kubernetes-list-type'] === 'set') {
        const seen = new Set(value.map((v) => JSON.stringify(v)));
        if (seen.size !== value.length) fail('must not contain duplicates');
      }
      const mapKeys = schema['x-kubernetes-list-map-keys'];
      if (schema['x-kubernetes-list-type'] === 'map' && mapKeys) {
        const seen = new Set<string>();
        for (const item of value) {
          if (!isObject(item)) continue;
          const key = JSON.stringify(mapKeys.map((k) => item[k]));
          if (seen.has(key)) fail(`has two items with the same ${mapKeys.join('/')} ${key}`);
          seen.add(key);
        }
      }
      if (schema.items)
        value.forEach((item, i) => validateAgainstSchema(item, schema.items!, `${path}[${i}]`, errors));
      break;
    }
    case 'string': {
      if (typeof value !== 'string') return fail(`must be a string, not ${describe(value)}`);
      if (schema.enum && !schema.enum.includes(value))
        return fail(`must be one of ${schema.enum.join(', ')}; got ${JSON.stringify(value)}`);
      if (schema.minLength !== undefined && value.length < schema.minLength)
        fail(
          schema.minLength === 1 ? 'must not be empty' : `must be at least ${schema.minLength} characters`,
        );
      if (schema.maxLength !== undefined && value.length > schema.maxLength)
        fail(`must be at most ${schema.maxLength} characters`);
      if (schema.pattern && !new RegExp(schema.pattern).test(value))
        fail(`${JSON.stringify(value)} does not match ${schema.pattern}`);
      break;
    }
    case 'integer': {
      if (typeof value !== 'number' || !Number.isInteger(value))
        return fail(`must be an integer, not ${describe(value)}`);
      if (schema.minimum !== undefined && value < schema.minimum) fail(`must be at least ${schema.minimum}`);
      if (schema.maximum !== undefined && value > schema.maximum) fail(`must be at most ${schema.maximum}`);
      break;
    }
    case 'boolean':
      if (typeof value !== 'boolean') fail(`must be true or false, not ${describe(value)}`);
      break;
    default:
      break;
  }
  if (errors.length === 0 || isObject(value)) {
    for (const rule of schema['x-kubernetes-validations'] ?? []) {
      const twin = celTwins[rule.rule];
      if (!twin) throw new Error(`schema rule has no TypeScript twin: ${rule.rule}`);
      if (isObject(value) && !twin(value))
        errors.push({ path: path + (rule.fieldPath ?? ''), message: rule.message });
    }
  }
}

/** Fills schema defaults into a copy of `value` (objects that are present only, as the API server does). */
export function applyDefaults<T>(value: T, schema: SchemaNode): T {
  if (schema.type === 'object' && isObject(value)) {
    const out: Record<string, Json> = { ...value };
    for (const [k, prop] of Object.entries(schema.properties ?? {})) {
      if (out[k] === undefined && prop.default !== undefined) out[k] = structuredClone(prop.default);
      else if (out[k] !== undefined) out[k] = applyDefaults(out[k], prop);
    }
    return out as T;
  }
  if (schema.type === 'array' && Array.isArray(value) && schema.items) {
    return value.map((v) => applyDefaults(v, schema.items!)) as T;
  }
  return value;
}

export type PolicyParseResult =
  { ok: true; policy: ModelPolicyResource } | { ok: false; errors: FieldError[] };

const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Parses an untrusted object as a ClusterModelPolicy or ModelPolicy: typed value, or every field error. */
export function parsePolicy(obj: Json): PolicyParseResult {
  const errors: FieldError[] = [];
  if (!isObject(obj))
    return { ok: false, errors: [{ path: '', message: `must be an object, not ${describe(obj)}` }] };
  if (obj.apiVersion !== API_VERSION)
    errors.push({
      path: 'apiVersion',
      message: `must be ${API_VERSION}, not ${JSON.stringify(obj.apiVersion)}`,
    });
  const kind = obj.kind;
  if (kind !== 'ClusterModelPolicy' && kind !== 'ModelPolicy')
    errors.push({
      path: 'kind',
      message: `must be ClusterModelPolicy or ModelPolicy, not ${JSON.stringify(kind)}`,
    });
  const meta = obj.metadata;
  if (
    !isObject(meta) ||
    typeof meta.name !== 'string' ||
    !NAME_RE.test(meta.name) ||
    meta.name.length > 253
  ) {
    errors.push({ path: 'metadata.name', message: 'must be a lowercase DNS name (a-z, 0-9, "-", ".")' });
  }
  if (
    kind === 'ModelPolicy' &&
    (!isObject(meta) || typeof meta.namespace !== 'string' || meta.namespace === '')
  ) {
    errors.push({
      path: 'metadata.namespace',
      message: 'a ModelPolicy is namespaced: set metadata.namespace',
    });
  }
  const spec = obj.spec ?? {};
  validateAgainstSchema(spec, specSchema, 'spec', errors);
  if (errors.length === 0) {
    for (const [i, a] of (
      (isObject(spec) && Array.isArray(spec.authorities) ? spec.authorities : []) as Json[]
    ).entries()) {
      const ns =
        isObject(a) && isObject(a.key) && isObject(a.key.secretRef) ? a.key.secretRef.namespace : undefined;
      const ns2 =
        isObject(a) && isObject(a.keyless) && isObject(a.keyless.trustedRootRef)
          ? a.keyless.trustedRootRef.namespace
          : undefined;
      if (kind === 'ModelPolicy' && (ns !== undefined || ns2 !== undefined)) {
        errors.push({
          path: `spec.authorities[${i}]`,
          message:
            'a ModelPolicy may only reference objects in its own namespace: remove the namespace field',
        });
      }
      if (isObject(a) && isObject(a.keyless) && typeof a.keyless.subjectRegExp === 'string') {
        try {
          compileIdentityPattern(a.keyless.subjectRegExp);
        } catch (err) {
          errors.push({
            path: `spec.authorities[${i}].keyless.subjectRegExp`,
            message: (err as Error).message,
          });
        }
      }
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  const policy = {
    ...(obj as object),
    spec: applyDefaults(spec, specSchema),
  } as ModelPolicyResource;
  return { ok: true, policy };
}

export function formatFieldErrors(errors: FieldError[]): string {
  return errors.map((e) => `${e.path || '(root)'}: ${e.message}`).join('; ');
}

export function policyKindOf(obj: Json): PolicyKind | undefined {
  return isObject(obj) && (obj.kind === 'ClusterModelPolicy' || obj.kind === 'ModelPolicy')
    ? obj.kind
    : undefined;
}
