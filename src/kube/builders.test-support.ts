// Builders shared by the kube and controller unit tests.
import pino from 'pino';
import { API_VERSION } from '../api/types.ts';
import type { KubeObject } from './types.ts';

export const silentLogger = pino({ level: 'silent' });

export function clusterPolicy(name: string, spec: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: API_VERSION, kind: 'ClusterModelPolicy', metadata: { name }, spec };
}

export function modelPolicy(namespace: string, name: string, spec: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: API_VERSION, kind: 'ModelPolicy', metadata: { name, namespace }, spec };
}

export function namespace(name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

/** A Deployment serving a model from an OCI image volume. */
export function modelDeployment(
  ns: string,
  name: string,
  reference = 'registry.example.com/models/llama:v1',
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'server',
              image: 'vllm/vllm-openai:v0.6.0',
              args: ['--model', '/models'],
              volumeMounts: [{ name: 'model', mountPath: '/models' }],
            },
          ],
          volumes: [{ name: 'model', image: { reference } }],
        },
      },
    },
  };
}
