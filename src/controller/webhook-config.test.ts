import { describe, expect, it } from 'vitest';
import { FakeClock } from '../kube/clock.ts';
import { FakeKubeClient } from '../kube/fake-client.test-support.ts';
import { InformerPolicyStore } from '../policy-store/informer-store.ts';
import { CLUSTER_MODEL_POLICIES, MUTATING_WEBHOOKS, VALIDATING_WEBHOOKS } from '../kube/resources.ts';
import { clusterPolicy, silentLogger } from '../kube/builders.test-support.ts';
import { KubeApiError } from '../kube/types.ts';
import {
  desiredWebhooks,
  POLICY_WEBHOOK_NAME,
  rulesFor,
  WebhookConfigReconciler,
  withExemptions,
} from './webhook-config.ts';

const EXEMPT = ['kube-system', 'kube-node-lease', 'kube-public', 'modelgate-system'];

const config = (kind: string, name: string) => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind,
  metadata: { name: 'modelgate' },
  webhooks: [
    {
      name,
      clientConfig: {
        service: { name: 'modelgate-webhook', namespace: 'modelgate-system', path: '/validate' },
      },
      namespaceSelector: {
        matchLabels: { team: 'x' },
        matchExpressions: [
          { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'extra'] },
        ],
      },
      rules: [
        {
          apiGroups: [''],
          apiVersions: ['v1'],
          resources: ['pods'],
          operations: ['CREATE', 'UPDATE'],
          scope: 'Namespaced',
        },
      ],
      failurePolicy: 'Fail',
    },
  ],
});

describe('webhook configuration, pure parts', () => {
  it('groups rules by API group', () => {
    expect(
      rulesFor(
        [
          { group: 'apps', kind: 'Deployment' },
          { group: 'serving.kserve.io', kind: 'InferenceService' },
          { group: 'apps', kind: 'StatefulSet' },
        ],
        ['CREATE'],
      ),
    ).toEqual([
      {
        apiGroups: ['apps'],
        apiVersions: ['v1'],
        resources: ['deployments', 'statefulsets'],
        operations: ['CREATE'],
        scope: 'Namespaced',
      },
      {
        apiGroups: ['serving.kserve.io'],
        apiVersions: ['*'],
        resources: ['inferenceservices'],
        operations: ['CREATE'],
        scope: 'Namespaced',
      },
    ]);
  });

  it('checks debug containers added to running pods (pods/ephemeralcontainers) on the validating side', () => {
    expect(rulesFor([{ group: '', kind: 'Pod' }], ['CREATE', 'UPDATE'], true)).toEqual([
      {
        apiGroups: [''],
        apiVersions: ['v1'],
        resources: ['pods', 'pods/ephemeralcontainers'],
        operations: ['CREATE', 'UPDATE'],
        scope: 'Namespaced',
      },
    ]);
  });

  it('never narrows the rules of the policy webhook (policies.modelgate.io)', () => {
    const policyRules = [
      { apiGroups: ['modelgate.io'], resources: ['clustermodelpolicies', 'modelpolicies'] },
    ];
    const [workloads, policies] = desiredWebhooks(
      [
        { name: 'validate.modelgate.io', rules: [] },
        { name: POLICY_WEBHOOK_NAME, rules: policyRules },
      ],
      { rules: rulesFor([{ group: 'apps', kind: 'Deployment' }], ['CREATE']), exempt: ['kube-system'] },
    );
    expect((workloads!.rules as { resources: string[] }[])[0]!.resources).toEqual(['deployments']);
    expect(policies!.rules).toEqual(policyRules);
  });

  it('restores exemptions while keeping other selector terms', () => {
    expect(
      withExemptions(
        {
          matchLabels: { a: 'b' },
          matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['extra'] }],
        },
        EXEMPT,
      ),
    ).toEqual({
      matchLabels: { a: 'b' },
      matchExpressions: [
        { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['extra', ...EXEMPT] },
      ],
    });
    expect(withExemptions(undefined, ['kube-system'])).toEqual({
      matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] }],
    });
  });

  it('sets caBundle base64 and keeps the existing operations', () => {
    const [w] = desiredWebhooks(config('ValidatingWebhookConfiguration', 'v').webhooks, {
      rules: rulesFor([{ group: 'apps', kind: 'Deployment' }], ['CREATE']),
      caBundle: 'PEM',
      exempt: EXEMPT,
    });
    expect(w?.clientConfig).toMatchObject({
      caBundle: Buffer.from('PEM').toString('base64'),
      service: { name: 'modelgate-webhook' },
    });
    expect(w?.rules).toEqual([
      {
        apiGroups: ['apps'],
        apiVersions: ['v1'],
        resources: ['deployments'],
        operations: ['CREATE', 'UPDATE'],
        scope: 'Namespaced',
      },
    ]);
    expect(w?.failurePolicy).toBe('Fail');
  });
});

describe('WebhookConfigReconciler', () => {
  it('follows the kinds policies select, keeps exemptions, publishes caBundle, and puts back a reset', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    client.seed(VALIDATING_WEBHOOKS, config('ValidatingWebhookConfiguration', 'validate.modelgate.io'));
    client.seed(MUTATING_WEBHOOKS, config('MutatingWebhookConfiguration', 'mutate.modelgate.io'));
    const store = new InformerPolicyStore({
      client,
      controllerNamespace: 'modelgate-system',
      logger: silentLogger,
      clock,
      debounceMs: 5,
    });
    await store.start();
    const rec = new WebhookConfigReconciler({
      client,
      clock,
      logger: silentLogger,
      validatingName: 'modelgate',
      mutatingName: 'modelgate',
      exemptNamespaces: EXEMPT,
      snapshot: () => store.snapshot(),
      caBundle: () => 'CA-PEM',
    });
    store.onChange(() => void rec.sync());
    rec.start();
    await rec.sync();
    let v = client.peek(VALIDATING_WEBHOOKS, 'modelgate');
    let hooks = v?.webhooks as {
      rules: unknown[];
      namespaceSelector: { matchExpressions: { values: string[] }[] };
      clientConfig: { caBundle: string };
    }[];
    expect(hooks[0]?.rules).toEqual([]); // no policy: the API server need not call the webhook
    expect(hooks[0]?.namespaceSelector.matchExpressions[0]?.values).toEqual([
      'kube-system',
      'extra',
      'kube-node-lease',
      'kube-public',
      'modelgate-system',
    ]);
    expect(Buffer.from(hooks[0]?.clientConfig.caBundle ?? '', 'base64').toString()).toBe('CA-PEM');

    client.seed(
      CLUSTER_MODEL_POLICIES,
      clusterPolicy('d', {
        match: { kinds: [{ group: 'apps', kind: 'Deployment' }] },
        verifier: { inject: true },
      }),
    );
    await clock.advance(10);
    await rec.sync();
    v = client.peek(VALIDATING_WEBHOOKS, 'modelgate');
    hooks = v?.webhooks as typeof hooks;
    expect(hooks[0]?.rules).toEqual([
      {
        apiGroups: ['apps'],
        apiVersions: ['v1'],
        resources: ['deployments'],
        operations: ['CREATE', 'UPDATE'],
        scope: 'Namespaced',
      },
    ]);
    const m = client.peek(MUTATING_WEBHOOKS, 'modelgate');
    expect((m?.webhooks as { rules: { resources: string[] }[] }[])[0]?.rules[0]?.resources).toEqual(['pods']);

    // Steady state: no writes.
    const writes = client.writes.length;
    await rec.sync();
    expect(client.writes.length).toBe(writes);

    // A reset (helm upgrade without caBundle) is repaired through the watch.
    client.seed(VALIDATING_WEBHOOKS, config('ValidatingWebhookConfiguration', 'validate.modelgate.io'));
    await clock.advance(10);
    await rec.sync();
    hooks = client.peek(VALIDATING_WEBHOOKS, 'modelgate')?.webhooks as typeof hooks;
    expect(hooks[0]?.clientConfig.caBundle).toBeDefined();
    await rec.stop();
    await store.stop();
  });

  it('retries a write that failed, with back-off, until it succeeds', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    client.seed(VALIDATING_WEBHOOKS, config('ValidatingWebhookConfiguration', 'validate.modelgate.io'));
    const store = new InformerPolicyStore({
      client,
      controllerNamespace: 'modelgate-system',
      logger: silentLogger,
      clock,
    });
    await store.start();
    const rec = new WebhookConfigReconciler({
      client,
      clock,
      logger: silentLogger,
      validatingName: 'modelgate',
      exemptNamespaces: EXEMPT,
      snapshot: () => store.snapshot(),
      caBundle: () => bundle,
    });
    let bundle = 'CA-PEM';
    const caBundle = () =>
      (
        client.peek(VALIDATING_WEBHOOKS, 'modelgate')?.webhooks as { clientConfig: { caBundle?: string } }[]
      )[0]?.clientConfig.caBundle;
    client.failNext('replace', new KubeApiError(500, 'InternalError', 'etcdserver: request timed out'));
    client.failNext('replace', new Error('socket hang up'));
    rec.start();
    await clock.advance(10);
    expect(caBundle()).toBeUndefined(); // the first write failed
    await clock.advance(1000);
    expect(caBundle()).toBeUndefined(); // so did the first retry
    await clock.advance(2000);
    expect(Buffer.from(caBundle() ?? '', 'base64').toString()).toBe('CA-PEM');
    // A caller waiting for the bundle hears about a failure, and the queue still retries it.
    bundle = 'CA-2';
    client.failNext('replace', new Error('connection refused'));
    await expect(rec.sync()).rejects.toThrow(/ValidatingWebhookConfiguration modelgate: connection refused/);
    await clock.advance(1000);
    expect(Buffer.from(caBundle() ?? '', 'base64').toString()).toBe('CA-2');
    await rec.stop();
    await store.stop();
  });
});
