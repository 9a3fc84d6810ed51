import { describe, expect, it } from "vitest";
import { DEFAULT_RETAIN_MS, decideRetention, PublishError, parseDuration } from "./index.js";
import { emptyState, type PublisherState } from "./retention.js";

const t0 = new Date("2026-11-23T00:00:00Z");
const at = (hours: number) => new Date(t0.getTime() + hours * 3_600_000);
const retainMs = 25 * 3_600_000;

function run(
  state: PublisherState,
  published: string[],
  cluster: string[],
  hours: number,
  pending: string[] = [],
) {
  return decideRetention({ published, cluster, pending, state, now: at(hours), retainMs });
}

describe("decideRetention", () => {
  it("keeps a key that left the cluster until the retention has passed since it left", () => {
    const first = run(emptyState(), [], ["A"], 0);
    const switched = run(first.state, ["A"], ["B"], 10); // A leaves at hour 10
    expect(switched.keep).toEqual(["A", "B"]);
    expect(switched.state.keys.A?.retiredAt).toBe(at(10).toISOString());
    expect(run(switched.state, ["B", "A"], ["B"], 34.9).keep).toEqual(["B", "A"]);
    const later = run(switched.state, ["B", "A"], ["B"], 35);
    expect(later.prune).toEqual(["A"]);
    expect(later.keep).toEqual(["B"]);
  });

  it("counts from the first publish that found the key gone, not from the last time it was seen", () => {
    const seen = run(emptyState(), [], ["A"], 0);
    const gone = run(seen.state, ["A"], ["B"], 20); // not seen for 20 h before this run
    expect(run(gone.state, ["B", "A"], ["B"], 26).prune).toEqual([]);
  });

  it("never retires a key published ahead of a rotation, whatever the clock", () => {
    const prepared = run(run(emptyState(), [], ["A"], 0).state, ["A"], ["A"], 1, ["B"]);
    expect(prepared.state.keys.B?.pending).toBe(true);
    const muchLater = run(prepared.state, ["A", "B"], ["A"], 500);
    expect(muchLater.keep).toEqual(["A", "B"]);
    expect(muchLater.state.keys.B?.retiredAt).toBeUndefined();
  });

  it("promotes a pending key once the cluster has it", () => {
    const prepared = run(run(emptyState(), [], ["A"], 0).state, ["A"], ["A"], 1, ["B"]);
    const switched = run(prepared.state, ["A", "B"], ["B", "A"], 2);
    expect(switched.promoted).toEqual(["B"]);
    expect(switched.state.keys.B?.pending).toBeUndefined();
  });

  it("starts the clock now for a key published before any state was kept", () => {
    const adopted = run(emptyState(), ["OLD"], ["A"], 100);
    expect(adopted.keep).toEqual(["OLD", "A"]);
    expect(adopted.state.keys.OLD?.retiredAt).toBe(at(100).toISOString());
  });

  it("never prunes the only key", () => {
    const gone = run(run(emptyState(), [], ["A"], 0).state, ["A"], [], 1);
    expect(run(gone.state, ["A"], [], 1000).keep).toEqual(["A"]);
  });

  it("refreshes lastSeenInCluster only every few hours, so that a quiet republish writes nothing", () => {
    const first = run(emptyState(), [], ["A"], 0);
    expect(run(first.state, ["A"], ["A"], 1).state).toEqual(first.state);
    expect(run(first.state, ["A"], ["A"], 7).state.keys.A?.lastSeenInCluster).toBe(at(7).toISOString());
  });
});

describe("DEFAULT_RETAIN_MS", () => {
  it("is a day of token lifetime plus the cache time plus an hour", () => {
    expect(DEFAULT_RETAIN_MS).toBe((24 * 60 + 5 + 60) * 60_000);
  });
});

describe("parseDuration", () => {
  it.each([
    ["26h", 26 * 3_600_000],
    ["90m", 90 * 60_000],
    ["2d", 2 * 86_400_000],
    ["3600", 3_600_000],
    ["0s", 0],
    ["25h5m", DEFAULT_RETAIN_MS],
    ["1d2h", 26 * 3_600_000],
    ["90s", 90_000],
    ["1h30m", 90 * 60_000],
    ["1m500ms", 60_500],
  ])("reads %s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["soon", "-1h", "1w", "", "h5m", "25h5", "25h-5m", "1h 30"])("refuses %j", (text) => {
    expect(() => parseDuration(text)).toThrow(PublishError);
  });
});
