import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "test/**/*.test.ts"],
    // Tests that start servers (moto, local TLS peers) need more than the default 5 s on 2 cores.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two files at once. Vitest's default on 2 cores is one (cores - 1), but most of a file's
    // time is spent waiting on the processes it starts (the CLI, moto, TLS peers), so two halve
    // the suite's wall time (771 s -> 472 s on a 2-core machine) and keep CI inside its budget.
    maxWorkers: 2,
  },
});
