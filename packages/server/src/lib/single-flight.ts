/** @internal */
export interface SingleFlight<T> {
  /**
   * Runs the task once every run asked for before has settled, and resolves or rejects with this
   * run's own result. Runs never overlap, so a change seen while one runs is read by the next.
   */
  run(): Promise<T>;
  /**
   * Asks for a run in the background, for a watch or a timer. At most one background run waits
   * at a time: a source that hangs (an API server up to its timeout) must not pile up a run per
   * notice behind it. A notice that comes while one runs may describe a change that run read too
   * early, so exactly one more run follows it, however many notices came meanwhile.
   */
  trigger(): void;
}

/**
 * @internal One run of `task` at a time, asked for directly (`run`) or in the background
 * (`trigger`). A background run's failure goes to `onFailure`; once `stopped()` is true, no
 * follow-up run starts.
 */
export function singleFlight<T>(
  task: () => Promise<T>,
  options: { onFailure(error: unknown): void; stopped(): boolean },
): SingleFlight<T> {
  let queue: Promise<unknown> = Promise.resolve();
  let pending = false;
  let again = false;
  const run = (): Promise<T> => {
    const next = queue.then(() => task());
    queue = next.catch(() => {});
    return next;
  };
  const trigger = (): void => {
    if (pending) {
      again = true;
      return;
    }
    pending = true;
    run()
      .catch(options.onFailure)
      .finally(() => {
        pending = false;
        if (again && !options.stopped()) {
          again = false;
          trigger();
        }
      });
  };
  return { run, trigger };
}
