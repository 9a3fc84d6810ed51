import { describe, expect, it } from "vitest";
import { isDnsLabel, isDnsSubdomain } from "./kubernetes-names.js";

describe("Kubernetes names", () => {
  it.each([
    ["eksa-system", true, true],
    ["a", true, true],
    ["prod.sa", false, true],
    ["Payments", false, false],
    ["-payments", false, false],
    ["payments-", false, false],
    ["prod_sa", false, false],
    ["ns\nkind: Secret", false, false],
    ["", false, false],
    ["a".repeat(63), true, true],
    ["a".repeat(64), false, true],
    [`${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`, false, true],
    [`${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(62)}`, false, false],
  ])("%j: label %s, subdomain %s", (value, label, subdomain) => {
    expect(isDnsLabel(value)).toBe(label);
    expect(isDnsSubdomain(value)).toBe(subdomain);
  });
});
