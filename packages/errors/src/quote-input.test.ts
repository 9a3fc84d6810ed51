import { describe, expect, it } from "vitest";
import { QUOTED_INPUT_MAX, quoteInput } from "./quote-input.js";

describe("quoteInput", () => {
  it("quotes short input whole, with control characters visible", () => {
    expect(quoteInput("https://example.com/")).toBe('"https://example.com/"');
    expect(quoteInput("a\nb")).toBe('"a\\nb"');
  });

  it("shows other values as JSON, unquoted", () => {
    expect(quoteInput(undefined)).toBe("undefined");
    expect(quoteInput(42)).toBe("42");
  });

  it("cuts long input and names its length", () => {
    const quoted = quoteInput("x".repeat(120_000));
    expect(quoted.length).toBeLessThan(QUOTED_INPUT_MAX + 40);
    expect(quoted).toContain("(120000 characters)");
  });
});
