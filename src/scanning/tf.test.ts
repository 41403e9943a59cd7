import { describe, expect, it } from 'vitest';
import { protobufKind } from './detect-protobuf.ts';
import { scanBuffer } from './index.ts';
import { parseTextProto, TextProtoError } from './pbtxt.ts';
import { readFields, WireError } from './protobuf.ts';
import { BufferSource } from './source.ts';
import { concat, onnxWithExternalData, pbBytes, pbVarint, varint } from './testing.test-support.ts';

const node = (name: string, ...ops: string[]) => concat(pbBytes(1, name), ...ops.map((op) => pbBytes(2, op)));
const graph = (...nodes: Uint8Array[]) =>
  concat(...nodes.map((n) => pbBytes(1, n)), pbBytes(4, pbVarint(1, 1882)));
const savedModel = (g: Uint8Array) => concat(pbVarint(1, 1), pbBytes(2, pbBytes(2, g)));

describe('protobuf wire format', () => {
  it('skips groups as protobuf does, and refuses unbalanced ones', () => {
    const group = Uint8Array.from([...varint((111 << 3) | 3), 0x08, 0x01, ...varint((111 << 3) | 4)]);
    const fields = readFields(concat(group, pbBytes(1, 'x')));
    expect(fields.map((f) => [f.field, f.wireType])).toEqual([
      [111, 3],
      [1, 2],
    ]);
    expect(() => readFields(Uint8Array.from(varint((5 << 3) | 4)))).toThrow(WireError);
    expect(() => readFields(Uint8Array.from(varint((5 << 3) | 3)))).toThrow(WireError);
  });
});

describe('TensorFlow graphs', () => {
  it('takes the last op of a node, as protobuf does', async () => {
    expect(
      (await scanBuffer(savedModel(graph(node('f', 'Const', 'PyFunc'))), 'saved_model.pb')).verdict,
    ).toBe('dangerous');
    expect(
      (await scanBuffer(savedModel(graph(node('f', 'PyFunc', 'Const'))), 'saved_model.pb')).verdict,
    ).toBe('clean');
  });

  it('finds a node after an unknown group field', async () => {
    const group = Uint8Array.from([...varint((99 << 3) | 3), ...varint((99 << 3) | 4)]);
    expect((await scanBuffer(concat(group, pbBytes(1, node('f', 'PyFunc'))), 'g.pb')).verdict).toBe(
      'dangerous',
    );
  });

  it('walks functions of the library', async () => {
    const fn = concat(pbBytes(1, pbBytes(1, 'fn')), pbBytes(3, node('p', 'EagerPyFunc')));
    const g = concat(pbBytes(1, node('c', 'StatefulPartitionedCall')), pbBytes(2, pbBytes(1, fn)));
    expect((await scanBuffer(savedModel(g), 'saved_model.pb')).verdict).toBe('dangerous');
  });

  it('recognises ONNX and TensorFlow by content, whatever the name', async () => {
    expect(await protobufKind(new BufferSource(graph(node('x', 'Placeholder'))))).toBe('tf-graphdef');
    expect(await protobufKind(new BufferSource(savedModel(graph(node('x', 'Relu')))))).toBe('tf-savedmodel');
    expect(await protobufKind(new BufferSource(onnxWithExternalData('w.bin')))).toBe('onnx');
    expect((await scanBuffer(graph(node('f', 'PyFunc')), 'weights')).verdict).toBe('dangerous');
    expect((await scanBuffer(onnxWithExternalData('../../etc/passwd'), 'model.bin')).verdict).toBe(
      'dangerous',
    );
    const spm = concat(
      pbBytes(1, concat(pbBytes(1, 'a'), Uint8Array.from([0x15, 0, 0, 0, 0]))),
      pbBytes(3, pbVarint(1, 1)),
    );
    expect(await protobufKind(new BufferSource(spm))).toBeUndefined();
  });
});

describe('text-format protobufs', () => {
  const pbtxt = (op: string) =>
    `saved_model_schema_version: 1\nmeta_graphs {\n  graph_def {\n    node {\n      name: "f"\n      ${op}\n    }\n  }\n}\n`;
  it.each([
    ['op: "PyFunc"', 'dangerous'],
    ['op: "Py\\106unc"', 'dangerous'],
    ['op: "Py\\x46unc"', 'dangerous'],
    ['op: \'Py\' "Func"', 'dangerous'],
    ['op: "Const"\n      op: "EagerPyFunc"', 'dangerous'],
    ['op: "PyFunc"\n      op: "Const"', 'clean'],
    ['op: "Const"', 'clean'],
  ])('%s is %s', async (op, verdict) => {
    expect((await scanBuffer(new TextEncoder().encode(pbtxt(op)), 'saved_model.pbtxt')).verdict).toBe(
      verdict,
    );
  });
  it('parses lists, angle brackets, comments and extensions', () => {
    const m = parseTextProto('# c\nnode < name: "a" op: "B" >, node: [{ op: "C" }] [ext.x] { y: 1 };');
    expect(m.fields.map(([k]) => k)).toEqual(['node', 'node', '[ext.x]']);
    expect(() => parseTextProto('node { op: "x" ')).toThrow(TextProtoError);
  });
});
