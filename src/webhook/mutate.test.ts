// Mutate → validate round trip over HTTPS: the patch /mutate returns, applied as the API server would,
// yields a pod /validate admits; stripping or editing the verifier afterwards is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonPatchOperation } from '../mutation/json-patch.ts';
import { applyJsonPatch } from '../mutation/json-patch.test-support.ts';
import { admissionReview, startTestWebhook, type TestWebhook } from './server.test-support.ts';

type Obj = Record<string, unknown>;
type Resp = {
  response: {
    uid: string;
    allowed: boolean;
    patchType?: string;
    patch?: string;
    status?: { message: string };
    warnings?: string[];
  };
};

const pod = (namespace = 'ml'): Obj => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { generateName: 'llm-', namespace },
  spec: {
    containers: [
      {
        name: 'server',
        image: 'vllm/vllm-openai:v0.6.0',
        args: ['--model', '/models'],
        volumeMounts: [{ name: 'model', mountPath: '/models' }],
      },
    ],
    volumes: [
      { name: 'model', image: { reference: `registry.example.com/models/llama@sha256:${'b'.repeat(64)}` } },
    ],
  },
});

let wh: TestWebhook;
beforeAll(async () => {
  wh = await startTestWebhook();
});
afterAll(async () => {
  await wh.close();
});

async function mutate(
  object: Obj,
  opts: { operation?: string } = {},
): Promise<{ body: Resp; patch: JsonPatchOperation[] }> {
  const res = await wh.post('/mutate', admissionReview(object, opts));
  expect(res.status).toBe(200);
  const body = res.json() as Resp;
  const patch = body.response.patch
    ? (JSON.parse(Buffer.from(body.response.patch, 'base64').toString('utf8')) as JsonPatchOperation[])
    : [];
  return { body, patch };
}
const validate = async (object: Obj) =>
  ((await wh.post('/validate', admissionReview(object))).json() as Resp).response;

describe('mutate → validate', () => {
  it('injects the verifier, and the patched pod is admitted', async () => {
    const original = pod();
    expect((await validate(original)).allowed).toBe(false);
    const { body, patch } = await mutate(original);
    expect(body.response.allowed).toBe(true);
    expect(body.response.patchType).toBe('JSONPatch');
    const patched = applyJsonPatch(original, patch);
    expect((await validate(patched)).allowed).toBe(true);
    // Re-admission (reinvocation) changes nothing.
    expect((await mutate(patched)).patch).toEqual([]);
  });

  it('refuses a pod whose verifier was stripped or edited after mutation', async () => {
    const patched = applyJsonPatch(pod(), (await mutate(pod())).patch);
    const stripped = applyJsonPatch(patched, [{ op: 'remove', path: '/spec/initContainers/0' }]);
    const r1 = await validate(stripped);
    expect(r1.allowed).toBe(false);
    expect(r1.status?.message).toContain('verifier');
    const edited = applyJsonPatch(patched, [
      { op: 'replace', path: '/spec/initContainers/0/image', value: 'evil/noop' },
    ]);
    const r2 = await validate(edited);
    expect(r2.allowed).toBe(false);
    expect(r2.status?.message).toContain('differs');
  });

  it('does not patch updates, other kinds, or pods no injecting policy matches', async () => {
    expect((await mutate(pod(), { operation: 'UPDATE' })).patch).toEqual([]);
    expect((await mutate(pod('prod'))).patch).toEqual([]);
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', namespace: 'ml' },
      spec: { template: { spec: pod().spec } },
    };
    expect((await mutate(deployment)).patch).toEqual([]);
  });
});

describe('updates of an injected pod', () => {
  it('enforces the verifier check when the verifier is edited by an update', async () => {
    const patched = applyJsonPatch(pod(), (await mutate(pod())).patch);
    const edited = applyJsonPatch(patched, [
      { op: 'replace', path: '/spec/initContainers/0/image', value: 'evil/noop' },
    ]);
    const res = (
      await wh.post('/validate', admissionReview(edited, { operation: 'UPDATE', oldObject: patched }))
    ).json() as Resp;
    expect(res.response.allowed).toBe(false);
    // A label-only update of the same pod stays admitted.
    const relabelled = { ...patched, metadata: { ...(patched.metadata as Obj), labels: { a: 'b' } } };
    expect(
      (
        (
          await wh.post('/validate', admissionReview(relabelled, { operation: 'UPDATE', oldObject: patched }))
        ).json() as Resp
      ).response.allowed,
    ).toBe(true);
  });
});
