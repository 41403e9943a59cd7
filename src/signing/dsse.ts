// DSSE pre-authentication encoding: the bytes a DSSE signature actually covers.
// https://github.com/secure-systems-lab/dsse/blob/master/protocol.md

const encoder = new TextEncoder();

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body (lengths in bytes). */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = encoder.encode(payloadType);
  const head = encoder.encode(`DSSEv1 ${type.length} ${payloadType} ${payload.length} `);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  out.set(payload, head.length);
  return out;
}

/**
 * model_signing v0.2 signed a different, non-standard encoding: an f-string that put the Python
 * repr() of the payload bytes after an upper-case "DSSEV1" tag
 * (`f"DSSEV1 {len(type)} {type} {len(payload)} {payload}"`). Only v0.2 bundles (predicate
 * `https://model_signing/Digests/v0.1`) are checked against it.
 */
export function legacyV02PreAuthEncoding(payloadType: string, payload: Uint8Array): Uint8Array {
  return encoder.encode(
    `DSSEV1 ${payloadType.length} ${payloadType} ${payload.length} ${pythonBytesRepr(payload)}`,
  );
}

/** Python's repr() of a bytes object, e.g. b'a\n\'' (CPython Objects/bytesobject.c). */
export function pythonBytesRepr(bytes: Uint8Array): string {
  const quote = bytes.includes(0x27) && !bytes.includes(0x22) ? '"' : "'";
  const q = quote.charCodeAt(0);
  let out = `b${quote}`;
  for (const c of bytes) {
    if (c === q || c === 0x5c) out += '\\' + String.fromCharCode(c);
    else if (c === 0x09) out += '\\t';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c < 0x20 || c >= 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += String.fromCharCode(c);
  }
  return out + quote;
}
