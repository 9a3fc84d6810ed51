import { describe, expect, it } from "vitest";
import { DEFAULT_RETAIN_MS, PublishError, parseDuration } from "./index.js";

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
