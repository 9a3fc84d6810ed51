// A moto server (https://github.com/getmoto/moto) on a free loopback port, for the benches: the
// few parts of test/support/moto.ts that a plain Node script needs (that file is TypeScript).
import { spawn } from "node:child_process";
import { request } from "node:http";
import { createServer } from "node:net";

const host = "127.0.0.1";

// `python -m moto.server`, plus a thread that ends moto when its stdin reaches end of file. Only
// this process holds the other end of that pipe, so when the bench dies in any way (an error,
// Ctrl-C, SIGKILL) moto goes with it instead of holding its port.
const launcher = [
  "import os, sys, threading",
  "def exit_at_eof():",
  "    while os.read(0, 4096): pass",
  "    os._exit(0)",
  "threading.Thread(target=exit_at_eof, daemon=True).start()",
  "from moto.server import main",
  "main(sys.argv[1:])",
].join("\n");

/**
 * Starts moto and waits until it answers. Returns `{ endpoint, reset(), stop() }`: `reset()`
 * empties every service, `stop()` ends moto and waits for it (safe to call more than once).
 */
export async function startMoto({ python = "python3", startTimeoutMs = 30_000 } = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(await freeLoopbackPort(), python, startTimeoutMs);
    } catch (error) {
      // Something else took the port between our probe and moto's bind: try another one.
      if (error.portTaken && attempt < 5) continue;
      throw error;
    }
  }
}

async function launch(port, python, startTimeoutMs) {
  const endpoint = `http://${host}:${port}`;
  // A process group of its own, so that stop() reaches whatever moto starts too.
  const child = spawn(python, ["-c", launcher, "-H", host, "-p", String(port)], {
    detached: true,
    stdio: ["pipe", "ignore", "pipe"],
  });
  let output = "";
  child.stderr.setEncoding("utf8");
  // moto logs every request to stderr; keep only the tail, for an error message.
  child.stderr.on("data", (chunk) => {
    output = (output + chunk).slice(-16_384);
  });
  const exited = new Promise((resolve) => {
    child.once("close", (code, signal) =>
      resolve(signal ? `was killed by ${signal}` : `exited with ${code}`),
    );
    child.once("error", (error) => resolve(`could not be started (${error.message})`));
  });
  // moto does not keep the bench alive; when the bench exits, moto's stdin closes.
  child.unref();
  for (const stream of [child.stdin, child.stderr]) stream.unref?.();

  let stopping;
  const stop = () => {
    stopping ??= (async () => {
      signalGroup(child, "SIGTERM");
      const escalate = setTimeout(() => signalGroup(child, "SIGKILL"), 5_000);
      await exited;
      clearTimeout(escalate);
      child.stdin.destroy();
    })();
    return stopping;
  };

  const polling = new AbortController();
  const failure = await Promise.race([
    waitUntilAnswering(endpoint, startTimeoutMs, polling.signal).then((ok) =>
      ok ? undefined : `did not answer within ${startTimeoutMs} ms`,
    ),
    exited,
  ]);
  polling.abort();
  if (failure !== undefined) {
    await stop();
    const error = new Error(
      `moto (${python} -m moto.server -p ${port}) ${failure}; is it installed (pip install 'moto[server]')?\n${output.trim()}`,
    );
    error.portTaken = /Address already in use|is in use by another program/.test(output);
    throw error;
  }

  return {
    endpoint,
    async reset() {
      const answer = await call(endpoint, "POST", "/moto-api/reset");
      if (answer.status !== 200) throw new Error(`moto's reset answered ${answer.status}`);
    },
    stop,
  };
}

function signalGroup(child, signal) {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

async function waitUntilAnswering(endpoint, timeoutMs, signal) {
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

/** One request on a connection of its own (no pooled socket outlives moto); the body is dropped. */
function call(endpoint, method, path) {
  return new Promise((resolve, reject) => {
    const outgoing = request(`${endpoint}${path}`, { method, agent: false }, (response) => {
      response.resume();
      response.on("end", () => resolve({ status: response.statusCode ?? 0 }));
      response.on("error", reject);
    });
    outgoing.setTimeout(5_000, () => outgoing.destroy(new Error(`${method} ${endpoint}${path} timed out`)));
    outgoing.on("error", reject);
    outgoing.end();
  });
}

/** A port on 127.0.0.1 that was free a moment ago. */
async function freeLoopbackPort() {
  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}
