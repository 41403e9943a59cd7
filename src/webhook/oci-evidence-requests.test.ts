import { describe, expect, it } from 'vitest';
import { silentLogger } from '../kube/builders.test-support.ts';
import { FakeKubeClient } from '../kube/fake-client.test-support.ts';
import { CONFIG_MAPS } from '../kube/resources.ts';
import { parseRequest, requestObjectName } from '../oci/evidence.ts';
import { OciEvidenceRequester } from './oci-evidence-requests.ts';

const D = `sha256:${'d'.repeat(64)}`;
const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'ml' },
  spec: {
    serviceAccountName: 'runner',
    imagePullSecrets: [{ name: 'pull' }],
    containers: [
      {
        name: 's',
        image: `vllm/vllm-openai@sha256:${'a'.repeat(64)}`,
        args: ['--model', '/m'],
        volumeMounts: [{ name: 'm', mountPath: '/m', readOnly: true }],
      },
    ],
    volumes: [{ name: 'm', image: { reference: `registry.example.com/models/llama@${D}` } }],
  },
};
const miss = { digest: D, uri: `oci://registry.example.com/models/llama@${D}` };
const flush = () => new Promise((r) => setTimeout(r, 10));

describe('OciEvidenceRequester', () => {
  it("creates one request per (namespace, digest) per interval, with the pod's pull secrets and service account", async () => {
    const client = new FakeKubeClient();
    let now = 0;
    const r = new OciEvidenceRequester({
      client,
      namespace: 'modelgate-system',
      logger: silentLogger,
      now: () => now,
    });
    r.request([miss], pod, 'ml');
    r.request([miss], pod, 'ml');
    await flush();
    const created = client.peek(CONFIG_MAPS, requestObjectName('ml', D), 'modelgate-system');
    expect(parseRequest((created!.data as Record<string, string>)['request.json']!)).toMatchObject({
      digest: D,
      repository: 'registry.example.com/models/llama',
      namespace: 'ml',
      pullSecrets: ['pull'],
      serviceAccount: 'runner',
    });
    expect(client.writes.filter((w) => w.op === 'create')).toHaveLength(1);
    // Later, the same miss asks again; an existing request (not yet picked up) is fine.
    now = 60_000;
    r.request([miss], pod, 'ml');
    await flush();
    expect(r.sent).toEqual([D]);
  });
});
