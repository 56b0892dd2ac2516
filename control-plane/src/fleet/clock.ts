// The Fleet's one clock. Tests pin it (MTOR_TEST_CLOCK=true) to drive leases and backoff.
export class Clock {
  private pinned: number | null = null;

  now(): number {
    return this.pinned ?? Date.now();
  }

  pin(ms: number | null): void {
    this.pinned = ms;
  }

  isPinned(): boolean {
    return this.pinned !== null;
  }
}

export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null | undefined): string | null => (ms == null ? null : iso(ms));
