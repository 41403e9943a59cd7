// Reading untrusted JSON (Kubernetes objects, annotations, bundles) without trusting its shape: each
// accessor answers for any input and never throws. Used wherever parsed JSON is inspected.

export type JsonObject = Record<string, unknown>;

/** A plain JSON object (not null, not an array). */
export const isObj = (v: unknown): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The value if it is an array, else an empty one. */
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The value if it is a string. */
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The value if it is an object, else an empty one. */
export const obj = (v: unknown): JsonObject => (isObj(v) ? v : {});

/** The string-valued entries of an object (labels, annotations, selectors); other entries are dropped. */
export function strMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObj(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

/**
 * JSON with object keys sorted and undefined members dropped: equal values give equal text whatever the
 * key order (the API server may re-order fields it round-trips).
 */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isObj(v))
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'undefined';
}
