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
  ])("reads %s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["soon", "-1h", "1w", ""])("refuses %j", (text) => {
    expect(() => parseDuration(text)).toThrow(PublishError);
  });
});
