import { describe, expect, it } from 'vitest';
import { UsageError } from './args.ts';
import { parseControllerFlags, parseDuration } from './controller.ts';

describe('modelgate controller flags', () => {
  it('has the documented defaults', () => {
    expect(parseControllerFlags([])).toMatchObject({
      namespace: process.env.POD_NAMESPACE ?? 'modelgate-system',
      metricsPort: 8081,
      leaderElect: true,
      leaseName: 'modelgate-controller',
      webhookService: 'modelgate-webhook',
      webhookSecret: 'modelgate-webhook-tls',
      validatingWebhook: 'modelgate',
      mutatingWebhook: 'modelgate',
      certManager: false,
      auditIntervalMs: 600_000,
    });
  });

  it("accepts the chart's forms of boolean flags and durations", () => {
    expect(
      parseControllerFlags(['--leader-elect=false', '--cert-manager', '--audit-interval', '1h30m']),
    ).toMatchObject({ leaderElect: false, certManager: true, auditIntervalMs: 5_400_000 });
    expect(parseControllerFlags(['--leader-elect', '--cert-manager=false'])).toMatchObject({
      leaderElect: true,
      certManager: false,
    });
    expect(parseDuration('500ms', 'x')).toBe(500);
  });

  it('rejects bad values with a usage error', () => {
    expect(() => parseControllerFlags(['--leader-elect=maybe'])).toThrow(UsageError);
    expect(() => parseControllerFlags(['--audit-interval', '10'])).toThrow(UsageError);
    expect(() => parseControllerFlags(['--metrics-port', '99999'])).toThrow(UsageError);
    expect(() => parseControllerFlags(['--nope'])).toThrow(UsageError);
  });
});
