import { describe, expect, it } from "vitest";
import { documentNamesReadStatement, type PublicReadScope, planPublicReadPolicy } from "./bucket-policy.js";
import { statePath } from "./state.js";

/** Whether an S3 resource ARN pattern matches an object's ARN: "*" is any run of characters, "/" included. */
function grants(pattern: string, arn: string): boolean {
  const regex = pattern
    .split("*")
    .map((part) => part.replace(/[.?+^$()[\]{}|\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${regex}$`).test(arn);
}

describe("the document-names statement", () => {
  const statement = documentNamesReadStatement({ partition: "aws", bucket: "oidc" });
  const patterns = [statement.Resource ?? []].flat();
  const readable = (key: string) => patterns.some((pattern) => grants(pattern, `arn:aws:s3:::oidc/${key}`));

  // Prefixes chosen to tempt a pattern: ones that end like a document or hold its name.
  const prefixes = ["", "prod", "a/b/c", "keys.json", ".well-known", "x/.well-known/openid-configuration"];

  it.each(prefixes)("grants both documents under prefix %j", (prefix) => {
    const at = prefix === "" ? "" : `${prefix}/`;
    expect(readable(`${at}keys.json`)).toBe(true);
    expect(readable(`${at}.well-known/openid-configuration`)).toBe(true);
  });

  it.each(prefixes)("never grants the state under prefix %j", (prefix) => {
    const at = prefix === "" ? "" : `${prefix}/`;
    expect(readable(statePath(`${at}keys.json`))).toBe(false);
  });

  it("grants nothing else, beside the documents or elsewhere", () => {
    for (const key of ["other.json", "prod/keys.json.bak", "prod/monkeys.json", "prod/.well-known/jwks"]) {
      expect(readable(key)).toBe(false);
    }
  });
});

describe("planPublicReadPolicy", () => {
  const objectKeys = ["p/keys.json", "p/.well-known/openid-configuration"];
  const plan = (existing: string | undefined, scope: PublicReadScope) =>
    planPublicReadPolicy(existing, { partition: "aws", bucket: "oidc", objectKeys, scope });
  const byName = plan(undefined, "document-names");

  it("adds nothing under auto once the document-names statement is there", () => {
    expect(plan(byName.policy, "auto")).toMatchObject({
      changed: false,
      scope: "document-names",
      policy: byName.policy,
    });
  });

  it("adds the exact statement when asked, even beside the document-names one", () => {
    const exact = plan(byName.policy, "exact");
    expect(exact).toMatchObject({ changed: true, scope: "exact" });
    expect(JSON.parse(exact.policy).Statement).toHaveLength(2);
  });
});
