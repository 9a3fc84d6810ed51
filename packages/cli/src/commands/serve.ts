import { hasKeySource, type PublicSigningKey, readKeySources, splitKeySources } from "@irsa-anywhere/keys";
import { watchClusterSecret } from "@irsa-anywhere/kube";
import type { DocumentSource, IssuerServer, ServerLogEntry } from "@irsa-anywhere/server";
import { withExitCodes } from "../command-help.js";
import { defineCommand } from "../command-module.js";
import { EMPTY_KID_OPTION } from "../empty-kid-option.js";
import { issuerOption } from "../issuer-option.js";
import { checkStdinOnce, type KeySourceArgs, keySourceOptions, keySourceSpec } from "../key-sources.js";
import { UsageError } from "../usage-error.js";

export interface ServeArgs extends KeySourceArgs {
  issuer: string;
  dir?: string | undefined;
  listen?: string | undefined;
  "tls-cert"?: string | undefined;
  "tls-key"?: string | undefined;
  "plain-http": boolean;
  /** A duration (`30s`, `5m`, `1h30m`) or a bare number of seconds. */
  "refresh-interval": string | number;
  "shutdown-timeout": string | number;
  "empty-kid": boolean;
}

export const serveCommand = defineCommand({
  command: "serve",
  describe: "Serve the discovery document and keys.json as the issuer itself, over HTTPS, until SIGTERM",
  builder: (y) =>
    withExitCodes(keySourceOptions(y))
      .option("empty-kid", EMPTY_KID_OPTION)
      .option(
        "issuer",
        issuerOption(
          "Issuer URL, https:// with no trailing slash; its path is where the documents are served",
          "Serving:",
        ),
      )
      .option("dir", {
        type: "string",
        requiresArg: true,
        describe:
          "Serve what publish --out-dir wrote here, re-read when it changes; with a key source, keep the documents here so earlier keys survive restarts",
        group: "Serving:",
      })
      .option("listen", {
        type: "string",
        requiresArg: true,
        describe: "HOST:PORT, [IPv6]:PORT or :PORT (default :8443 with TLS, 127.0.0.1:8080 without)",
        group: "Serving:",
      })
      .option("tls-cert", {
        type: "string",
        requiresArg: true,
        describe: "Certificate (chain) PEM file; reloaded when it changes",
        group: "Serving:",
      })
      .option("tls-key", {
        type: "string",
        requiresArg: true,
        describe: "Private key PEM file of the certificate",
        group: "Serving:",
      })
      .option("plain-http", {
        type: "boolean",
        default: false,
        describe:
          "Allow plain HTTP on a non-loopback address, when a proxy or ingress in front terminates TLS",
        group: "Serving:",
      })
      .option("refresh-interval", {
        type: "string",
        default: "30s",
        requiresArg: true,
        describe:
          "How often the cluster's secret is read again (a rotated key is picked up): 30s, 5m, 1h30m; a bare number is seconds",
        group: "Serving:",
      })
      .option("shutdown-timeout", {
        type: "string",
        default: "10s",
        requiresArg: true,
        describe:
          "How long requests in flight get to finish after SIGTERM: 10s, 1m; a bare number is seconds",
        group: "Serving:",
      })
      .example(
        "$0 serve --cluster prod --issuer https://oidc.example.com/prod --tls-cert tls.crt --tls-key tls.key",
        "HTTPS on :8443; the prod-sa secret is read again every 30 s",
      )
      .example(
        "$0 serve --dir site --issuer https://oidc.example.com/prod --listen :8080 --plain-http",
        "What publish --out-dir site wrote, behind an ingress that terminates TLS",
      )
      .example(
        "$0 serve --key sa.pub --issuer https://oidc.example.com/prod",
        "Try it: http://127.0.0.1:8080/prod/keys.json",
      ),
  handler: (args) => runServe(args),
});

/** The server and the publisher, loaded by serve alone: the other commands never pay for them. */
async function serveLibraries() {
  const [publisher, server] = await Promise.all([
    import("@irsa-anywhere/publisher"),
    import("@irsa-anywhere/server"),
  ]);
  return { ...publisher, ...server };
}

/** Files are checked at least this often in case a file-system notification was missed. */
const MAX_FILE_POLL_MS = 10_000;

/**
 * Serves the issuer until SIGTERM or SIGINT, then shuts down gracefully and returns. Every log
 * line, requests included, is one JSON object on stderr; stdout stays empty.
 */
export async function runServe(args: ServeArgs): Promise<void> {
  const hasKeys = hasKeySource(keySourceSpec(args));
  if (!hasKeys && args.dir === undefined) {
    throw new UsageError(
      "say where the documents come from: a key source (--key, --secret-file, --cluster, --cluster-jwks) or --dir DIR that publish --out-dir wrote",
    );
  }
  const { parseDuration, parseListenAddress, serverLogLine, startIssuerServer } = await serveLibraries();
  const writeLogLine = logLineWriter(serverLogLine);
  const tls = tlsFiles(args);
  const refreshMs = durationMs(parseDuration, args["refresh-interval"], "--refresh-interval", {
    zero: false,
  });
  const shutdownMs = durationMs(parseDuration, args["shutdown-timeout"], "--shutdown-timeout", {
    zero: true,
  });
  const listenText = args.listen ?? (tls ? ":8443" : "127.0.0.1:8080");
  const listen = parseListenAddress(listenText);
  // Listen for the signals before the server starts: one that arrives while it starts (or right
  // after it logs that it listens) must stop it gracefully, not kill the process.
  const stop = stopSignal();
  let starting: Promise<IssuerServer>;
  try {
    starting = startIssuerServer({
      issuer: args.issuer,
      source: await documentSource(args, hasKeys, writeLogLine),
      listen,
      ...(tls ? { tls } : {}),
      allowPlainHttp: args["plain-http"],
      // Only the cluster can change under us; key files are read once.
      refreshIntervalMs: args.cluster === undefined && !args["cluster-jwks"] ? 0 : refreshMs,
      filePollIntervalMs: Math.min(refreshMs, MAX_FILE_POLL_MS),
      shutdownTimeoutMs: shutdownMs,
      log: writeLogLine,
    });
  } catch (error) {
    stop.cancel();
    throw await inFlagTerms(error, listenText);
  }
  // A signal while it starts (an API server that does not answer can hold the start for 30 s)
  // must not wait for the start: nothing is served yet, so nothing needs draining, and the pod's
  // grace period would run out first. End as the signal's default action would.
  const first = await Promise.race([
    starting.then(
      (server) => ({ server }),
      (error: unknown) => ({ error }),
    ),
    stop.received.then((signal) => ({ signal })),
  ]);
  if ("signal" in first) {
    writeLogLine({ level: "info", event: "signal", signal: first.signal });
    logLines.flush();
    process.kill(process.pid, first.signal);
    return;
  }
  if ("error" in first) {
    stop.cancel();
    logLines.flush();
    throw await inFlagTerms(first.error, listenText);
  }
  const running = first.server;
  const signal = await stop.received;
  writeLogLine({ level: "info", event: "signal", signal });
  try {
    await running.close();
  } finally {
    logLines.flush();
  }
}

/** The first SIGTERM or SIGINT. A second one gets Node's default and ends the process at once. */
function stopSignal(): { received: Promise<NodeJS.Signals>; cancel(): void } {
  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  const cancel = () => {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  };
  const received = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = (signal) => {
      cancel();
      resolve(signal);
    };
  });
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  return { received, cancel };
}

function tlsFiles(args: ServeArgs): { certFile: string; keyFile: string } | undefined {
  const certFile = args["tls-cert"];
  const keyFile = args["tls-key"];
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together: give both, or neither for plain HTTP");
  }
  return certFile === undefined || keyFile === undefined ? undefined : { certFile, keyFile };
}

/** Node's timers hold at most 2^31 - 1 ms; a longer delay silently becomes 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A duration flag in milliseconds: `30s`, `5m`, `1h30m`, or a bare number of seconds as before. */
function durationMs(
  parseDuration: (text: string) => number,
  value: string | number,
  flag: string,
  allow: { zero: boolean },
): number {
  let ms: number;
  try {
    ms = parseDuration(String(value));
  } catch {
    ms = Number.NaN;
  }
  if (!Number.isFinite(ms) || ms < 0 || (!allow.zero && ms === 0) || ms > MAX_TIMER_MS) {
    throw new UsageError(
      `${flag} takes a duration ${allow.zero ? "from 0" : "above 0"} up to 24d20h31m23s (Node's longest timer), like 30s, 5m or 1h30m; a bare number is seconds; got ${JSON.stringify(String(value))}`,
    );
  }
  return ms;
}

/** The library names what it needs; the user needs to hear which flags give it. */
async function inFlagTerms(error: unknown, listen: string): Promise<unknown> {
  const { ServeError } = await serveLibraries();
  if (error instanceof ServeError && error.code === "ERR_PLAIN_HTTP_REFUSED") {
    return new UsageError(
      `refusing plain HTTP on ${listen}, which other machines can reach: give --tls-cert FILE and --tls-key FILE, or --plain-http when a proxy or ingress in front terminates TLS`,
    );
  }
  return error;
}

/**
 * Key sources: the cluster (its secret, or its API server's JWKS) is read again on every refresh;
 * key and secret files (and stdin) are read once, here, and kept. Together they keep the order of
 * `readKeySources`: cluster sources first, then secret files, then key files.
 */
async function documentSource(
  args: ServeArgs,
  hasKeys: boolean,
  writeLogLine: (entry: CliLogEntry) => void,
): Promise<DocumentSource> {
  if (!hasKeys && args.dir !== undefined) return { kind: "directory", directory: args.dir };
  const spec = keySourceSpec(args);
  checkStdinOnce(spec);
  const { files, cluster: clusterSources } = splitKeySources(spec);
  const fileKeys = hasKeySource(files) ? (await readKeySources(files)).keys : [];
  const readKeys = async (): Promise<PublicSigningKey[]> =>
    hasKeySource(clusterSources) ? [...(await readKeySources(clusterSources)).keys, ...fileKeys] : fileKeys;
  const { directoryTarget } = await serveLibraries();
  const store = args.dir === undefined ? undefined : directoryTarget(args.dir);
  const { cluster } = args;
  // The secret is watched, so a rotated key is served at once; the refresh still polls, in case a
  // watch is refused (no "watch" permission) or silently lost.
  const watch =
    cluster === undefined
      ? undefined
      : (onChange: () => void) =>
          watchClusterSecret(
            {
              namespace: args.namespace,
              name: `${cluster}-sa`,
              kubeconfig: args.kubeconfig,
              context: args.context,
            },
            onChange,
            (error) => writeLogLine({ level: "warn", event: "secret-watch-failed", error }),
          );
  return {
    kind: "keys",
    readKeys,
    emptyKidTwin: args["empty-kid"],
    ...(store ? { store } : {}),
    ...(watch ? { watch } : {}),
  };
}

type CliLogEntry =
  | ServerLogEntry
  | { level: "info"; event: "signal"; signal: NodeJS.Signals }
  | { level: "warn"; event: "secret-watch-failed"; error: string };

/**
 * Log lines go to stderr. Request lines are gathered and written together at least every
 * `FLUSH_MS`: one write per request would cost a system call each, a third of the throughput.
 * Every other line is written at once, after the request lines before it, so order is kept.
 */
const FLUSH_MS = 100;
const FLUSH_BYTES = 64 * 1024;

class LogLines {
  private pending = "";
  private timer: NodeJS.Timeout | undefined;

  write(line: string, urgent: boolean): void {
    this.pending += line;
    if (urgent || this.pending.length >= FLUSH_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending === "") return;
    process.stderr.write(this.pending);
    this.pending = "";
  }
}

const logLines = new LogLines();

/** Writes the server's log lines and the CLI's own, in the server's format. */
function logLineWriter(serverLogLine: (entry: ServerLogEntry) => string): (entry: CliLogEntry) => void {
  return (entry) => {
    if (entry.event === "signal" || entry.event === "secret-watch-failed") {
      logLines.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`, true);
    } else {
      logLines.write(serverLogLine(entry), entry.event !== "request");
    }
  };
}
