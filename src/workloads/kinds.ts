// The workload kinds modelgate understands, and where each keeps its pod spec(s).
export interface GroupKindRef {
  group: string;
  kind: string;
}

export const SUPPORTED_KINDS: readonly GroupKindRef[] = [
  { group: '', kind: 'Pod' },
  { group: 'apps', kind: 'Deployment' },
  { group: 'apps', kind: 'StatefulSet' },
  { group: 'apps', kind: 'DaemonSet' },
  { group: 'apps', kind: 'ReplicaSet' },
  { group: 'batch', kind: 'Job' },
  { group: 'batch', kind: 'CronJob' },
  { group: 'serving.kserve.io', kind: 'InferenceService' },
  { group: 'serving.kserve.io', kind: 'LLMInferenceService' },
  { group: 'serving.kserve.io', kind: 'TrainedModel' },
  { group: 'mlops.seldon.io', kind: 'Model' },
];

/** Plural resource names, for webhook rules and API paths. */
export const RESOURCE_OF: Record<string, string> = {
  Pod: 'pods',
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
  ReplicaSet: 'replicasets',
  Job: 'jobs',
  CronJob: 'cronjobs',
  InferenceService: 'inferenceservices',
  LLMInferenceService: 'llminferenceservices',
  TrainedModel: 'trainedmodels',
  Model: 'models',
};

export function groupOfApiVersion(apiVersion: unknown): string | undefined {
  if (typeof apiVersion !== 'string' || apiVersion === '') return undefined;
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

export function isSupportedKind(group: string, kind: string): boolean {
  return SUPPORTED_KINDS.some((k) => k.group === group && k.kind === kind);
}

export const kindLabel = (gk: GroupKindRef) => (gk.group ? `${gk.kind}.${gk.group}` : gk.kind);
