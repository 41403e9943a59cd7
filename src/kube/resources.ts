// The API resources the controller reads and writes. Workload kinds come from src/workloads/kinds.ts.
import { GROUP, VERSION } from '../api/types.ts';
import { RESOURCE_OF, SUPPORTED_KINDS, type GroupKindRef } from '../workloads/kinds.ts';
import type { ResourceRef } from './types.ts';

const ref = (
  group: string,
  version: string,
  resource: string,
  kind: string,
  namespaced: boolean,
): ResourceRef => ({
  group,
  version,
  resource,
  kind,
  namespaced,
});

export const CLUSTER_MODEL_POLICIES = ref(
  GROUP,
  VERSION,
  'clustermodelpolicies',
  'ClusterModelPolicy',
  false,
);
export const MODEL_POLICIES = ref(GROUP, VERSION, 'modelpolicies', 'ModelPolicy', true);
export const NAMESPACES = ref('', 'v1', 'namespaces', 'Namespace', false);
export const RUNTIME_CLASSES = ref('node.k8s.io', 'v1', 'runtimeclasses', 'RuntimeClass', false);
export const CONFIG_MAPS = ref('', 'v1', 'configmaps', 'ConfigMap', true);
export const SECRETS = ref('', 'v1', 'secrets', 'Secret', true);
export const PODS = ref('', 'v1', 'pods', 'Pod', true);
export const EVENTS = ref('', 'v1', 'events', 'Event', true);
export const LEASES = ref('coordination.k8s.io', 'v1', 'leases', 'Lease', true);
export const VALIDATING_WEBHOOKS = ref(
  'admissionregistration.k8s.io',
  'v1',
  'validatingwebhookconfigurations',
  'ValidatingWebhookConfiguration',
  false,
);
export const MUTATING_WEBHOOKS = ref(
  'admissionregistration.k8s.io',
  'v1',
  'mutatingwebhookconfigurations',
  'MutatingWebhookConfiguration',
  false,
);
export const POLICY_REPORTS = ref('wgpolicyk8s.io', 'v1alpha2', 'policyreports', 'PolicyReport', true);
export const OPEN_REPORTS = ref('openreports.io', 'v1alpha1', 'reports', 'Report', true);
export const SERVICE_ACCOUNTS = ref('', 'v1', 'serviceaccounts', 'ServiceAccount', true);

/** The served version modelgate lists for each supported workload group. */
const VERSION_OF_GROUP: Record<string, string> = {
  '': 'v1',
  apps: 'v1',
  batch: 'v1',
  'serving.kserve.io': 'v1beta1',
  'mlops.seldon.io': 'v1alpha1',
};

export function workloadResource(gk: GroupKindRef): ResourceRef {
  // KServe's TrainedModel and LLMInferenceService are served at v1alpha1.
  const version =
    gk.kind === 'TrainedModel' || gk.kind === 'LLMInferenceService'
      ? 'v1alpha1'
      : (VERSION_OF_GROUP[gk.group] ?? 'v1');
  return ref(gk.group, version, RESOURCE_OF[gk.kind] ?? `${gk.kind.toLowerCase()}s`, gk.kind, true);
}

export const WORKLOAD_RESOURCES: readonly ResourceRef[] = SUPPORTED_KINDS.map(workloadResource);
