// TensorFlow SavedModel / GraphDef protobufs: PyFunc-family ops call back into Python code the
// loading process has registered; file ops read or write the node's filesystem. Messages are
// walked generically: any message shaped like a NodeDef (field 1 name, field 2 op) is checked.
import { readFields, WireError, type WireField } from './protobuf.ts';
import type { ByteSource } from './source.ts';
import type { Finding, ScanContext } from './types.ts';

const PYTHON_OPS = new Set(['PyFunc', 'PyFuncStateless', 'EagerPyFunc']);
const FILE_OPS = new Set(['ReadFile', 'WriteFile', 'MatchingFiles', 'ImmutableConst']);
const MAX_DEPTH = 24;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function str(b: Uint8Array, f: WireField): string | undefined {
  if (f.wireType !== 2 || f.length > 256) return undefined;
  try {
    return utf8.decode(b.subarray(f.start, f.start + f.length));
  } catch {
    return undefined;
  }
}

export function findGraphOps(b: Uint8Array, tick: () => void = () => undefined): Finding[] {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  let visits = 0;
  const visit = (start: number, end: number, depth: number): void => {
    if (depth > MAX_DEPTH) return;
    if ((++visits & 0xfff) === 0) tick();
    let fields: WireField[];
    try {
      fields = readFields(b, start, end);
    } catch {
      return; // not a message: a string or bytes payload
    }
    const name = fields.find((f) => f.field === 1);
    const op = fields.find((f) => f.field === 2);
    const opName = op && name ? str(b, op) : undefined;
    if (
      opName !== undefined &&
      (PYTHON_OPS.has(opName) || FILE_OPS.has(opName)) &&
      !seen.has(`${opName}@${start}`)
    ) {
      seen.add(`${opName}@${start}`);
      const nodeName = name ? str(b, name) : undefined;
      findings.push(
        PYTHON_OPS.has(opName)
          ? {
              rule: 'tf-python-op',
              severity: 'dangerous',
              detail: `node ${JSON.stringify(nodeName)} uses op ${opName}, which runs Python code in the serving process`,
              offset: start,
            }
          : {
              rule: 'tf-file-op',
              severity: 'suspicious',
              detail: `node ${JSON.stringify(nodeName)} uses op ${opName}, which touches the node's filesystem`,
              offset: start,
            },
      );
    }
    for (const f of fields)
      if (f.wireType === 2 && f.length >= 2) visit(f.start, f.start + f.length, depth + 1);
  };
  visit(0, b.length, 0);
  return findings;
}

export async function scanTfSavedModel(src: ByteSource, ctx: ScanContext): Promise<Finding[]> {
  if (src.size > ctx.limits.maxHeaderBytes) {
    return [
      {
        rule: 'limit-exceeded',
        severity: 'rejected',
        detail: `TensorFlow protobuf of ${src.size} bytes is larger than the ${ctx.limits.maxHeaderBytes}-byte limit`,
      },
    ];
  }
  ctx.chargeRead(src.size);
  const b = await src.read(0, src.size);
  try {
    readFields(b);
  } catch (e) {
    return [
      {
        rule: 'tf-malformed',
        severity: 'rejected',
        detail: `not a valid protobuf: ${e instanceof WireError ? e.message : String(e)}`,
      },
    ];
  }
  return findGraphOps(b, () => ctx.checkTime());
}
