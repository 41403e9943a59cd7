// HDF5 (.h5) Keras models keep the architecture as a JSON string attribute `model_config` on the root
// group. Rather than a full HDF5 object-header parser, the file is searched in bounded chunks for
// that JSON (attribute values are stored as contiguous text), so Lambda layers are found wherever
// the attribute lives (inline, continuation block or dense storage).
import { findLambdaInText } from './keras.ts';
import type { ByteSource } from './source.ts';
import type { Finding, ScanContext } from './types.ts';

const CHUNK = 4 * 1024 * 1024;
const OVERLAP = 64 * 1024;
const latin1 = new TextDecoder('latin1');

export async function scanHdf5(
  src: ByteSource,
  ctx: ScanContext,
): Promise<{ findings: Finding[]; hasModelConfig: boolean }> {
  const findings: Finding[] = [];
  let hasModelConfig = false;
  const seen = new Set<number>();
  for (let off = 0; off < src.size; off += CHUNK) {
    ctx.checkTime();
    const b = await src.read(off, CHUNK + OVERLAP);
    const text = latin1.decode(b);
    if (text.includes('model_config')) hasModelConfig = true;
    for (const f of findLambdaInText(text, off)) {
      if (f.offset !== undefined && seen.has(f.offset)) continue;
      if (f.offset !== undefined) seen.add(f.offset);
      findings.push(f);
    }
  }
  return { findings, hasModelConfig };
}
