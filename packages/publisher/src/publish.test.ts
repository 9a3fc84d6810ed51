import { describe, expect, it } from "vitest";
import { directoryTarget } from "./directory-target.js";
import { publish } from "./publish.js";

// Each call below is also a type test: `pnpm run lint` type-checks this file, and fails if a
// call marked @ts-expect-error compiles, that is if the options type lets it through again.
describe("publish without a place to publish", () => {
  const keys = [] as const;

  it("does not compile without a bucket, a directory or a target, and throws for JavaScript callers", async () => {
    // @ts-expect-error no bucket, outDir or target
    await expect(publish({ keys })).rejects.toMatchObject({ code: "ERR_TARGET_MISSING" });
    // @ts-expect-error no bucket, outDir or target, only where in the bucket
    await expect(publish({ keys, prefix: "prod" })).rejects.toMatchObject({ code: "ERR_TARGET_MISSING" });
  });

  it("does not compile for a directory or a target without the issuer that serves it", async () => {
    // @ts-expect-error a directory without its issuer
    await expect(publish({ keys, outDir: "site" })).rejects.toMatchObject({ code: "ERR_TARGET_MISSING" });
    // @ts-expect-error a target without its issuer
    await expect(publish({ keys, target: directoryTarget("site") })).rejects.toMatchObject({
      code: "ERR_TARGET_MISSING",
    });
  });
});
