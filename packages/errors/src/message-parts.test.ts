import { describe, expect, it } from "vitest";
import { firstLine, formatMs } from "./message-parts.js";

describe("message parts", () => {
  it("keeps only an error's first line", () => {
    expect(firstLine(new Error("refused\n    at connect"))).toBe("refused");
    expect(firstLine("plain text")).toBe("plain text");
  });
  it.each([
    [300, "300 ms"],
    [5000, "5 s"],
    [1500, "1500 ms"],
  ])("names %i ms as %s", (ms, text) => {
    expect(formatMs(ms)).toBe(text);
  });
});
