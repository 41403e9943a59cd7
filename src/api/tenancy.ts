// What only cluster-scoped policy (or the installation) may say. A ModelPolicy is written by a namespace's
// editors; it may add restrictions and nothing else. Fields that decide what runs in a pod on modelgate's
// behalf (the verifier image and its resources) or what is exempt (non-model image approvals, extra
// allowed pickle globals) are refused on a ModelPolicy by CEL rules in its CRD and by the policy webhook,
// and ignored — with a status condition — on a ModelPolicy stored before those rules existed.
import type { CelRule } from './schema.ts';
import type { ModelPolicySpec } from './types.ts';

export interface ClusterOnlyField {
  /** As a user writes it: spec.verifier.image. */
  path: string;
  rule: CelRule;
  /** TypeScript twin of the rule: true when the spec sets the field. */
  isSet(spec: ModelPolicySpec): boolean;
  /** Removes the field from a spec (the compiled policy then ignores it). */
  clear(spec: ModelPolicySpec): void;
}

const has = (v: unknown) => v !== undefined && v !== null;

export const CLUSTER_ONLY_FIELDS: readonly ClusterOnlyField[] = [
  {
    path: 'spec.verifier.image',
    rule: {
      rule: '!has(self.verifier) || !has(self.verifier.image)',
      message:
        'spec.verifier.image may be set only in a ClusterModelPolicy: the image that verifies models in a pod comes from the installation or the platform team, never from a namespace',
      fieldPath: '.verifier.image',
    },
    isSet: (s) => has(s.verifier?.image),
    clear: (s) => {
      if (s.verifier) delete s.verifier.image;
    },
  },
  {
    path: 'spec.verifier.resources',
    rule: {
      rule: '!has(self.verifier) || !has(self.verifier.resources)',
      message:
        'spec.verifier.resources may be set only in a ClusterModelPolicy: the verifier container comes from the installation or the platform team',
      fieldPath: '.verifier.resources',
    },
    isSet: (s) => has(s.verifier?.resources),
    clear: (s) => {
      if (s.verifier) delete s.verifier.resources;
    },
  },
  {
    path: 'spec.formats.allowPickleGlobals',
    rule: {
      rule: '!has(self.formats) || !has(self.formats.allowPickleGlobals)',
      message:
        'spec.formats.allowPickleGlobals may be set only in a ClusterModelPolicy: a namespace cannot widen what the scanner accepts as data',
      fieldPath: '.formats.allowPickleGlobals',
    },
    isSet: (s) => has(s.formats?.allowPickleGlobals),
    clear: (s) => {
      if (s.formats) delete s.formats.allowPickleGlobals;
    },
  },
  {
    path: 'spec.nonModelImages',
    rule: {
      rule: '!has(self.nonModelImages)',
      message:
        'spec.nonModelImages may be set only in a ClusterModelPolicy: a ModelPolicy can add restrictions, never approve images',
      fieldPath: '.nonModelImages',
    },
    isSet: (s) => has(s.nonModelImages),
    clear: (s) => {
      delete s.nonModelImages;
    },
  },
  {
    path: 'spec.serverImages',
    rule: {
      rule: '!has(self.serverImages)',
      message:
        'spec.serverImages may be set only in a ClusterModelPolicy: a ModelPolicy can add restrictions, never approve images',
      fieldPath: '.serverImages',
    },
    isSet: (s) => has(s.serverImages),
    clear: (s) => {
      delete s.serverImages;
    },
  },
];

/** The cluster-only fields a spec sets. */
export const clusterOnlyFieldsSet = (spec: ModelPolicySpec): ClusterOnlyField[] =>
  CLUSTER_ONLY_FIELDS.filter((f) => f.isSet(spec));
