// The admission webhook: HTTPS transport (server.ts), AdmissionReview parsing (review.ts), and the glue
// to the decision core and verifier injection (admission.ts).
export {
  startWebhookServer,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type WebhookServer,
  type WebhookServerOptions,
} from './server.ts';
export {
  createAdmission,
  type Admission,
  type AdmissionOptions,
  type AdmissionOutcome,
} from './admission.ts';
export {
  parseAdmissionReview,
  reviewResponse,
  ADMISSION_API_VERSION,
  type AdmissionRequest,
  type AdmissionResponse,
  type AdmissionReviewResponse,
} from './review.ts';
export { CertificateReloader } from './certificate-reloader.ts';
