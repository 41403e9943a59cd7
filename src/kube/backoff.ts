// Exponential back-off with jitter, for watches and work-queue retries.
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor?: number;
  /** 0..1: fraction of the delay randomised (spreads retries of many replicas). */
  jitter?: number;
}

export class Backoff {
  private attempt = 0;
  constructor(
    private readonly o: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {}
  next(): number {
    const base = Math.min(this.o.maxMs, this.o.initialMs * (this.o.factor ?? 2) ** this.attempt);
    this.attempt++;
    const j = this.o.jitter ?? 0.2;
    return Math.round(base * (1 - j + j * this.random()));
  }
  reset(): void {
    this.attempt = 0;
  }
  get attempts(): number {
    return this.attempt;
  }
}
