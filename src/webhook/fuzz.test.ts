// Property: no body, however odd, gets a 5xx or takes the server down.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestWebhook, type TestWebhook } from './server.test-support.ts';

let wh: TestWebhook;
beforeAll(async () => {
  wh = await startTestWebhook();
});
afterAll(async () => {
  await wh.close();
});

const operation = fc.constantFrom('CREATE', 'UPDATE', 'DELETE', 'CONNECT', 'PATCH', '', 7);
const kinds = fc.constantFrom(
  'Pod',
  'Deployment',
  'InferenceService',
  'LLMInferenceService',
  'CronJob',
  'TrainedModel',
  'Model',
  'Secret',
);
const apiVersions = fc.constantFrom(
  'v1',
  'apps/v1',
  'batch/v1',
  'serving.kserve.io/v1beta1',
  'serving.kserve.io/v1alpha1',
  'mlops.seldon.io/v1alpha1',
);
const namespace = fc.constantFrom('prod', 'dev', 'ml', 'kube-system', 'other');
/** Workload-shaped objects with arbitrary content where it hurts: spec, volumes, annotations. */
const object = fc.record(
  {
    apiVersion: apiVersions,
    kind: kinds,
    metadata: fc.record(
      {
        name: fc.string(),
        namespace,
        annotations: fc.dictionary(
          fc.constantFrom('modelgate.io/models', 'x'),
          fc.oneof(fc.string(), fc.json()),
        ),
        labels: fc.dictionary(fc.string(), fc.string()),
      },
      { requiredKeys: [] },
    ),
    spec: fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          containers: fc.array(fc.jsonValue()),
          volumes: fc.array(fc.jsonValue()),
          initContainers: fc.jsonValue(),
        },
        { requiredKeys: [] },
      ),
    ),
  },
  { requiredKeys: [] },
);
const review = fc.record(
  {
    apiVersion: fc.oneof(fc.constant('admission.k8s.io/v1'), fc.jsonValue()),
    kind: fc.oneof(fc.constant('AdmissionReview'), fc.jsonValue()),
    request: fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          uid: fc.oneof(fc.uuid(), fc.jsonValue()),
          kind: fc.oneof(
            fc.record({
              group: fc.constantFrom('', 'apps', 'serving.kserve.io'),
              version: fc.constant('v1'),
              kind: kinds,
            }),
            fc.jsonValue(),
          ),
          operation,
          namespace,
          subResource: fc.oneof(fc.constant(undefined), fc.constantFrom('status', 'scale'), fc.jsonValue()),
          object: fc.oneof(object, fc.jsonValue()),
          oldObject: fc.oneof(object, fc.jsonValue()),
          dryRun: fc.oneof(fc.boolean(), fc.jsonValue()),
          userInfo: fc.jsonValue(),
        },
        { requiredKeys: [] },
      ),
    ),
  },
  { requiredKeys: [] },
);

describe('arbitrary bodies', () => {
  it('never produce a 5xx', async () => {
    for (const path of ['/validate', '/mutate']) {
      await fc.assert(
        fc.asyncProperty(fc.oneof(review, fc.jsonValue()), async (body) => {
          const res = await wh.post(path, body);
          expect(res.status, res.text).toBeLessThan(500);
        }),
        { numRuns: 150 },
      );
    }
    await fc.assert(
      fc.asyncProperty(fc.string(), async (text) => {
        const res = await wh.post('/validate', text, { raw: true });
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 100 },
    );
    expect((await wh.get('/healthz')).status).toBe(200);
  });
});
