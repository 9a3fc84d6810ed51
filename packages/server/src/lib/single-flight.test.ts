import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { singleFlight } from "./single-flight.js";

/** A task whose runs each wait for the test to let them finish, recording what overlapped. */
function gatedTask() {
  const gates: Array<{ finish(value: number): void; fail(error: Error): void }> = [];
  let running = 0;
  let mostAtOnce = 0;
  const task = () =>
    new Promise<number>((resolve, reject) => {
      running += 1;
      mostAtOnce = Math.max(mostAtOnce, running);
      const settle = () => {
        running -= 1;
      };
      gates.push({
        finish: (value) => {
          settle();
          resolve(value);
        },
        fail: (error) => {
          settle();
          reject(error);
        },
      });
    });
  return {
    task,
    gates,
    get mostAtOnce() {
      return mostAtOnce;
    },
  };
}

/** Lets every queued promise callback and a timer tick run, as real time passing would. */
const settle = () => sleep(5);

describe("singleFlight", () => {
  it("runs one at a time, in the order asked, each with its own result, past a failure", async () => {
    const gated = gatedTask();
    const flight = singleFlight(gated.task, { onFailure: () => {}, stopped: () => false });
    const first = flight.run();
    const second = flight.run();
    const third = flight.run();
    await settle();
    expect(gated.gates).toHaveLength(1);
    gated.gates[0]?.fail(new Error("source down"));
    await expect(first).rejects.toThrow("source down");
    await settle();
    expect(gated.gates).toHaveLength(2);
    gated.gates[1]?.finish(2);
    expect(await second).toBe(2);
    await settle();
    gated.gates[2]?.finish(3);
    expect(await third).toBe(3);
    expect(gated.mostAtOnce).toBe(1);
  });

  it("follows a background run with exactly one more when notices came while it ran", async () => {
    const gated = gatedTask();
    const flight = singleFlight(gated.task, { onFailure: () => {}, stopped: () => false });
    flight.trigger();
    await settle();
    for (let i = 0; i < 5; i++) flight.trigger();
    await settle();
    expect(gated.gates).toHaveLength(1);
    gated.gates[0]?.finish(1);
    await settle();
    expect(gated.gates).toHaveLength(2);
    gated.gates[1]?.finish(2);
    await settle();
    expect(gated.gates).toHaveLength(2);
    expect(gated.mostAtOnce).toBe(1);
  });

  it("queues a background run behind a direct one, not beside it", async () => {
    const gated = gatedTask();
    const flight = singleFlight(gated.task, { onFailure: () => {}, stopped: () => false });
    const direct = flight.run();
    flight.trigger();
    await settle();
    expect(gated.gates).toHaveLength(1);
    gated.gates[0]?.finish(1);
    await direct;
    await settle();
    expect(gated.gates).toHaveLength(2);
    gated.gates[1]?.finish(2);
    expect(gated.mostAtOnce).toBe(1);
  });

  it("reports a background failure and still runs on the next notice", async () => {
    const gated = gatedTask();
    const failures: unknown[] = [];
    const flight = singleFlight(gated.task, {
      onFailure: (error) => failures.push(error),
      stopped: () => false,
    });
    flight.trigger();
    await settle();
    gated.gates[0]?.fail(new Error("timed out"));
    await settle();
    expect(failures).toEqual([new Error("timed out")]);
    flight.trigger();
    await settle();
    expect(gated.gates).toHaveLength(2);
    gated.gates[1]?.finish(2);
  });

  it("starts no follow-up run once stopped", async () => {
    const gated = gatedTask();
    let stopped = false;
    const flight = singleFlight(gated.task, { onFailure: () => {}, stopped: () => stopped });
    flight.trigger();
    await settle();
    flight.trigger();
    stopped = true;
    gated.gates[0]?.finish(1);
    await settle();
    expect(gated.gates).toHaveLength(1);
  });
});
