// Cold start of the CLI against bare `node -e 0`, measured in the same run so that the ratio
// survives a slow or busy machine. A measurement, not a test: it fails only when the CLI itself
// fails, since a broken build would otherwise be timed silently.
//
//   pnpm run build && node bench/cold-start.mjs [--runs N] [--json] [--baseline DIR]
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { importHarness } from "./harness.mjs";

const TARGET_RATIO = 1.5;
const WARMUP_ROUNDS = 3;

const {
  cliPath: cliBin,
  cliEntryBundlePath: cliBundle,
  generateTestKey,
  pem,
  watchLoadedModules,
} = await importHarness("cold-start", "cli", "keys", "loaded-modules");

const { values: options } = parseArgs({
  options: {
    runs: { type: "string", default: "30" },
    json: { type: "boolean", default: false },
    // Another build's packages/cli (a copy of it), each CLI case of which runs beside this one's.
    baseline: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (options.help) {
  process.stdout.write("usage: node bench/cold-start.mjs [--runs N] [--json] [--baseline DIR]\n");
  process.exit(0);
}

const runs = Number(options.runs);
if (!Number.isInteger(runs) || runs < 1) {
  process.stderr.write(`cold-start: --runs must be a positive integer, got ${options.runs}\n`);
  process.exit(2);
}
if (!existsSync(cliBundle)) {
  process.stderr.write(
    "cold-start: packages/cli/dist/bundle/irsa-anywhere.cjs is missing; run pnpm run build first\n",
  );
  process.exit(2);
}

const baselineBin = options.baseline && join(resolve(options.baseline), "bin", "irsa-anywhere.cjs");
if (baselineBin && !existsSync(baselineBin)) {
  process.stderr.write(
    `cold-start: --baseline ${options.baseline} holds no bin/irsa-anywhere.cjs; give a copy of a built packages/cli\n`,
  );
  process.exit(2);
}

/** Progress and the table go to stderr under --json, so stdout stays one JSON document. */
const log = (line) => (options.json ? process.stderr : process.stdout).write(`${line}\n`);

const cases = [
  { name: "node -e 0", args: ["-e", "0"], isCli: false },
  { name: "irsa-anywhere keys --key sa.pub", args: [cliBin, "keys", "--key", "sa.pub"], isCli: true },
  { name: "irsa-anywhere --help", args: [cliBin, "--help"], isCli: true },
  {
    name: "irsa-anywhere discovery --issuer URL --key sa.pub",
    args: [cliBin, "discovery", "--issuer", "https://oidc.example.com/prod", "--key", "sa.pub"],
    isCli: true,
  },
  {
    // After the first round, a republish that finds nothing to change, as a scheduled job mostly does.
    name: "irsa-anywhere publish --out-dir site",
    args: [
      cliBin,
      "publish",
      "--key",
      "sa.pub",
      "--issuer",
      "https://oidc.example.com/prod",
      "--out-dir",
      "site",
    ],
    isCli: true,
  },
];

// With --baseline, each CLI case runs a second time in every round, through the other build.
if (baselineBin) {
  for (const benchCase of cases.filter((c) => c.isCli)) {
    cases.push({
      ...benchCase,
      name: `${benchCase.name} [baseline]`,
      args: [baselineBin, ...benchCase.args.slice(1)],
    });
  }
}

class CliFailed extends Error {}

// Settings that make every Node process start slower, and so flatter the ratio: the CA bundle that
// NODE_EXTRA_CA_CERTS names is read and parsed before any code runs (on some build machines that
// doubles bare Node's start-up), and NODE_OPTIONS can preload anything. A user's shell rarely
// has either, so every case, the baseline included, runs without them.
const benchEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => name !== "NODE_EXTRA_CA_CERTS" && name !== "NODE_OPTIONS"),
);

/** One cold start; returns its wall time in milliseconds. */
function timeOnce(benchCase, cwd) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, benchCase.args, {
    cwd,
    env: benchEnv,
    stdio: ["ignore", "ignore", "pipe"],
  });
  const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.error) throw result.error;
  if (result.status !== 0) {
    const how = result.signal ? `signal ${result.signal}` : `exit code ${result.status}`;
    throw new CliFailed(`\`${benchCase.name}\` failed with ${how}:\n${result.stderr.toString().trimEnd()}`);
  }
  return elapsedMs;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted, p) {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

function median(sorted) {
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Runs `keys` once under the hooks and reports which heavy dependencies it loaded. */
function checkKeysImports(dir) {
  const watch = watchLoadedModules(dir);
  const keysCase = cases[1];
  timeOnce({ ...keysCase, args: [...watch.nodeOptions, ...keysCase.args] }, dir);
  const loaded = watch.loaded();
  // Without this the check would say "no" just as happily if the hooks had never run.
  if (!loaded.includes(pathToFileURL(cliBundle).href)) {
    throw new Error("module check is inconclusive: the hooks did not see the CLI bundle load");
  }
  return {
    yargs: loaded.some((url) => url.endsWith("/dist/bundle/main.js") || url.includes("/node_modules/yargs")),
    awsSdk: loaded.some((url) => url.includes("/node_modules/@aws-sdk/")),
    kubernetesClient: loaded.some((url) => url.includes("/node_modules/@kubernetes/client-node/")),
  };
}

function measure(dir) {
  for (let round = 0; round < WARMUP_ROUNDS; round++) {
    for (const benchCase of cases) timeOnce(benchCase, dir);
  }
  // Round-robin, so that noise from the rest of the machine falls on every case alike.
  const samples = cases.map(() => []);
  for (let round = 0; round < runs; round++) {
    for (const [i, benchCase] of cases.entries()) samples[i].push(timeOnce(benchCase, dir));
  }
  const stats = samples.map((times) => {
    const sorted = times.toSorted((a, b) => a - b);
    return { medianMs: median(sorted), p90Ms: percentile(sorted, 90), minMs: sorted[0] };
  });
  const baselineMs = stats[0].medianMs;
  return cases.map((benchCase, i) => ({
    name: benchCase.name,
    ...stats[i],
    ratio: stats[i].medianMs / baselineMs,
  }));
}

function table(results) {
  const rows = [
    ["case", "median ms", "p90 ms", "min ms", "ratio", "target"],
    ...results.map((r, i) => [
      r.name,
      r.medianMs.toFixed(1),
      r.p90Ms.toFixed(1),
      r.minMs.toFixed(1),
      i === 0 ? "1.00x" : `${r.ratio.toFixed(2)}x`,
      i === 0 ? "" : `≤ ${TARGET_RATIO.toFixed(1)}x`,
    ]),
  ];
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => row[col].length)));
  return rows
    .map((row) => row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]) : cell.padStart(widths[col]))))
    .map((row) => row.join("  ").trimEnd())
    .join("\n");
}

const dir = mkdtempSync(join(tmpdir(), "irsa-anywhere-bench-"));
try {
  writeFileSync(join(dir, "sa.pub"), pem(generateTestKey({ type: "rsa", bits: 2048 }).publicKey, "spki"));

  log(`node ${process.version}, ${runs} interleaved rounds after ${WARMUP_ROUNDS} warm-up rounds`);
  const loads = checkKeysImports(dir);
  const results = measure(dir);

  log("");
  log(table(results));
  log("");
  log("ratio = median of the case / median of node -e 0; the target is a goal, not a pass/fail line");
  log(
    `keys loads yargs: ${loads.yargs ? "yes" : "no"} / AWS SDK: ${loads.awsSdk ? "yes" : "no"} / Kubernetes client: ${loads.kubernetesClient ? "yes" : "no"}`,
  );
  if (options.json) {
    const report = { node: process.version, runs, warmupRounds: WARMUP_ROUNDS, targetRatio: TARGET_RATIO };
    process.stdout.write(`${JSON.stringify({ ...report, cases: results, keysLoads: loads }, null, 2)}\n`);
  }
} catch (error) {
  process.stderr.write(`cold-start: ${error instanceof CliFailed ? error.message : error.stack}\n`);
  process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
