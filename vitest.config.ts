import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "test/**/*.test.ts"],
    // Tests that start servers (moto, local TLS peers) need more than the default 5 s on 2 cores.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
