import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { deployment, DIGEST, pod, podSpec, withArgs, withImageVolume } from '../../test/support/builders.ts';
import { extractModelReferences } from './extract.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'workloads');
const load = (file: string) =>
  (yaml.loadAll(readFileSync(join(FIXTURES, file), 'utf8')) as Record<string, unknown>[]).filter(Boolean);

type Expect = {
  kind: string;
  models?: [uri: string, pinned: boolean][];
  unclassified?: RegExp[];
  unsupported?: true;
};

/** What modelgate must find in every real manifest from ../shared/fixtures/workloads (copied to test/fixtures). */
const EXPECTED: Record<string, Expect[]> = {
  'kserve/isvc-sklearn-gcs.yaml': [
    { kind: 'InferenceService', models: [['gs://kfserving-examples/models/sklearn/1.0/model', false]] },
  ],
  'kserve/isvc-tensorflow-s3.yaml': [
    { kind: 'InferenceService', models: [['s3://kfserving-examples/mnist', false]] },
  ],
  'kserve/isvc-huggingface-hf.yaml': [
    { kind: 'InferenceService', models: [['hf://meta-llama/Llama-2-7b-chat-hf', false]] },
  ],
  'kserve/isvc-oci-native-imagevolume.yaml': [
    { kind: 'InferenceService', models: [['oci://ghcr.io/my-org/my-sklearn-model:v1', false]] },
  ],
  'kserve/isvc-oci-fetch.yaml': [
    { kind: 'InferenceService', models: [['oci://ghcr.io/kliukovkin/kserve-oci-test-fixture:v1', false]] },
  ],
  'kserve/llmisvc-pvc.yaml': [{ kind: 'LLMInferenceService', models: [['pvc://gpt-oss-20b-pvc', false]] }],
  'kserve/trainedmodels.yaml': [
    { kind: 'TrainedModel', models: [['gs://kfserving-examples/models/sklearn/1.0/model', false]] },
    { kind: 'TrainedModel', models: [['gs://kfserving-examples/models/sklearn/1.0/model', false]] },
  ],
  'kserve/clusterservingruntime-vllm.yaml': [{ kind: 'ClusterServingRuntime', unsupported: true }],
  'kubernetes/image-volumes.yaml': [{ kind: 'Pod', models: [['oci://quay.io/crio/artifact:v2', false]] }],
  'gke-samples/deployment-vllm.yaml': [
    { kind: 'Deployment', models: [['hf://google/gemma-3-1b-it', false]] },
    { kind: 'Service', unsupported: true },
  ],
  'gke-samples/deployment-tgi-model-id-env.yaml': [
    { kind: 'Deployment', models: [['hf://meta-llama/Meta-Llama-3-70B-Instruct', false]] },
  ],
  'gke-samples/deployment-triton-gcsfuse-csi.yaml': [
    {
      kind: 'Deployment',
      models: [],
      unclassified: [/volume "gcs-fuse-csi-vol" \(csi\), whose content modelgate cannot see/],
    },
  ],
  'seldon-core-v2/model-sklearn-gcs.yaml': [
    { kind: 'Model', models: [['gs://seldon-models/scv2/samples/mlserver_1.3.5/iris-sklearn', false]] },
  ],
  'seldon-core-v2/model-hf-text-gen.yaml': [
    { kind: 'Model', models: [['gs://seldon-models/mlserver/huggingface/text-generation', false]] },
  ],
};

describe('extractModelReferences on real manifests', () => {
  for (const [file, expected] of Object.entries(EXPECTED)) {
    it(file, () => {
      const docs = load(file);
      expect(docs.map((d) => d.kind)).toEqual(expected.map((e) => e.kind));
      docs.forEach((doc, i) => {
        const e = expected[i]!;
        const r = extractModelReferences(doc);
        if (e.unsupported) return expect(r).toBeUndefined();
        expect(r).toBeDefined();
        expect(r!.models.map((m) => [m.uri, m.pinned])).toEqual(e.models);
        expect(r!.unclassified.length).toBe(e.unclassified?.length ?? 0);
        e.unclassified?.forEach((re, j) => expect(r!.unclassified[j]!.reason).toMatch(re));
      });
    });
  }

  it.each([
    'kata-containers/kata-runtimeClasses.yaml',
    'kaito/workspace-preset-llama.yaml',
    'kuberay/rayservice-llm-serve.yaml',
    'nim-operator/nimcache-hf.yaml',
    'vllm-production-stack/vllmruntime.yaml',
    'kubeflow-model-registry/clusterstoragecontainer-model-registry.yaml',
  ])('%s holds no kind modelgate checks', (file) => {
    for (const d of load(file)) expect(extractModelReferences(d)).toBeUndefined();
  });

  it('every fixture file is covered by a test', async () => {
    const { readdirSync, statSync } = await import('node:fs');
    const all: string[] = [];
    for (const d of readdirSync(FIXTURES)) {
      if (!statSync(join(FIXTURES, d)).isDirectory()) continue;
      for (const f of readdirSync(join(FIXTURES, d))) all.push(`${d}/${f}`);
    }
    const covered = new Set([
      ...Object.keys(EXPECTED),
      'kata-containers/kata-runtimeClasses.yaml',
      'kaito/workspace-preset-llama.yaml',
      'kaito/workspace-preset-adapters.yaml',
      'kuberay/rayservice-llm-serve.yaml',
      'nim-operator/nimcache-hf.yaml',
      'nim-operator/nimcache-nimservice-ngc.yaml',
      'nim-operator/nimservice-kata-sandbox.yaml',
      'vllm-production-stack/vllmruntime.yaml',
      'kubeflow-model-registry/clusterstoragecontainer-model-registry.yaml',
      'gke-samples/helm-values-ollama.yaml',
    ]);
    expect(all.filter((f) => !covered.has(f))).toEqual([]);
  });
});

describe('extractModelReferences on pod specs', () => {
  it('follows vLLM --model=$(VAR) through the container env, with --revision', () => {
    const spec = podSpec(withArgs('--model=$(MODEL)', '--revision', 'a'.repeat(40)));
    (spec.containers as Record<string, unknown>[])[0]!.env = [{ name: 'MODEL', value: 'org/model' }];
    const r = extractModelReferences(deployment('d', spec))!;
    expect(r.models.map((m) => [m.uri, m.pinned, m.delivery])).toEqual([
      [`hf://org/model:${'a'.repeat(40)}`, true, 'server'],
    ]);
  });

  it('reports an env var it cannot resolve instead of ignoring it', () => {
    const spec = podSpec(withArgs('--model=$(MODEL)'));
    (spec.containers as Record<string, unknown>[])[0]!.env = [
      { name: 'MODEL', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
    ];
    const r = extractModelReferences(pod('p', spec))!;
    expect(r.unclassified).toEqual([]);
    expect(r.containers[0]!.unreadable[0]!.reason).toContain('$(MODEL) comes from Secret s key k');
  });

  it('finds `vllm serve <model>` and a model path on a PVC', () => {
    const spec = podSpec(withArgs('serve', '/models/llama'));
    (spec.containers as Record<string, unknown>[])[0]!.command = ['vllm'];
    (spec.volumes as unknown[]).push({ name: 'm', persistentVolumeClaim: { claimName: 'llama-pvc' } });
    ((spec.containers as Record<string, unknown>[])[0]!.volumeMounts as unknown[]).push({
      name: 'm',
      mountPath: '/models',
    });
    const r = extractModelReferences(pod('p', spec))!;
    expect(r.models.map((m) => [m.uri, m.volume, m.delivery])).toEqual([['pvc://llama-pvc', 'm', 'volume']]);
  });

  it("a server path into a signed model's git metadata is unreadable: no signature covers it", () => {
    const spec = podSpec(withArgs('--model', '/models/m/.git/evil'));
    const c = (spec.containers as Record<string, unknown>[])[0]!;
    c.volumeMounts = [{ name: 'w', mountPath: '/models/m', readOnly: true }];
    spec.volumes = [{ name: 'w', persistentVolumeClaim: { claimName: 'models-llama', readOnly: true } }];
    const object = pod('p', spec);
    (object.metadata as Record<string, unknown>).annotations = {
      'modelgate.io/models': JSON.stringify([{ name: 'llama', volume: 'w', digest: DIGEST }]),
    };
    const r = extractModelReferences(object)!;
    expect(r.unclassified.map((u) => u.reason).join()).toContain('leaves out of every signature');
    // The model's own files are read as before.
    c.args = ['--model', '/models/m/weights'];
    expect(extractModelReferences(object)!.unclassified).toEqual([]);
  });

  describe('paths a container names on its volumes (readPaths)', () => {
    const signedPod = (c: Record<string, unknown>, subPath?: string) => {
      const spec = podSpec(withArgs());
      Object.assign((spec.containers as Record<string, unknown>[])[0]!, c);
      spec.volumes = [{ name: 'w', persistentVolumeClaim: { claimName: 'models-llama', readOnly: true } }];
      const object = pod('p', spec);
      (object.metadata as Record<string, unknown>).annotations = {
        'modelgate.io/models': JSON.stringify([
          { name: 'llama', volume: 'w', digest: DIGEST, ...(subPath ? { subPath } : {}) },
        ]),
      };
      return extractModelReferences(object)!;
    };
    const readPaths = (r: ReturnType<typeof signedPod>) => r.models.find((m) => m.volume === 'w')?.readPaths;
    const mount = { name: 'w', mountPath: '/models/m', readOnly: true };

    it('resolves relative paths in a working directory on a volume, not flag values or environment', () => {
      const r = signedPod({
        args: [
          '--model',
          '.',
          '--chat-template',
          './.gitattributes',
          '--x',
          'sub/t.jinja',
          '--host',
          '0.0.0.0',
        ],
        workingDir: '/models/m',
        env: [{ name: 'LANG', value: 'en_US.UTF-8' }],
        volumeMounts: [mount],
      });
      expect(readPaths(r)).toEqual(['', '.gitattributes', 'sub/t.jinja']);
    });

    it('refuses a path through ".." on a volume and more than 256 named paths', () => {
      const dots = signedPod({
        args: ['--model', '/models/m', '--t', '/models/m/a/../.git/x'],
        volumeMounts: [mount],
      });
      expect(dots.containers[0]!.unreadable.map((u) => u.reason).join()).toContain('goes through ".."');
      const many = signedPod({
        args: ['--model', '/models/m', ...Array.from({ length: 300 }, (_, i) => `--t${i}=/models/m/f${i}`)],
        volumeMounts: [mount],
      });
      expect(many.containers[0]!.unreadable.map((u) => u.reason).join()).toContain(
        'more than 256 different paths',
      );
    });

    it('compares subPaths in one spelling ("./llama/" is "llama")', () => {
      const r = signedPod(
        {
          args: ['--model', '/models/m', '--t', '/x/.git/t'],
          volumeMounts: [
            { ...mount, subPath: './llama/' },
            { name: 'w', mountPath: '/x', subPath: 'llama', readOnly: true },
          ],
        },
        'llama/',
      );
      expect(readPaths(r)).toEqual(['', '.git/t']);
    });
  });

  it("reads an official image's entrypoint script: what it downloads, and values its shell would change", () => {
    const dlc = `us-docker.pkg.dev/deeplearning-platform-release/gcr.io/huggingface-text-generation-inference-cu124.2-4@${DIGEST}`;
    const spec = podSpec(withArgs('--hostname', '0.0.0.0 --lora-adapters x/y'));
    Object.assign((spec.containers as Record<string, unknown>[])[0]!, {
      image: dlc,
      env: [{ name: 'AIP_STORAGE_URI', value: 'gs://b/m' }],
    });
    const r = extractModelReferences(pod('p', spec))!;
    expect(r.models.map((m) => m.uri)).toContain('gs://b/m');
    expect(r.containers[0]!.unreadable.map((u) => u.where)).toEqual(['args[1]']);
    const tf = podSpec();
    Object.assign((tf.containers as Record<string, unknown>[])[0]!, {
      image: `tensorflow/serving@${DIGEST}`,
      env: [{ name: 'MODEL_NAME', value: 'm*' }],
    });
    const t = extractModelReferences(pod('p', tf))!;
    expect(t.containers[0]!.unreadable.map((u) => u.where)).toContain('env MODEL_NAME');
  });

  it('an unknown $(VAR) is unreadable wherever it may name a model, not as the value of an inert flag', () => {
    const spec = podSpec(
      withArgs('--model', '/models/m', '--host', '$(IP)', '--port=$(PORT)', '--tokenizer', '$(IP)'),
    );
    (spec.containers as Record<string, unknown>[])[0]!.env = [
      { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'PORT', valueFrom: { configMapKeyRef: { name: 'c', key: 'port' } } },
    ];
    const u = extractModelReferences(pod('p', spec))!.containers[0]!.unreadable;
    // --host and --port take inert values; the same $(IP) as --tokenizer may name a model.
    expect(u.map((x) => x.where)).toEqual(['--tokenizer']);
  });

  it("a template's pods get generated names and controller labels: those fieldRefs are unknown", () => {
    const spec = podSpec(withArgs('--model', '/models/$(POD)', '--tokenizer', '$(L)'));
    (spec.containers as Record<string, unknown>[])[0]!.env = [
      { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'L', valueFrom: { fieldRef: { fieldPath: "metadata.labels['pod-template-hash']" } } },
    ];
    const d = extractModelReferences(deployment('llm', spec))!;
    const reasons = d.containers[0]!.unreadable.map((u) => u.reason).join('\n');
    expect(reasons).toContain('$(POD) comes from the pod name');
    expect(reasons).toContain('label pod-template-hash, which the controller that creates them sets');
    // A Pod's own name is what its containers see, and a label it lacks is empty.
    const p = extractModelReferences(pod('llm', spec))!;
    expect(p.containers[0]!.unreadable).toEqual([]);
  });

  it("a StatefulSet's volumeClaimTemplates are volumes of its pods (per-pod claims)", () => {
    const spec = podSpec(withArgs('--model', '/models/m'));
    ((spec.containers as Record<string, unknown>[])[0]!.volumeMounts as unknown[]).push({
      name: 'models',
      mountPath: '/models/m',
      readOnly: true,
    });
    const sts = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'ss', namespace: 'default' },
      spec: { template: { spec }, volumeClaimTemplates: [{ metadata: { name: 'models' } }] },
    };
    const r = extractModelReferences(sts)!;
    expect(r.models.map((m) => [m.uri, m.volume, m.pod])).toEqual([['pvc://models-ss-*', 'models', 0]]);
  });

  it('a volume name means one thing per pod spec: the transformer\'s "m" is not the predictor\'s', () => {
    const ro = [{ name: 'm', mountPath: '/models/m', readOnly: true }];
    const isvc = {
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: { name: 'i', namespace: 'default' },
      spec: {
        predictor: {
          containers: [
            { name: 'a', image: 'vllm/vllm-openai:v1', args: ['--model', '/models/m'], volumeMounts: ro },
          ],
          volumes: [{ name: 'm', image: { reference: `reg.io/m@${DIGEST}` } }],
        },
        transformer: {
          containers: [
            { name: 'b', image: 'vllm/vllm-openai:v1', args: ['--model', '/models/m'], volumeMounts: ro },
          ],
          volumes: [{ name: 'm', persistentVolumeClaim: { claimName: 'scratch' } }],
        },
      },
    };
    const r = extractModelReferences(isvc)!;
    expect(r.models.map((m) => [m.uri, m.pod, m.containers])).toEqual([
      [`oci://reg.io/m@${DIGEST}`, 0, ['spec.predictor.containers[0]']],
      ['pvc://scratch', 1, ['spec.transformer.containers[0]']],
    ]);
  });

  it("KServe's predictor.model is the runtime's container: its args, env and image are read", () => {
    const isvc = (model: Record<string, unknown>) => ({
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: { name: 'i', namespace: 'default' },
      spec: {
        predictor: { model: { modelFormat: { name: 'huggingface' }, storageUri: 'hf://o/m', ...model } },
      },
    });
    const plain = extractModelReferences(isvc({}))!;
    expect(plain.containers.map((c) => [c.location, c.name, c.recognition?.grammar.name])).toEqual([
      ['spec.predictor.model', 'kserve-container', 'KServe Hugging Face server'],
    ]);
    expect(plain.models.map((m) => [m.uri, m.containers])).toEqual([['hf://o/m', ['spec.predictor.model']]]);
    // KServe's own example: arguments for the huggingface runtime, the model in /mnt/models (the storageUri).
    const example = extractModelReferences(isvc({ args: ['--model_name=l', '--model_dir=/mnt/models'] }))!;
    expect(example.models.map((m) => m.uri)).toEqual(['hf://o/m']);
    expect(example.containers[0]!.unreadable).toEqual([]);
    const args = extractModelReferences(isvc({ args: ['--model_id=evil/x'] }))!;
    expect(args.models.map((m) => m.uri)).toEqual(['hf://o/m', 'hf://evil/x']);
    // A runtime the object names is not one modelgate sees: what it appends cannot be read.
    const named = extractModelReferences(isvc({ runtime: 'mine', args: ['--x=1'] }))!;
    expect(named.containers[0]!.unreadable[0]!.reason).toContain('KServe appends these arguments');
    const image = extractModelReferences(isvc({ image: 'evil.example/x:1' }))!;
    expect(image.containers[0]!.recognition).toBeUndefined();
  });

  it('the AWS S3 endpoint, written out, redirects nothing; over plain HTTP, unverified TLS, or any other host, it does', () => {
    const redirects = (env: { name: string; value: string }[]) => {
      const spec = podSpec(withArgs('--model', 'org/m'));
      (spec.containers as Record<string, unknown>[])[0]!.env = env;
      return extractModelReferences(pod('p', spec))!.containers[0]!.unreadable.map((u) => u.where);
    };
    expect(redirects([{ name: 'S3_ENDPOINT', value: 's3.amazonaws.com' }])).toEqual([]);
    expect(redirects([{ name: 'AWS_ENDPOINT_URL', value: 'https://s3.eu-west-1.amazonaws.com' }])).toEqual(
      [],
    );
    expect(
      redirects([
        { name: 'S3_ENDPOINT', value: 's3.amazonaws.com' },
        { name: 'S3_USE_HTTPS', value: '0' },
      ]),
    ).toEqual(['env S3_ENDPOINT', 'env S3_USE_HTTPS']);
    // TLS off (or not verified) is a redirect of its own; on, the default, it is nothing.
    expect(redirects([{ name: 'S3_VERIFY_SSL', value: 'false' }])).toEqual(['env S3_VERIFY_SSL']);
    expect(redirects([{ name: 'S3_USE_HTTPS', value: '1' }])).toEqual([]);
    expect(redirects([{ name: 'RCLONE_CONFIG_S3_ENDPOINT', value: 'https://x' }])).toEqual([
      'env RCLONE_CONFIG_S3_ENDPOINT',
    ]);
    expect(redirects([{ name: 'S3_ENDPOINT', value: 's3.amazonaws.com.evil.example' }])).toEqual([
      'env S3_ENDPOINT',
    ]);
    expect(redirects([{ name: 'AWS_ENDPOINT_URL', value: 'http://s3.amazonaws.com' }])).toEqual([
      'env AWS_ENDPOINT_URL',
    ]);
  });

  it('a model path with no volume is inside the server image', () => {
    const r = extractModelReferences(pod('p', podSpec(withArgs('--model', '/opt/model'))))!;
    expect(r.models[0]!.delivery).toBe('image');
    expect(r.models[0]!.pinned).toBe(true);
  });

  it('image volumes are models; the annotation pins them with a declared digest', () => {
    const plain = extractModelReferences(pod('p', podSpec(withImageVolume('model', 'reg.io/m:v1'))))!;
    expect(plain.models.map((m) => [m.uri, m.pinned])).toEqual([['oci://reg.io/m:v1', false]]);
    const ann = { 'modelgate.io/models': JSON.stringify([{ name: 'm', volume: 'model', digest: DIGEST }]) };
    const declared = extractModelReferences(
      pod('p', podSpec(withImageVolume('model', 'reg.io/m:v1')), { annotations: ann }),
    )!;
    expect(declared.models.map((m) => [m.uri, m.pinned, m.modelDigest, m.declared?.name])).toEqual([
      ['oci://reg.io/m:v1', true, DIGEST, 'm'],
    ]);
  });

  it('a declared model on a PVC gets a pvc:// uri; one naming an unknown volume is an error', () => {
    const spec = podSpec(withArgs('--model', '/data/llama'));
    (spec.volumes as unknown[]).push({ name: 'data', persistentVolumeClaim: { claimName: 'weights' } });
    ((spec.containers as Record<string, unknown>[])[0]!.volumeMounts as unknown[]).push({
      name: 'data',
      mountPath: '/data',
      readOnly: true,
    });
    const ann = {
      'modelgate.io/models': JSON.stringify([
        { name: 'm', volume: 'data', subPath: 'llama', digest: DIGEST },
        { name: 'n', volume: 'nope', digest: DIGEST },
      ]),
    };
    const r = extractModelReferences(deployment('d', spec, { annotations: ann }))!;
    expect(r.models.map((m) => m.uri)).toEqual(['pvc://weights/llama']);
    expect(r.annotationErrors.join()).toContain('names volume "nope", which the pod spec does not define');
  });

  it('KServe storage-initializer and modelcar containers in a Pod', () => {
    const spec = podSpec();
    (spec.volumes as unknown[]).push({ name: 'kserve-provision-location', emptyDir: {} });
    spec.initContainers = [
      {
        name: 'storage-initializer',
        image: 'kserve/storage-initializer',
        args: ['s3://bucket/model', '/mnt/models'],
        volumeMounts: [{ name: 'kserve-provision-location', mountPath: '/mnt/models' }],
      },
    ];
    // KServe's modelcar: the model image runs KServe's fixed link script (recognised by it, not by name).
    (spec.volumes as unknown[]).push({ name: 'modelcar-vol', emptyDir: {} });
    (spec.containers as unknown[]).push({
      name: 'anything',
      image: `reg.io/model@sha256:${'e'.repeat(64)}`,
      args: ['sh', '-c', 'ln -sf /proc/$$$$/root/models /mnt/car/model && sleep infinity'],
      volumeMounts: [{ name: 'modelcar-vol', mountPath: '/mnt/car' }],
    });
    const r = extractModelReferences(pod('p', spec))!;
    expect(r.models.map((m) => [m.uri, m.delivery, m.volume])).toEqual([
      ['s3://bucket/model', 'storage-initializer', 'kserve-provision-location'],
      [`oci://reg.io/model@sha256:${'e'.repeat(64)}`, 'image', 'modelcar-vol'],
      ['hf://facebook/opt-125m', 'server', undefined],
    ]);
    expect(r.containers.map((c) => c.recognition?.grammar.name)).toEqual([
      'model storage initializer',
      'vLLM',
      'KServe modelcar',
    ]);
  });

  it('a workload without models has none, and every container is listed with what it runs', () => {
    const r = extractModelReferences(
      deployment('web', { containers: [{ name: 'web', image: 'nginx:1.27' }] }),
    )!;
    expect(r.models).toEqual([]);
    expect(r.containers.map((c) => [c.location, c.repository, c.runs, c.recognition])).toEqual([
      [
        'spec.template.spec.containers[0]',
        'docker.io/library/nginx',
        'the entrypoint of image nginx:1.27',
        undefined,
      ],
    ]);
  });

  it('vLLM with no model named loads its default model, which is then checked', () => {
    const r = extractModelReferences(deployment('d', podSpec()))!;
    expect(r.models.map((m) => [m.uri, m.location])).toEqual([
      ['hf://facebook/opt-125m', "spec.template.spec.containers[0] vLLM's default model (no model is named)"],
    ]);
  });

  it('CronJob pod templates are found', () => {
    const cj = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'c' },
      spec: { jobTemplate: { spec: { template: { spec: podSpec(withImageVolume('m', 'reg.io/m:1')) } } } },
    };
    expect(extractModelReferences(cj)!.podSpecs[0]!.path).toBe('spec.jobTemplate.spec.template.spec');
  });

  it('never throws on arbitrary objects of supported kinds', () => {
    const kinds = [
      ['v1', 'Pod'],
      ['apps/v1', 'Deployment'],
      ['batch/v1', 'CronJob'],
      ['serving.kserve.io/v1beta1', 'InferenceService'],
      ['serving.kserve.io/v1alpha1', 'LLMInferenceService'],
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...kinds),
        fc.jsonValue(),
        fc.jsonValue(),
        ([apiVersion, kind], metadata, spec) => {
          extractModelReferences({ apiVersion, kind, metadata, spec });
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('settings servers read from prefixed variables', () => {
  const torchserve = (container: Record<string, unknown>) =>
    extractModelReferences(
      pod('p', {
        containers: [
          {
            name: 'ts',
            image: 'pytorch/torchserve@' + DIGEST,
            command: ['torchserve', '--start', '--model-store', '/models'],
            ...container,
          },
        ],
      }),
    )!.containers[0]!.unreadable.map((u) => u.where);

  it("TorchServe's TS_<PROPERTY> variables override its configuration: unreadable, also from envFrom", () => {
    expect(torchserve({})).toEqual([]);
    expect(torchserve({ env: [{ name: 'TS_ENABLE_MODEL_API', value: 'true' }] })).toEqual([
      'env TS_ENABLE_MODEL_API',
    ]);
    expect(
      torchserve({ envFrom: [{ prefix: 'TS_', configMapRef: { name: 'ts' } }] }).some((w) =>
        w.startsWith('envFrom'),
      ),
    ).toBe(true);
  });
});

describe('volumes that start empty', () => {
  const cacheOn = (claimSpec: Record<string, unknown>) => {
    const spec = podSpec(withArgs('--model', 'org/m'));
    Object.assign((spec.containers as Record<string, unknown>[])[0]!, {
      env: [{ name: 'TRITON_CACHE_DIR', value: '/cache/triton' }],
      volumeMounts: [{ name: 'c', mountPath: '/cache' }],
    });
    spec.volumes = [
      {
        name: 'c',
        ephemeral: {
          volumeClaimTemplate: {
            spec: {
              accessModes: ['ReadWriteOnce'],
              resources: { requests: { storage: '1Gi' } },
              ...claimSpec,
            },
          },
        },
      },
    ];
    return extractModelReferences(pod('p', spec))!.containers[0]!.unreadable.map((u) => u.where);
  };

  it('a generic ephemeral claim is empty like an emptyDir, unless it is populated or binds an existing volume', () => {
    expect(cacheOn({})).toEqual([]);
    for (const s of [
      { dataSource: { kind: 'VolumeSnapshot', name: 's' } },
      { dataSourceRef: { kind: 'PersistentVolumeClaim', name: 'c' } },
      { volumeName: 'pv-with-data' },
      { selector: { matchLabels: { prefilled: 'yes' } } },
    ])
      expect(cacheOn(s), JSON.stringify(s)).toEqual(['env TRITON_CACHE_DIR']);
  });
});

describe('NVIDIA NIM settings', () => {
  const nim = (env: { name: string; value: string }[]) =>
    extractModelReferences(
      pod('p', {
        containers: [{ name: 'nim', image: `nvcr.io/nim/meta/llama-3.1-8b-instruct@${DIGEST}`, env }],
      }),
    )!.containers[0]!.unreadable.map((u) => [u.where, u.relevance]);

  it('a repository override is refused whatever binds the image; adapters re-read at run time are run-time loading', () => {
    expect(nim([])).toEqual([]);
    expect(nim([{ name: 'NIM_REPOSITORY_OVERRIDE', value: 's3://bucket/nim' }])).toEqual([
      ['env NIM_REPOSITORY_OVERRIDE', 'always'],
    ]);
    expect(nim([{ name: 'NIM_PEFT_REFRESH_INTERVAL', value: '0' }])).toEqual([]);
    expect(nim([{ name: 'NIM_PEFT_REFRESH_INTERVAL', value: '30' }])).toEqual([
      ['env NIM_PEFT_REFRESH_INTERVAL', 'always'],
    ]);
  });
});
