// Golden AdmissionReviews: every supported workload in test/fixtures/workloads (real upstream manifests),
// sent over HTTPS as the API server would, in an Enforce namespace and in a Warn namespace. The answers
// are recorded in __snapshots__; a change in any verdict or message shows up in review.
import { relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestFiles, parseManifestText } from '../policy-store/manifests.ts';
import { readFileSync } from 'node:fs';
import { groupOfApiVersion, isSupportedKind, SUPPORTED_KINDS } from '../workloads/kinds.ts';
import { admissionReview, startTestWebhook, type TestWebhook } from './server.test-support.ts';

const FIXTURES = new URL('../../test/fixtures/workloads', import.meta.url).pathname;

interface Case {
  name: string;
  object: Record<string, unknown>;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const file of manifestFiles([FIXTURES])) {
    let docs;
    try {
      docs = parseManifestText(readFileSync(file, 'utf8'), file);
    } catch {
      continue; // helm values and other non-manifests
    }
    for (const d of docs) {
      const group = groupOfApiVersion(d.object.apiVersion);
      const kind = d.object.kind;
      if (group === undefined || typeof kind !== 'string' || !isSupportedKind(group, kind)) continue;
      const meta = (d.object.metadata ?? {}) as Record<string, unknown>;
      out.push({
        name: `${relative(FIXTURES, file)}#${d.doc} ${kind}/${String(meta.name)}`,
        object: d.object,
      });
    }
  }
  // Kinds the fixtures do not carry get the pod template of a real one (the vLLM Deployment), wrapped
  // the way each controller nests it.
  const source = out.find(
    (c) => c.object.kind === 'Deployment' && c.name.startsWith('gke-samples/deployment-vllm'),
  );
  if (source) {
    const template = (source.object.spec as { template: unknown }).template;
    const wrap = (apiVersion: string, kind: string, spec: Record<string, unknown>) =>
      out.push({
        name: `derived ${kind} from ${source.name}`,
        object: { apiVersion, kind, metadata: { name: `vllm-${kind.toLowerCase()}` }, spec },
      });
    wrap('apps/v1', 'StatefulSet', {
      serviceName: 'vllm',
      selector: { matchLabels: { app: 'vllm' } },
      template,
    });
    wrap('apps/v1', 'DaemonSet', { selector: { matchLabels: { app: 'vllm' } }, template });
    wrap('apps/v1', 'ReplicaSet', { selector: { matchLabels: { app: 'vllm' } }, template });
    wrap('batch/v1', 'Job', { template });
    wrap('batch/v1', 'CronJob', { schedule: '0 * * * *', jobTemplate: { spec: { template } } });
  }
  return out;
}

const all = cases();
let wh: TestWebhook;
beforeAll(async () => {
  wh = await startTestWebhook();
});
afterAll(async () => {
  await wh.close();
});

describe('golden AdmissionReviews from upstream workload manifests', () => {
  it('covers every supported kind', () => {
    const kinds = new Set(all.map((c) => c.object.kind));
    for (const k of SUPPORTED_KINDS) expect(kinds).toContain(k.kind);
  });

  for (const c of all) {
    it(c.name, async () => {
      const summary: Record<string, unknown> = {};
      for (const namespace of ['prod', 'dev', 'ml']) {
        const object = structuredClone(c.object);
        object.metadata = { ...((object.metadata ?? {}) as object), namespace };
        for (const endpoint of ['/validate', '/mutate']) {
          const res = await wh.post(endpoint, admissionReview(object, { uid: 'golden', namespace }));
          expect(res.status).toBe(200);
          const { response } = res.json() as { response: Record<string, unknown> };
          expect(response.uid).toBe('golden');
          const { uid: _uid, patch, ...rest } = response;
          summary[`${namespace} ${endpoint}`] = {
            ...rest,
            ...(typeof patch === 'string'
              ? { patch: JSON.parse(Buffer.from(patch, 'base64').toString('utf8')) as unknown }
              : {}),
          };
        }
      }
      expect(summary).toMatchSnapshot();
    });
  }
});
