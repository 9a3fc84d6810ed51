// A moto server (https://github.com/getmoto/moto) on the loopback interface, so that tests run the
// real AWS SDK, with its signing, serialisation and retries, against S3, IAM and STS that keep
// state. Each test file starts its own and calls `reset()` before each test.
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { request } from "node:http";
import type { Socket } from "node:net";
import { freeLoopbackPort } from "./ports.js";

/** One request as moto's access log shows it. */
export interface MotoRequest {
  readonly method: string;
  /** Path and query, as moto logs them (werkzeug decodes percent-escapes that need none). */
  readonly path: string;
  readonly status: number;
}

export interface MotoServer {
  /** `http://127.0.0.1:<port>`, with no trailing slash: the SDK clients' `endpoint`. */
  readonly endpoint: string;
  readonly port: number;
  /**
   * The requests moto answered since it started or was last reset, oldest first, without the
   * harness's own `/moto-api/` calls. Complete for every request whose answer has arrived: moto
   * logs a request before it answers, and this waits for a marker request to pass through the log.
   */
  requests(): Promise<MotoRequest[]>;
  /** What moto has written to stdout and stderr (the last 64 KiB), for a failing test's message. */
  output(): string;
  /** Deletes every resource in every service (an empty account) and forgets the requests so far. */
  reset(): Promise<void>;
  /**
   * How a model's status moves on, through moto's state manager: `{ progression: "manual", times:
   * N }` holds it for N reads (a CloudFront distribution stays `InProgress`); `undefined` goes back
   * to moto's default, at once to the last status. Not undone by `reset()`.
   */
  setTransition(
    modelName: string,
    transition: { progression: "manual"; times: number } | { progression: "immediate" } | undefined,
  ): Promise<void>;
  /** Stops moto and waits until it has exited. Safe to call more than once. */
  stop(): Promise<void>;
}

export interface StartMotoOptions {
  /** The Python that has moto installed; default `python3`. */
  python?: string;
  /** How long moto may take to answer; default 30 s (it imports a lot on a slow machine). */
  startTimeoutMs?: number;
}

/** What an SDK client needs to talk to moto: a fixed region and fake static credentials. */
export interface AwsTestClientConfig {
  region: string;
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

const host = "127.0.0.1";
const region = "us-east-1";
const credentials = { accessKeyId: "testing", secretAccessKey: "testing" } as const;
const portAttempts = 5;
const outputLimit = 64 * 1024;

/**
 * Client configuration for IAM and STS clients that talk to moto.
 *
 * @example
 * const iam = new IAMClient(awsTestClientConfig(moto.endpoint));
 */
export function awsTestClientConfig(endpoint: string): AwsTestClientConfig {
  return { region, endpoint, credentials: { ...credentials } };
}

/**
 * Client configuration for an S3 client that talks to moto: path-style addressing, since
 * `<bucket>.127.0.0.1` names no host.
 *
 * @example
 * const s3 = new S3Client(s3TestClientConfig(moto.endpoint));
 */
export function s3TestClientConfig(endpoint: string): AwsTestClientConfig & { forcePathStyle: true } {
  return { ...awsTestClientConfig(endpoint), forcePathStyle: true };
}

/**
 * Environment variables that point a child process's AWS SDK (the CLI under test) at moto with
 * fake credentials. The SDK uses path-style addressing by itself for an IP-address endpoint.
 *
 * @example
 * await runCli(["publish", ...], { env: awsTestEnv(moto.endpoint) });
 */
export function awsTestEnv(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    // A test that lost its credentials should fail at once, not wait for an instance metadata service.
    AWS_EC2_METADATA_DISABLED: "true",
  };
}

/**
 * Starts `python -m moto.server` on a free port on 127.0.0.1 and waits until it answers. moto
 * stops when `stop()` is called, when this process exits, and when it dies without exiting.
 *
 * @example
 * let moto: MotoServer;
 * beforeAll(async () => { moto = await startMoto(); });
 * beforeEach(() => moto.reset());
 * afterAll(() => moto?.stop());
 */
export async function startMoto(options: StartMotoOptions = {}): Promise<MotoServer> {
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort();
    try {
      return await launch(port, options);
    } catch (error) {
      // Another process took the port between our probe and moto's bind: try a new one.
      if (error instanceof PortTakenError && attempt < portAttempts) continue;
      throw error;
    }
  }
}

class PortTakenError extends Error {}

// `python -m moto.server` with one addition: a thread that ends the process when its stdin reaches
// end of file. Only this process holds the other end of that pipe, so when it goes for any reason
// (a crash, a worker killed on timeout, SIGKILL) moto follows instead of holding its port forever.
// It reads the file descriptor, not sys.stdin, whose lock would hold up Python's exit for a second.
const launcher = [
  "import os, sys, threading",
  "def exit_at_eof():",
  "    while os.read(0, 4096): pass",
  "    os._exit(0)",
  "threading.Thread(target=exit_at_eof, daemon=True).start()",
  // moto 5.2.1's CloudFront drops an origin's OriginAccessControlId and S3OriginConfig, and lists
  // distributions without their configuration (comment, origins, aliases). Real CloudFront keeps
  // and lists all of it, and the publisher and doctor read it: keep it, as CloudFront does.
  "import moto.cloudfront.models as cloudfront",
  "original_origin = cloudfront.Origin.__init__",
  "def origin_keeping_access_control(self, origin):",
  "    original_origin(self, origin)",
  "    self.origin_access_control_id = origin.get('OriginAccessControlId', '')",
  "    if 'S3OriginConfig' in origin: self.s3_origin_config = origin['S3OriginConfig']",
  "cloudfront.Origin.__init__ = origin_keeping_access_control",
  "def summary_member(self, name):",
  "    if name.startswith('_') or name == 'distribution_config': raise AttributeError(name)",
  "    return getattr(self.distribution_config, name)",
  "cloudfront.Distribution.__getattr__ = summary_member",
  "from moto.server import main",
  "main(sys.argv[1:])",
].join("\n");

async function launch(port: number, options: StartMotoOptions): Promise<MotoServer> {
  const python = options.python ?? "python3";
  const endpoint = `http://${host}:${port}`;
  // Its own process group, so that `stop()` reaches anything moto starts as well.
  const child = spawn(python, ["-c", launcher, "-H", host, "-p", String(port)], {
    detached: true,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, PYTHONUNBUFFERED: "1" },
  });
  const log = new AccessLog();
  let output = "";
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      output = (output + chunk).slice(-outputLimit);
      if (stream === child.stderr) log.feed(chunk);
    });
  }
  // "close", not "exit": by then all of moto's output has been read.
  const exited = new Promise<string>((resolve) => {
    child.once("close", (code, signal) =>
      resolve(signal ? `was killed by ${signal}` : `exited with ${code}`),
    );
    child.once("error", (error) => resolve(`could not be started (${error.message})`));
  });
  // Neither moto nor its pipes keep this process alive; when it exits, moto's stdin closes.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as Partial<Socket>).unref?.();
  trackForExit(child);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      killGroup(child, "SIGTERM");
      const escalate = setTimeout(() => killGroup(child, "SIGKILL"), 5_000);
      await exited;
      clearTimeout(escalate);
      child.stdin.destroy();
      untrackForExit(child);
    })();
    return stopping;
  };

  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const polling = new AbortController();
  const failure = await Promise.race([
    waitUntilAnswering(endpoint, startTimeoutMs, polling.signal).then((answered) =>
      answered ? undefined : `did not answer within ${startTimeoutMs} ms`,
    ),
    exited,
  ]);
  polling.abort();
  if (failure !== undefined) {
    await stop();
    if (/Address already in use|is in use by another program/.test(output)) throw new PortTakenError();
    throw new Error(
      `moto (${python} -m moto.server -H ${host} -p ${port}) ${failure}; is it installed (pip install 'moto[server]')? Its output:\n${output.trim() || "(none)"}`,
    );
  }

  // Sends a marker request and resolves with its index in the log once the line is there.
  const sync = async (): Promise<number> => {
    const marker = `/moto-api/?sync=${randomUUID()}`;
    const [index] = await Promise.all([log.waitFor(marker), call(endpoint, "GET", marker)]);
    return index;
  };
  return {
    endpoint,
    port,
    async requests() {
      const end = await sync();
      return log.entries.slice(0, end).filter((entry) => !entry.path.startsWith("/moto-api/"));
    },
    output: () => output,
    async reset() {
      const answer = await call(endpoint, "POST", "/moto-api/reset");
      if (answer.status !== 200) throw new Error(`moto's reset answered ${answer.status}: ${answer.body}`);
      log.entries.splice(0, (await sync()) + 1);
    },
    async setTransition(modelName, transition) {
      const answer =
        transition === undefined
          ? await call(endpoint, "POST", "/moto-api/state-manager/unset-transition", {
              model_name: modelName,
            })
          : await call(endpoint, "POST", "/moto-api/state-manager/set-transition", {
              model_name: modelName,
              transition,
            });
      if (answer.status !== 201)
        throw new Error(`moto's state manager answered ${answer.status}: ${answer.body}`);
    },
    stop,
  };
}

/** werkzeug's access log: `127.0.0.1 - - [23/Nov/2026 09:57:26] "PUT /bucket/key?x-id=PutObject HTTP/1.1" 412 -`. */
class AccessLog {
  readonly entries: MotoRequest[] = [];
  #partial = "";
  readonly #waiting = new Map<string, () => void>();

  feed(chunk: string): void {
    const lines = (this.#partial + chunk).split("\n");
    this.#partial = lines.pop() ?? "";
    for (const line of lines) {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: werkzeug colours the lines on a terminal
      const match = /"(\S+) (.*) HTTP\/[\d.]+" (\d{3}) /.exec(line.replace(/\x1b\[[\d;]*m/g, ""));
      if (match === null) continue;
      const [, method = "", path = "", status = "0"] = match;
      this.entries.push({ method, path, status: Number(status) });
      this.#waiting.get(path)?.();
    }
  }

  /** Resolves with the index of the first entry for `path` once it is in the log. */
  waitFor(path: string, timeoutMs = 10_000): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(path);
        reject(new Error(`moto's access log did not show ${path} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(path, () => {
        clearTimeout(timer);
        this.#waiting.delete(path);
        resolve(this.entries.findIndex((entry) => entry.path === path));
      });
    });
  }
}

/** Polls moto's dashboard until it answers 200; false on timeout. */
async function waitUntilAnswering(
  endpoint: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !signal.aborted) {
    try {
      if ((await call(endpoint, "GET", "/moto-api/")).status === 200) return true;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

/** One request on a connection of its own, so that no pooled socket outlives moto. */
function call(
  endpoint: string,
  method: string,
  path: string,
  json?: unknown,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(`${endpoint}${path}`, { method, agent: false }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        body += chunk;
      });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      response.on("error", reject);
    });
    outgoing.setTimeout(5_000, () => outgoing.destroy(new Error(`${method} ${endpoint}${path} timed out`)));
    outgoing.on("error", reject);
    if (json !== undefined) outgoing.setHeader("content-type", "application/json");
    outgoing.end(json === undefined ? undefined : JSON.stringify(json));
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

// Moto servers still running, killed when this process exits without stopping them.
const running = new Set<ChildProcess>();
const killAllOnExit = () => {
  for (const child of running) killGroup(child, "SIGKILL");
};

function trackForExit(child: ChildProcess): void {
  if (running.size === 0) process.on("exit", killAllOnExit);
  running.add(child);
}

function untrackForExit(child: ChildProcess): void {
  running.delete(child);
  if (running.size === 0) process.off("exit", killAllOnExit);
}
