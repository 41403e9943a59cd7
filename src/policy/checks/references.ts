// A reference modelgate cannot classify, or a malformed modelgate.io/models annotation, is reported —
// never silently ignored: an attacker would otherwise hide a model behind an unusual spelling.
import { MODELS_ANNOTATION } from '../../api/types.ts';
import type { Check } from '../types.ts';

export const unclassifiedReferences: Check = ({ workload }) =>
  workload.unclassified.map((u) => ({
    check: 'model-reference',
    model: u.value,
    message: `cannot tell which model ${u.location} refers to: ${u.reason}`,
    remediation: `reference the model by a URI modelgate understands (oci://, hf://, s3://, gs://, pvc://) or declare it in the ${MODELS_ANNOTATION} annotation with its volume and signed digest`,
  }));

export const annotationErrors: Check = ({ workload }) =>
  workload.annotationErrors.map((e) => ({
    check: 'annotation',
    message: e,
    remediation: `fix the ${MODELS_ANNOTATION} annotation; see docs/policy.md#declaring-models`,
  }));
