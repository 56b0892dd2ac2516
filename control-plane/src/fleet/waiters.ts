// Long-poll claims waiting in the Fleet for work. Whatever may make work claimable wakes them.
export class Waiters {
  private waiting = new Set<() => void>();

  /** Resolves on the next wake, or after `ms`; true when woken. */
  wait(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (woken: boolean) => {
        clearTimeout(timer);
        this.waiting.delete(wake);
        resolve(woken);
      };
      const wake = () => done(true);
      const timer = setTimeout(() => done(false), ms);
      this.waiting.add(wake);
    });
  }

  wake(): void {
    for (const w of [...this.waiting]) w();
  }

  get size(): number {
    return this.waiting.size;
  }
}
