// Drives concurrent runs one store access at a time, in an order the test chooses, so that an
// interleaving is explored on purpose rather than met by luck.
import type { PublishTarget } from "@irsa-anywhere/publisher";

interface PendingStep {
  run: number;
  label: string;
  arrival: number;
  release: () => void;
}

export interface RunOutcome {
  ok: boolean;
  value?: unknown;
  error?: unknown;
}

/**
 * Holds every store access of every run at a gate (see {@link Scheduler.step}); `explore` lets
 * exactly one through at a time, waits until it has taken effect and every run is held again or
 * finished, and then calls `check`.
 */
export class Scheduler {
  private pending: PendingStep[] = [];
  private inFlight = 0;
  private arrivals = 0;
  private finished: boolean[] = [];
  private wake: () => void = () => {};
  /** Steps released in the last `explore`. */
  steps = 0;

  /** Called by an instrumented store before an access; resolves, once released, with `settled` to call when the access is complete. */
  step(run: number, label: string): Promise<() => void> {
    return new Promise((resolve) => {
      this.pending.push({
        run,
        label,
        arrival: this.arrivals++,
        release: () => {
          this.inFlight++;
          resolve(() => {
            this.inFlight--;
            this.wake();
          });
        },
      });
      this.wake();
    });
  }

  private quiet(): boolean {
    if (this.inFlight > 0) return false;
    return this.finished.every((done, run) => done || this.pending.some((step) => step.run === run));
  }

  private async settle(): Promise<void> {
    while (!this.quiet()) {
      // A run may be in its conflict backoff (a timer): no event wakes the scheduler then.
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 5);
      });
    }
  }

  /**
   * Starts the runs and releases their accesses one at a time, the next chosen by `choose` among
   * those waiting (in a canonical order: by run, then arrival), calling `check` after each.
   */
  async explore(
    runs: ReadonlyArray<() => Promise<unknown>>,
    choose: (waiting: number) => number,
    check: (finished: readonly RunOutcome[]) => Promise<void>,
  ): Promise<RunOutcome[]> {
    this.pending = [];
    this.finished = runs.map(() => false);
    this.steps = 0;
    const outcomes: RunOutcome[] = runs.map(() => ({ ok: false }));
    const done = runs.map((start, index) =>
      start()
        .then(
          (value) => {
            outcomes[index] = { ok: true, value };
          },
          (error: unknown) => {
            outcomes[index] = { ok: false, error };
          },
        )
        .finally(() => {
          this.finished[index] = true;
          this.wake();
        }),
    );
    for (;;) {
      await this.settle();
      if (this.finished.every(Boolean)) break;
      this.pending.sort((a, b) => a.run - b.run || a.arrival - b.arrival);
      const [next] = this.pending.splice(choose(this.pending.length), 1);
      next?.release();
      this.steps++;
      await this.settle();
      await check(outcomes.map((outcome, index) => (this.finished[index] ? outcome : { ok: false })));
    }
    await Promise.all(done);
    return outcomes;
  }
}

/** A target whose every read and write waits for the scheduler. */
export function scheduledTarget(inner: PublishTarget, scheduler: Scheduler, run: number): PublishTarget {
  return {
    description: inner.description,
    locate: (path) => inner.locate(path),
    statePath: (jwksPath) => inner.statePath(jwksPath),
    async read(path) {
      const settled = await scheduler.step(run, `read ${path}`);
      try {
        return await inner.read(path);
      } finally {
        settled();
      }
    },
    async write(path, body, options) {
      const settled = await scheduler.step(run, `write ${path}`);
      try {
        return await inner.write(path, body, options);
      } finally {
        settled();
      }
    },
  };
}

/** A small seeded generator (mulberry32), so that a failing schedule can be run again. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
