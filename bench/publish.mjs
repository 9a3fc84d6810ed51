// Requests and wall time of publish() to S3 against moto: a first publish and a no-op republish,
// beside a naive AWS SDK script that makes the same writes blindly, in the same run and through
// the same recording proxy. A measurement, not a test: it fails only when a publish (or the naive
// script) throws, never on the numbers.
//
//   pnpm run build && node bench/publish.mjs [--rounds N] [--delay-ms MS] [--process] [--json]
//
// With --process both sides run as a process of their own, start to exit: the CLI
// (`irsa-anywhere publish`) and bench/naive-publish.mjs, as a user or a job runs them.
//
// With --delay-ms the proxy holds every request that long, as a distant region would, and the
// table says how many round trips of that delay each case took: requests sent at once share one.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { importHarness } from "./harness.mjs";
import { naiveWrites } from "./naive-publish.mjs";

// Before any client exists: the SDK warns at construction time that Node 20 support is ending.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

const region = "us-west-2";
const bucket = "irsa-anywhere-bench";
const prefix = "clusters/bench";
const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
/** moto's account: what --account-id gives the credentials, as IRSA's and assumed roles' carry it. */
const motoAccountId = "123456789012";

const { values: options } = parseArgs({
  options: {
    rounds: { type: "string", default: "10" },
    "delay-ms": { type: "string", default: "0" },
    process: { type: "boolean", default: false },
    "account-id": { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (options.help) {
  process.stdout.write(
    "usage: node bench/publish.mjs [--rounds N] [--delay-ms MS] [--process] [--account-id] [--json]\n",
  );
  process.exit(0);
}

const rounds = Number(options.rounds);
if (!Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write(`publish bench: --rounds must be a positive integer, got ${options.rounds}\n`);
  process.exit(2);
}

const delayMs = Number(options["delay-ms"]);
if (!Number.isInteger(delayMs) || delayMs < 0) {
  process.stderr.write(
    `publish bench: --delay-ms must be a whole number of milliseconds, got ${options["delay-ms"]}\n`,
  );
  process.exit(2);
}

/** Progress and the table go to stderr under --json, so stdout stays one JSON document. */
const log = (line) => (options.json ? process.stderr : process.stdout).write(`${line}\n`);

// Imported here rather than at the top, so that a missing build gets one clear line.
let sdk;
try {
  const [iam, s3, sts, publisher, keys, discovery] = await Promise.all([
    import("@aws-sdk/client-iam"),
    import("@aws-sdk/client-s3"),
    import("@aws-sdk/client-sts"),
    import("@irsa-anywhere/publisher"),
    import("@irsa-anywhere/keys"),
    import("@irsa-anywhere/discovery"),
  ]);
  sdk = { iam, s3, sts, publisher, keys, discovery };
} catch (error) {
  process.stderr.write(`publish bench: ${error.message}; run pnpm run build first\n`);
  process.exit(2);
}
const { iam, s3, sts, publisher, keys, discovery } = sdk;
const { runCli, generateTestKey, pem, startMoto, startRecordingProxy } = await importHarness(
  "publish bench",
  "cli",
  "keys",
  "moto",
  "recording-proxy",
);

/** The IAM or STS action of a request: both send every call as `POST /`, naming it only in the body. */
const iamAction = (request) =>
  request.method === "POST" ? (new URLSearchParams(request.body).get("Action") ?? undefined) : undefined;

/** A write: any PUT, or a POST whose action does not only read (IAM's List* and Get*). */
const isWrite = (request) =>
  request.method === "PUT" || (request.method === "POST" && !/^(List|Get)/.test(iamAction(request) ?? ""));

const clusterPem = pem(generateTestKey({ type: "rsa", bits: 2048 }).publicKey, "spki");
const clusterKeys = keys.publicKeysFromPem(clusterPem, "sa.pub");

/** For --process: the key and the naive script's documents, in a temp dir removed at the end. */
const workDir = options.process ? mkdtempSync(join(tmpdir(), "irsa-anywhere-publish-bench-")) : undefined;

/** Runs a script (the CLI's bin by default) to its end; rejects with its stderr when it fails. */
async function runProcess(args, entry) {
  // isolated: no NODE_EXTRA_CA_CERTS or NODE_OPTIONS of this shell (see the cold-start bench).
  const result = await runCli(args, { entry, isolated: true, env: processEnv() });
  if (result.code !== 0) throw new Error(`${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

/** What both processes run with: the proxy's endpoints and test credentials. */
function processEnv() {
  return {
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_ENDPOINT_URL_IAM: proxy.url,
    AWS_ENDPOINT_URL_STS: proxy.url,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    ...(options["account-id"] ? { AWS_ACCOUNT_ID: motoAccountId } : {}),
  };
}

let moto;
let proxy;
const clients = [];
let cleaning;
const cleanUp = () => {
  cleaning ??= (async () => {
    for (const client of clients) client.destroy();
    await proxy?.close();
    await moto?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  })();
  return cleaning;
};
// Ctrl-C: stop moto and the proxy, then exit quietly (the round in flight fails as they go).
let interrupted = false;
for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
]) {
  process.once(signal, () => {
    interrupted = true;
    cleanUp().finally(() => process.exit(code));
  });
}

/**
 * What a user following the manual guide would script: build the two documents, then put the
 * bucket policy, both objects and the IAM provider, one call after another, reading nothing.
 * Run again, it writes everything again; the provider then exists already, which it ignores.
 */
async function naivePublish({ s3Client, iamClient }) {
  if (options.process) return naivePublishProcess();
  const issuer = `https://${bucket}.s3.${region}.amazonaws.com/${prefix}`;
  const jwks = keys.serializeJwks(keys.buildJwks(clusterKeys));
  const openIdConfiguration = discovery.serializeOpenIdConfiguration(
    discovery.openIdConfiguration({ issuer, algorithms: clusterKeys.map((key) => key.alg) }),
  );
  await naiveWrites({ s3Client, iamClient, bucket, prefix, region, jwks, openIdConfiguration });
  return { jwks, openIdConfiguration };
}

/** The naive script as a process: the documents are built here, once, and read from files there. */
async function naivePublishProcess() {
  const issuer = `https://${bucket}.s3.${region}.amazonaws.com/${prefix}`;
  const jwks = keys.serializeJwks(keys.buildJwks(clusterKeys));
  const openIdConfiguration = discovery.serializeOpenIdConfiguration(
    discovery.openIdConfiguration({ issuer, algorithms: clusterKeys.map((key) => key.alg) }),
  );
  const [jwksFile, discoveryFile] = [join(workDir, "keys.json"), join(workDir, "openid-configuration")];
  writeFileSync(jwksFile, jwks);
  writeFileSync(discoveryFile, openIdConfiguration);
  const script = fileURLToPath(new URL("naive-publish.mjs", import.meta.url));
  await runProcess([proxy.url, bucket, prefix, region, jwksFile, discoveryFile], script);
  return { jwks, openIdConfiguration };
}

async function ourPublish({ s3Client, iamClient, stsClient }) {
  if (options.process) {
    const keyFile = join(workDir, "sa.pub");
    writeFileSync(keyFile, clusterPem);
    // bin/irsa-anywhere.cjs, as a user runs it
    const stdout = await runProcess(
      ["publish", "--key", keyFile, "--bucket", bucket, "--prefix", prefix, "--region", region].concat([
        "--endpoint-url",
        proxy.url,
        "--public-read-policy",
        "--json",
      ]),
    );
    return JSON.parse(stdout);
  }
  return publisher.publish({
    keys: clusterKeys,
    bucket,
    prefix,
    region,
    // Also where publish() makes its anonymous reads, so they pass through the proxy too.
    endpointUrl: proxy.url,
    publicReadPolicy: true,
    clients: { s3: s3Client, iam: iamClient, ...(stsClient ? { sts: stsClient } : {}) },
  });
}

const cases = [
  { name: "publish() first", side: "ours", step: "first" },
  { name: "naive SDK first", side: "naive", step: "first" },
  { name: "publish() republish (no-op)", side: "ours", step: "republish" },
  { name: "naive SDK republish", side: "naive", step: "republish" },
];

/** Times one call and takes the requests it made off the proxy. */
async function measureOnce(run) {
  proxy.requests.length = 0;
  const start = performance.now();
  const value = await run();
  const ms = performance.now() - start;
  return { ms, requests: proxy.requests.splice(0), value };
}

/** One side (ours or the naive script) from an empty account: first publish, then republish. */
async function runSide(side, context) {
  await moto.reset();
  await context.setupS3.send(
    new s3.CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: region } }),
  );
  const run = side === "ours" ? () => ourPublish(context) : () => naivePublish(context);
  const first = await measureOnce(run);
  const republish = await measureOnce(run);
  return { first, republish };
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted, p) {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

function median(sorted) {
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** `GET s3 clusters/bench/keys.json (anonymous) -> 200`, `POST iam ListOpenIDConnectProviders -> 200`. */
function describeRequest(request) {
  const status = `-> ${request.status ?? "no answer"}`;
  const action = iamAction(request);
  if (action !== undefined)
    return `${request.method} ${action === "GetCallerIdentity" ? "sts" : "iam"} ${action} ${status}`;
  // Paths are /BUCKET/KEY for objects and /BUCKET/?policy= for the bucket itself.
  const rest = request.path.slice(bucket.length + 2);
  const path = rest === "" || rest.startsWith("?") ? `(bucket)${rest}` : rest;
  return `${request.method} s3 ${decodeURIComponent(path)}${request.signed ? "" : " (anonymous)"} ${status}`;
}

/**
 * How many requests of a run had to wait for each other: the longest chain of requests in which
 * each arrived at the proxy after the one before it was answered. Requests sent at once count
 * once, and neither the client's CPU nor moto's time adds to it, as they add to wall time.
 */
function dependentRounds(requests) {
  const sorted = requests.toSorted((a, b) => a.receivedAt - b.receivedAt);
  const chain = [];
  for (const [i, request] of sorted.entries()) {
    let before = 0;
    for (let j = 0; j < i; j++) {
      if ((sorted[j].answeredAt ?? Number.POSITIVE_INFINITY) <= request.receivedAt)
        before = Math.max(before, chain[j]);
    }
    chain.push(before + 1);
  }
  return Math.max(0, ...chain);
}

const range = (values) => ({ min: Math.min(...values), max: Math.max(...values) });
const showRange = ({ min, max }) => (min === max ? String(min) : `${min}-${max}`);

async function measure() {
  // With --account-id, the clients' credentials carry the account and no STS client is given,
  // as a caller holding IRSA's or an assumed role's credentials would publish.
  const ourCredentials = options["account-id"] ? { ...credentials, accountId: motoAccountId } : credentials;
  const context = {
    s3Client: new s3.S3Client({
      region,
      endpoint: proxy.url,
      forcePathStyle: true,
      credentials: ourCredentials,
    }),
    iamClient: new iam.IAMClient({ region: "us-east-1", endpoint: proxy.url, credentials: ourCredentials }),
    stsClient: options["account-id"]
      ? undefined
      : new sts.STSClient({ region, endpoint: proxy.url, credentials }),
    // Creates the bucket straight on moto, so that the set-up is never counted.
    setupS3: new s3.S3Client({ region, endpoint: moto.endpoint, forcePathStyle: true, credentials }),
  };
  clients.push(...[context.s3Client, context.iamClient, context.stsClient, context.setupS3].filter(Boolean));
  const notes = [];

  // One warm-up round, not counted: the SDK's lazy modules, the JIT and the keep-alive
  // connections, on both sides alike.
  const naive = await runSide("naive", context);
  await runSide("ours", context);
  // What publish() left in the bucket must be what the naive script writes, or the comparison
  // means little.
  for (const [key, expected] of [
    ["keys.json", naive.first.value.jwks],
    [".well-known/openid-configuration", naive.first.value.openIdConfiguration],
  ]) {
    const object = await context.setupS3.send(
      new s3.GetObjectCommand({ Bucket: bucket, Key: `${prefix}/${key}` }),
    );
    if ((await object.Body.transformToString()) !== expected) {
      notes.push(`the naive script's ${key} differs from the one publish() writes`);
    }
  }

  const samples = cases.map(() => []);
  for (let round = 0; round < rounds; round++) {
    // Alternate which side goes first, so that a burst of noise does not always hit the same one.
    const sides = round % 2 === 0 ? ["ours", "naive"] : ["naive", "ours"];
    for (const side of sides) {
      const result = await runSide(side, context);
      for (const [i, benchCase] of cases.entries()) {
        if (benchCase.side === side) samples[i].push(result[benchCase.step]);
      }
    }
  }

  const republished = samples[2].filter((sample) => sample.value.changed).length;
  if (republished > 0)
    notes.push(`publish() reported changes on the republish in ${republished} of ${rounds} rounds`);

  const stats = samples.map((runs) => {
    const sorted = runs.map((run) => run.ms).toSorted((a, b) => a - b);
    return {
      medianMs: median(sorted),
      p90Ms: percentile(sorted, 90),
      minMs: sorted[0],
      requests: range(runs.map((run) => run.requests.length)),
      writes: range(runs.map((run) => run.requests.filter(isWrite).length)),
      dependentRounds: range(runs.map((run) => dependentRounds(run.requests))),
      // Which requests, from the first measured round; the counts above cover every round.
      firstRoundRequests: runs[0].requests.map(describeRequest),
    };
  });
  const results = cases.map((benchCase, i) => {
    const naive = stats[cases.findIndex((c) => c.side === "naive" && c.step === benchCase.step)];
    return {
      name: benchCase.name,
      side: benchCase.side,
      step: benchCase.step,
      ...stats[i],
      ratio: benchCase.side === "ours" ? stats[i].medianMs / naive.medianMs : null,
      // Wall time in round trips of the added delay; moto's own time makes it a little more.
      roundTrips: delayMs > 0 ? stats[i].medianMs / delayMs : null,
    };
  });
  return { results, notes };
}

function table(results) {
  const rows = [
    [
      "case",
      "median ms",
      "p90 ms",
      "requests",
      "writes",
      "ratio",
      ...(delayMs > 0 ? ["round trips", "dependent rounds"] : []),
    ],
    ...results.map((r) => [
      r.name,
      r.medianMs.toFixed(1),
      r.p90Ms.toFixed(1),
      showRange(r.requests),
      showRange(r.writes),
      r.ratio === null ? "" : `${r.ratio.toFixed(2)}x`,
      ...(r.roundTrips === null ? [] : [r.roundTrips.toFixed(1), showRange(r.dependentRounds)]),
    ]),
  ];
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => row[col].length)));
  return rows
    .map((row) => row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]) : cell.padStart(widths[col]))))
    .map((row) => row.join("  ").trimEnd())
    .join("\n");
}

try {
  moto = await startMoto();
  proxy = await startRecordingProxy(moto.endpoint);
  proxy.delayMs = delayMs;
  log(
    `node ${process.version}, moto at ${moto.endpoint}, ${rounds} rounds after 1 warm-up round${delayMs > 0 ? `, ${delayMs} ms added to each request` : ""}${options.process ? ", each publish a whole process" : ""}${options["account-id"] ? ", credentials that carry the account" : ""}`,
  );
  const { results, notes } = await measure();

  log("");
  log(table(results));
  log("");
  log("ratio = median of publish() / median of the naive script for the same case");
  log("writes = PUTs, and IAM POSTs other than List* and Get*");
  if (delayMs > 0) {
    log(`round trips = median / ${delayMs} ms: requests made at once count once`);
    log("dependent rounds = the longest chain of requests each sent after the one before was answered");
  }
  for (const result of results) {
    log("");
    log(`${result.name}, requests in the first round:`);
    for (const line of result.firstRoundRequests) log(`  ${line}`);
  }
  for (const note of notes) log(`note: ${note}`);
  if (options.json) {
    const report = {
      node: process.version,
      rounds,
      warmupRounds: 1,
      delayMs,
      process: options.process,
      accountId: options["account-id"],
      cases: results,
      notes,
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  }
} catch (error) {
  if (!interrupted) process.stderr.write(`publish bench: ${error?.stack ?? error}\n`);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
