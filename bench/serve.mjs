// Throughput and tail latency of `irsa-anywhere serve` for keys.json, beside nginx serving the
// same bytes from a file, measured in the same run with the same load generator (wrk), so that
// the ratios survive a slow or busy machine. A measurement, not a test: it fails only when a
// server fails to start or answers wrongly.
//
//   pnpm run build && node bench/serve.mjs [--duration S] [--connections N] [--rounds N] [--tls] [--json]
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { importHarness } from "./harness.mjs";

const TARGET_THROUGHPUT_RATIO = 0.7;
const TARGET_P99_RATIO = 2;
/** USER_HZ: the unit of /proc/<pid>/stat times; 100 on every common Linux build. */
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout) || 100;
const ISSUER = "https://oidc.example.com/bench";
const PATH = "/bench/keys.json";

const {
  cliPath: cliBin,
  cliEntryBundlePath: cliBundle,
  createCertificateAuthority,
  freeLoopbackPort,
  generateTestKey,
  issueServerCertificate,
  pem,
} = await importHarness("serve bench", "cli", "keys", "ports", "tls");

let options;
try {
  ({ values: options } = parseArgs({
    options: {
      duration: { type: "string", default: "10" },
      warmup: { type: "string", default: "2" },
      connections: { type: "string", default: "50" },
      threads: { type: "string", default: "1" },
      rounds: { type: "string", default: "1" },
      "nginx-workers": { type: "string", default: "1" },
      // Node 20's parseArgs has no --no-X for booleans, so the negative is the option.
      "no-pin": { type: "boolean", default: false },
      tls: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  }));
} catch (error) {
  process.stderr.write(`serve bench: ${error.message}; see node bench/serve.mjs --help\n`);
  process.exit(2);
}

if (options.help) {
  process.stdout.write(
    [
      "usage: node bench/serve.mjs [options]",
      "  --duration S        seconds of load per target and round (default 10)",
      "  --warmup S          seconds of load before measuring each target (default 2)",
      "  --connections N     concurrent keep-alive connections (default 50)",
      "  --threads N         wrk threads (default 1)",
      "  --rounds N          rounds, alternating the targets; the median is reported (default 1)",
      "  --nginx-workers N   nginx worker_processes (default 1, like the one Node process)",
      "  --no-pin            do not pin the servers and wrk to separate CPUs with taskset",
      "  --tls               HTTPS (a self-signed certificate made for the run) instead of HTTP",
      "  --json              one JSON document on stdout; the table goes to stderr",
      "",
    ].join("\n"),
  );
  process.exit(0);
}

const numbers = {};
for (const name of ["duration", "warmup", "connections", "threads", "rounds", "nginx-workers"]) {
  const value = Number(options[name]);
  if (!Number.isInteger(value) || value < (name === "warmup" ? 0 : 1)) {
    process.stderr.write(`serve bench: --${name} must be a whole number, got ${options[name]}\n`);
    process.exit(2);
  }
  numbers[name] = value;
}

const log = (line) => (options.json ? process.stderr : process.stdout).write(`${line}\n`);

const nginx = findExecutable("nginx", ["/usr/sbin/nginx"]);
const wrk = findExecutable("wrk", []);
if (!nginx || !wrk) {
  process.stderr.write(
    `serve bench: ${[!nginx && "nginx", !wrk && "wrk"].filter(Boolean).join(" and ")} not found; on Debian or Ubuntu: sudo apt-get install -y nginx wrk\n`,
  );
  process.exit(2);
}
if (!existsSync(cliBundle)) {
  process.stderr.write("serve bench: the CLI is not built; run pnpm run build first\n");
  process.exit(2);
}
const taskset = options["no-pin"] ? undefined : findExecutable("taskset", []);
const cpus = availableCpus();
// Servers on one CPU, wrk on another: neither steals the other's time, and nginx with one
// worker and Node with one thread each get one core.
const pinning = taskset && cpus.length >= 2 ? { server: cpus[0], load: cpus.slice(1).join(",") } : undefined;

const dir = mkdtempSync(join(tmpdir(), "irsa-serve-bench-"));
// nginx workers run as nobody when started as root: they must be able to read the site.
chmodSync(dir, 0o755);
const children = [];
let cleanedUp = false;
function cleanUp() {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}
process.on("exit", cleanUp);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    cleanUp();
    process.exit(130);
  });
}

try {
  await main();
} catch (error) {
  process.stderr.write(`serve bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await stopChildren();
  cleanUp();
}

async function main() {
  const site = join(dir, "site");
  writeFileSync(join(dir, "sa.pub"), pem(generateTestKey({ type: "rsa", bits: 2048 }).publicKey, "spki"));
  const published = spawnSync(
    process.execPath,
    [cliBin, "publish", "--key", join(dir, "sa.pub"), "--issuer", ISSUER, "--out-dir", site],
    { encoding: "utf8" },
  );
  if (published.status !== 0) throw new Error(`publish --out-dir failed: ${published.stderr.trim()}`);
  const expected = readFileSync(join(site, PATH));

  const tls = options.tls ? serverCertificate() : undefined;
  const scheme = tls ? "https" : "http";
  const ourPort = await freeLoopbackPort();
  const nginxPort = await freeLoopbackPort();

  const ours = startChild(
    process.execPath,
    [
      cliBin,
      "serve",
      "--key",
      join(dir, "sa.pub"),
      "--issuer",
      ISSUER,
      "--listen",
      `127.0.0.1:${ourPort}`,
      ...(tls ? ["--tls-cert", tls.certFile, "--tls-key", tls.keyFile] : []),
    ],
    join(dir, "serve.log"),
  );
  writeFileSync(join(dir, "nginx.conf"), nginxConfig(site, nginxPort, tls));
  const nginxChild = startChild(nginx, ["-p", dir, "-c", join(dir, "nginx.conf")], join(dir, "nginx.out"));

  const targets = [
    { name: "irsa-anywhere serve", url: `${scheme}://127.0.0.1:${ourPort}${PATH}`, child: ours, results: [] },
    {
      name: `nginx ${nginxVersion()}`,
      url: `${scheme}://127.0.0.1:${nginxPort}${PATH}`,
      child: nginxChild,
      results: [],
    },
  ];
  for (const target of targets) {
    const body = await fetchOnce(target.url);
    if (!body.equals(expected)) throw new Error(`${target.name} does not serve the published keys.json`);
  }

  log(
    `keys.json (${expected.length} bytes) over ${scheme.toUpperCase()} on loopback; wrk ${numbers.threads} thread(s), ${numbers.connections} connections, ${numbers.duration} s per target and round, ${numbers.rounds} round(s)`,
  );
  log(
    pinning
      ? `servers pinned to CPU ${pinning.server}, wrk to CPU ${pinning.load}; nginx worker_processes ${numbers["nginx-workers"]}`
      : `no CPU pinning (${taskset ? "one CPU only" : "taskset not found"}); nginx worker_processes ${numbers["nginx-workers"]}`,
  );
  for (let round = 1; round <= numbers.rounds; round++) {
    // Alternate which target goes first, so that a drift of the machine does not favour one.
    const order = round % 2 === 1 ? targets : [...targets].reverse();
    for (const target of order) {
      if (numbers.warmup > 0) runWrk(target.url, numbers.warmup, false);
      target.results.push(runWrk(target.url, numbers.duration, true, serverPids(target.child)));
    }
  }

  const summary = targets.map((target) => ({
    name: target.name,
    requestsPerSecond: median(target.results.map((r) => r.requestsPerSecond)),
    p50Ms: median(target.results.map((r) => r.p50Ms)),
    p99Ms: median(target.results.map((r) => r.p99Ms)),
    cpuMicrosPerRequest: median(target.results.map((r) => r.cpuMicrosPerRequest ?? Number.NaN)),
    errors: target.results.reduce((sum, r) => sum + r.errors, 0),
    rounds: target.results,
  }));
  const [serve, reference] = summary;
  const throughputRatio = serve.requestsPerSecond / reference.requestsPerSecond;
  const p99Ratio = serve.p99Ms / reference.p99Ms;
  const cpuRatio = reference.cpuMicrosPerRequest / serve.cpuMicrosPerRequest;

  log("");
  log(
    `${"target".padEnd(24)}${"req/s".padStart(10)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"CPU us/req".padStart(12)}${"errors".padStart(8)}`,
  );
  for (const row of summary) {
    log(
      `${row.name.padEnd(24)}${row.requestsPerSecond.toFixed(0).padStart(10)}${row.p50Ms.toFixed(2).padStart(9)}${row.p99Ms.toFixed(2).padStart(9)}${(Number.isNaN(row.cpuMicrosPerRequest) ? "-" : row.cpuMicrosPerRequest.toFixed(1)).padStart(12)}${String(row.errors).padStart(8)}`,
    );
  }
  log("");
  log(
    `throughput ratio ${throughputRatio.toFixed(2)} (target >= ${TARGET_THROUGHPUT_RATIO}): ${throughputRatio >= TARGET_THROUGHPUT_RATIO ? "met" : "MISSED"}`,
  );
  log(
    `p99 ratio        ${p99Ratio.toFixed(2)} (target <= ${TARGET_P99_RATIO}): ${p99Ratio <= TARGET_P99_RATIO ? "met" : "MISSED"}`,
  );
  if (!Number.isNaN(cpuRatio)) {
    log(
      `CPU ratio        ${cpuRatio.toFixed(2)} (nginx's CPU time per request / ours; steadier than req/s on a busy machine)`,
    );
  }
  if (summary.some((row) => row.errors > 0)) {
    throw new Error("a target answered with errors or non-2xx statuses under load; see the errors column");
  }
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify(
        {
          scheme,
          bodyBytes: expected.length,
          settings: { ...numbers, pinning: pinning ?? null },
          node: process.version,
          targets: summary,
          throughputRatio,
          p99Ratio,
          cpuRatio: Number.isNaN(cpuRatio) ? null : cpuRatio,
          targetThroughputRatio: TARGET_THROUGHPUT_RATIO,
          targetP99Ratio: TARGET_P99_RATIO,
        },
        null,
        2,
      )}\n`,
    );
  }
}

function nginxConfig(site, port, tls) {
  const temp = (name) => `${name}_temp_path ${join(dir, `nginx-${name}`)};`;
  return `worker_processes ${numbers["nginx-workers"]};
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "nginx-error.log")} warn;
daemon off;
events { worker_connections 4096; }
http {
  ${["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(temp).join("\n  ")}
  access_log ${join(dir, "nginx-access.log")};
  default_type application/json;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${port}${tls ? " ssl" : ""};
    ${tls ? `ssl_certificate ${tls.certFile};\n    ssl_certificate_key ${tls.keyFile};` : ""}
    root ${site};
    location = ${PATH} { add_header Cache-Control "public, max-age=300"; }
    location / { return 404; }
  }
}
`;
}

function runWrk(url, seconds, measure, pids = []) {
  const args = ["-t", String(numbers.threads), "-c", String(numbers.connections), "-d", `${seconds}s`];
  if (measure) args.push("--latency");
  const command = pinning ? [taskset, "-c", pinning.load, wrk, ...args, url] : [wrk, ...args, url];
  const cpuBefore = cpuTicks(pids);
  const result = spawnSync(command[0], command.slice(1), { encoding: "utf8" });
  const cpuAfter = cpuTicks(pids);
  if (result.status !== 0) throw new Error(`wrk failed: ${result.stderr || result.stdout}`);
  if (!measure) return undefined;
  const output = result.stdout;
  const requests = Number(/(\d+) requests in/.exec(output)?.[1]);
  const requestsPerSecond = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1]);
  const percentile = (p) => {
    const match = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(output);
    if (!match) throw new Error(`cannot read the ${p}th percentile from wrk:\n${output}`);
    return Number(match[1]) * { us: 0.001, ms: 1, s: 1000 }[match[2]];
  };
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
  const errors = non2xx + (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0);
  if (!Number.isFinite(requestsPerSecond)) throw new Error(`cannot read requests/sec from wrk:\n${output}`);
  const cpuMicrosPerRequest =
    cpuBefore === undefined || cpuAfter === undefined || !(requests > 0)
      ? undefined
      : ((cpuAfter - cpuBefore) * (1_000_000 / CLOCK_TICKS)) / requests;
  return { requestsPerSecond, p50Ms: percentile(50), p99Ms: percentile(99), cpuMicrosPerRequest, errors };
}

function startChild(command, args, logFile) {
  const full = pinning ? [taskset, "-c", String(pinning.server), command, ...args] : [command, ...args];
  // Straight to a file, as nginx writes its access log: a pipe that this process (blocked in
  // spawnSync while wrk runs) does not drain would stall the server's logging.
  const logFd = openSync(logFile, "w");
  const child = spawn(full[0], full.slice(1), { stdio: ["ignore", logFd, logFd] });
  closeSync(logFd);
  child.on("exit", (code, signal) => {
    if (!cleanedUp && code !== 0 && signal === null) {
      const tail = readFileSync(logFile, "utf8").slice(-2000);
      process.stderr.write(`serve bench: ${command} exited with ${code}: ${tail}\n`);
    }
  });
  children.push(child);
  return child;
}

async function stopChildren() {
  await Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
          child.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
          // nginx stops gracefully on SIGQUIT, like our server on SIGTERM.
          child.kill(
            child.spawnfile.endsWith("nginx") || child.spawnargs.includes(nginx) ? "SIGQUIT" : "SIGTERM",
          );
        }),
    ),
  );
}

async function fetchOnce(url) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await new Promise((resolve, reject) => {
        const request = (url.startsWith("https") ? httpsRequest : httpRequest)(
          url,
          { rejectUnauthorized: false, agent: false },
          (response) => {
            const chunks = [];
            response.on("data", (chunk) => chunks.push(chunk));
            response.on("end", () =>
              response.statusCode === 200
                ? resolve(Buffer.concat(chunks))
                : reject(new Error(`${url} answered ${response.statusCode}`)),
            );
          },
        );
        request.on("error", reject);
        request.end();
      });
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${url} did not answer: ${error.message}`);
      await sleep(100);
    }
  }
}

/** A certificate for 127.0.0.1 from a CA made for the run; the bench's client checks no CA. */
function serverCertificate() {
  const { certPem, keyPem } = issueServerCertificate(createCertificateAuthority(), { hosts: ["127.0.0.1"] });
  mkdirSync(join(dir, "tls"));
  const certFile = join(dir, "tls", "tls.crt");
  const keyFile = join(dir, "tls", "tls.key");
  writeFileSync(certFile, certPem);
  writeFileSync(keyFile, keyPem, { mode: 0o644 });
  return { certFile, keyFile };
}

/** The server's processes: ours is one; nginx is its master and the workers it started. */
function serverPids(child) {
  const children = readText(`/proc/${child.pid}/task/${child.pid}/children`);
  return [child.pid, ...(children ?? "").split(/\s+/).filter(Boolean).map(Number)];
}

/** User and system CPU time of processes in clock ticks, from /proc (Linux); undefined elsewhere. */
function cpuTicks(pids) {
  if (pids.length === 0) return undefined;
  let total = 0;
  for (const pid of pids) {
    const stat = readText(`/proc/${pid}/stat`);
    if (stat === undefined) return undefined;
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    total += Number(fields[11]) + Number(fields[12]);
  }
  return total;
}

function readText(file) {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

function findExecutable(name, fallbacks) {
  for (const directory of (process.env.PATH ?? "").split(delimiter)) {
    if (directory && existsSync(join(directory, name))) return join(directory, name);
  }
  return fallbacks.find((file) => existsSync(file));
}

function availableCpus() {
  if (!taskset) return [];
  const result = spawnSync(taskset, ["-cp", String(process.pid)], { encoding: "utf8" });
  const list = /list:\s*([\d,-]+)/.exec(result.stdout)?.[1] ?? "";
  return list.split(",").flatMap((part) => {
    const [from, to] = part.split("-").map(Number);
    return to === undefined ? [from] : Array.from({ length: to - from + 1 }, (_, i) => from + i);
  });
}

function nginxVersion() {
  const result = spawnSync(nginx, ["-v"], { encoding: "utf8" });
  return /nginx\/([\d.]+)/.exec(result.stderr)?.[1] ?? "";
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
