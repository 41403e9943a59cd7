// Format detection by content (magic bytes and structure), never by name: the file name is used only
// afterwards, to report a file that claims to be something else and to explain why content nobody can
// parse is refused (claimedFormats).
import { looksLikeTflite } from './tflite.ts';

/** Sniffed from the first bytes; zip sub-kinds (pytorch-zip, npz, keras) are decided from members. */
export type SniffedFormat =
  | 'pickle'
  | 'zip'
  | 'numpy'
  | 'hdf5'
  | 'gguf'
  | '7z'
  | 'gzip'
  | 'zlib'
  | 'bzip2'
  | 'xz'
  | 'lzma'
  | 'lz4'
  | 'joblib-zfile'
  | 'compressed'
  | 'tar'
  | 'safetensors'
  | 'tflite'
  | 'image'
  | 'unknown';

export const SNIFF_BYTES = 2056;

function startsWith(b: Uint8Array, sig: number[], at = 0): boolean {
  return sig.every((x, i) => b[at + i] === x);
}

export function extensionOf(name: string): string {
  const base = name.split(/[\\/!]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '' : base.slice(dot + 1).toLowerCase();
}

function looksLikeSafetensors(head: Uint8Array, size: number): boolean {
  if (head.length < 9) return false;
  const n = new DataView(head.buffer, head.byteOffset, head.byteLength).getBigUint64(0, true);
  if (n === 0n || n + 8n > BigInt(size) || n > 100_000_000n) return false;
  const c = head[8];
  return (
    c === 0x7b ||
    ((c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) && head.subarray(8, 64).includes(0x7b))
  );
}

/** LZMA-alone header: joblib's 5d 00 prefix, or a valid properties byte, dictionary size and length. */
function looksLikeLzmaAlone(head: Uint8Array): boolean {
  if (head.length < 13) return false;
  if (head[0] === 0x5d && head[1] === 0x00) return true;
  if ((head[0] ?? 255) >= 225) return false;
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const dict = dv.getUint32(1, true);
  const pow2 = (n: number): boolean => n > 0 && Number.isInteger(n) && (n & (n - 1)) === 0;
  const validDict = dict === 0xffffffff || (dict >= 4096 && (pow2(dict) || pow2(dict / 3)));
  const size = dv.getBigUint64(5, true);
  return validDict && (size === 0xffffffffffffffffn || size < 1n << 40n);
}

/** A pre-POSIX (v7) tar header has no magic, but tarfile and GNU tar still read it: a valid checksum. */
function looksLikeV7Tar(head: Uint8Array): boolean {
  if (head.length < 512 || head[0] === 0) return false;
  const field = new TextDecoder('latin1').decode(head.subarray(148, 156)).replace(/\0.*$/s, '').trim();
  if (!/^[0-7]{1,8}$/.test(field)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (head[i] ?? 0);
  return (
    parseInt(field, 8) === sum &&
    /^[0-7 \0]+$/.test(new TextDecoder('latin1').decode(head.subarray(100, 108)))
  );
}

/**
 * joblib's pre-0.10 compressed container (`joblib/numpy_pickle_compat.py` read_zfile): `ZF`, the
 * uncompressed length in hex padded to 19 characters, an optional space, then a zlib stream of the
 * pickle. `joblib.load` still reads it (load_compatibility). Returns where the zlib stream starts.
 */
export function joblibZfileStart(head: Uint8Array): number | undefined {
  if (head[0] !== 0x5a || head[1] !== 0x46 || head.length < 23) return undefined;
  const length = new TextDecoder('latin1').decode(head.subarray(2, 21)).trim();
  if (!/^[+-]?(0x)?[0-9a-f]+(_[0-9a-f]+)*$/i.test(length)) return undefined;
  return head[21] === 0x20 ? 22 : 21;
}

export const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

export function sniff(head: Uint8Array, size: number): SniffedFormat {
  if (
    startsWith(head, [0x50, 0x4b, 0x03, 0x04]) ||
    startsWith(head, [0x50, 0x4b, 0x05, 0x06]) ||
    startsWith(head, [0x50, 0x4b, 0x07, 0x08])
  )
    return 'zip';
  if (startsWith(head, [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59])) return 'numpy';
  for (const at of [0, 512, 1024, 2048]) if (startsWith(head, HDF5_SIGNATURE, at)) return 'hdf5';
  if (startsWith(head, [0x47, 0x47, 0x55, 0x46])) return 'gguf';
  if (startsWith(head, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c])) return '7z';
  if (startsWith(head, [0x1f, 0x8b])) return 'gzip';
  // zlib stream (joblib compress=...): CMF 0x78 and a header checksum that is a multiple of 31
  if (head[0] === 0x78 && head.length >= 2 && ((0x78 << 8) | (head[1] ?? 0)) % 31 === 0) return 'zlib';
  if (startsWith(head, [0x42, 0x5a, 0x68]) && (head[3] ?? 0) >= 0x31 && (head[3] ?? 0) <= 0x39)
    return 'bzip2';
  if (startsWith(head, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return 'xz';
  if (startsWith(head, [0x04, 0x22, 0x4d, 0x18])) return 'lz4';
  if (joblibZfileStart(head) !== undefined) return 'joblib-zfile';
  if (startsWith(head, [0x28, 0xb5, 0x2f, 0xfd]) || startsWith(head, [0x52, 0x61, 0x72, 0x21]))
    return 'compressed';
  if (startsWith(head, [0x75, 0x73, 0x74, 0x61, 0x72], 257) || looksLikeV7Tar(head)) return 'tar';
  // A TFLite root offset of 128 + 256k reads as PROTO: the FlatBuffer identifier decides, and the
  // pickle probe still runs the bytes from offset 0 (PICKLE_PREFIX_POSSIBLE in scan-source.ts).
  if (looksLikeTflite(head)) return 'tflite';
  if (head[0] === 0x80 && (head[1] ?? 9) <= 5 && head.length >= 2) return 'pickle';
  if (
    startsWith(head, [0x89, 0x50, 0x4e, 0x47]) ||
    startsWith(head, [0xff, 0xd8, 0xff]) ||
    startsWith(head, [0x47, 0x49, 0x46, 0x38])
  )
    return 'image';
  if (looksLikeSafetensors(head, size)) return 'safetensors';
  if (looksLikeLzmaAlone(head)) return 'lzma';
  return 'unknown';
}

const PICKLE_FAMILY = ['pickle', 'pytorch-legacy', 'pytorch-zip', 'torchscript', 'joblib', 'zip'];
const EXPECTED: Record<string, readonly string[]> = {
  pkl: PICKLE_FAMILY,
  pickle: PICKLE_FAMILY,
  joblib: [...PICKLE_FAMILY, 'gzip', 'zlib', 'compressed'],
  dill: PICKLE_FAMILY,
  pt: PICKLE_FAMILY,
  pth: PICKLE_FAMILY,
  ckpt: PICKLE_FAMILY,
  safetensors: ['safetensors'],
  npy: ['numpy'],
  npz: ['npz', 'zip'],
  h5: ['hdf5', 'keras'],
  hdf5: ['hdf5', 'keras'],
  keras: ['keras', 'zip', 'hdf5'],
  onnx: ['onnx'],
  gguf: ['gguf'],
  pb: ['tf-savedmodel', 'onnx', 'keras'],
  zip: ['zip', 'pytorch-zip', 'npz', 'keras', 'torchscript'],
  bin: [...PICKLE_FAMILY, 'safetensors', 'gguf', 'onnx', 'numpy', 'hdf5', 'tar', 'gzip'],
  tar: ['tar'],
  '7z': ['7z'],
  gz: ['gzip', 'tar'],
  tgz: ['gzip', 'tar'],
  bz2: ['compressed', 'tar'],
  xz: ['compressed', 'tar'],
  lzma: ['compressed'],
  lz4: ['compressed'],
  pbtxt: ['tf-savedmodel'],
  tflite: ['tflite'],
  lite: ['tflite'],
};

/** Extensions that promise a model format: content nobody can parse is then a rejection, not "clean". */
export function claimedFormats(name: string): readonly string[] | undefined {
  return EXPECTED[extensionOf(name)];
}
