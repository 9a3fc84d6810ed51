import { type RequestInFlight, trackRequest } from "@irsa-anywhere/errors";

/** How long an AWS request may wait for a connection, then for its answer, unless told otherwise. */
export const AWS_CONNECT_TIMEOUT_MS = 10_000;
/** How long an AWS request may wait for its answer unless `requestTimeoutMs` says otherwise. */
export const AWS_REQUEST_TIMEOUT_MS = 30_000;

/** How the AWS clients this project makes are set up; shared by publish, rotate, doctor and trust-policy. */
export interface AwsClientSettings {
  /** A profile of the shared config and credentials files; default `AWS_PROFILE`, else `default`. */
  profile?: string | undefined;
  /** The most one request may wait for its answer; default `AWS_REQUEST_TIMEOUT_MS`. */
  requestTimeoutMs?: number | undefined;
}

/** What a request was doing, kept on its error and while it waits. */
export interface AwsRequestInFlight extends RequestInFlight {
  /** The request timeout it was given. */
  timeoutMs: number;
  connectTimeoutMs: number;
}

interface MiddlewareClient {
  middlewareStack: { add(middleware: unknown, options: Record<string, unknown>): void };
}

/**
 * The constructor options every AWS client of this project takes: a connect and a request
 * timeout (a request never answered would otherwise wait for ever), and the profile.
 *
 * @example
 * const region = "us-west-2";
 * const client = watchAwsRequests(new S3Client({ region, ...awsClientConfig({ profile: "prod" }) }), "S3", {});
 */
export function awsClientConfig(settings: AwsClientSettings) {
  const requestTimeout = settings.requestTimeoutMs ?? AWS_REQUEST_TIMEOUT_MS;
  return {
    requestHandler: {
      connectionTimeout: Math.min(AWS_CONNECT_TIMEOUT_MS, requestTimeout),
      requestTimeout,
      // Without it the SDK only logs that the timeout passed, and goes on waiting.
      throwOnRequestTimeout: true,
    },
    ...(settings.profile === undefined ? {} : { profile: settings.profile }),
  };
}

/**
 * A client made the one way this project makes AWS clients: `options` (region, attempts, an
 * endpoint of its own), the
 * timeouts and profile of {@link awsClientConfig}, and every request watched by
 * {@link watchAwsRequests}.
 *
 * @example
 * const s3 = makeAwsClient(S3Client, "S3", { region: "us-west-2", maxAttempts: 5 }, { profile: "prod" });
 */
export function makeAwsClient<T extends MiddlewareClient>(
  Client: new (config: Record<string, unknown>) => T,
  service: string,
  options: { region?: string | undefined; maxAttempts: number; endpoint?: string; forcePathStyle?: boolean },
  settings: AwsClientSettings = {},
): T {
  const { region, ...rest } = options;
  const config = { ...(region === undefined ? {} : { region }), ...rest, ...awsClientConfig(settings) };
  return watchAwsRequests(new Client(config), service, settings);
}

/**
 * Records each request of `client` while it waits, and on its error, so that a timeout can name
 * the endpoint and the operation that did not answer.
 *
 * @example
 * const s3 = watchAwsRequests(new S3Client({ region: "us-west-2", ...awsClientConfig({}) }), "S3", {});
 */
export function watchAwsRequests<T extends MiddlewareClient>(
  client: T,
  service: string,
  settings: AwsClientSettings,
): T {
  const timeoutMs = settings.requestTimeoutMs ?? AWS_REQUEST_TIMEOUT_MS;
  const connectTimeoutMs = Math.min(AWS_CONNECT_TIMEOUT_MS, timeoutMs);
  client.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
      async (args: { request?: { protocol?: string; hostname?: string; port?: number } }) => {
        const request = args.request;
        const record: AwsRequestInFlight = {
          service,
          endpoint: request?.hostname
            ? `${request.protocol ?? "https:"}//${request.hostname}${request.port ? `:${request.port}` : ""}`
            : "(unknown endpoint)",
          operation: (context.commandName ?? "a request").replace(/Command$/, ""),
          timeoutMs,
          connectTimeoutMs,
        };
        try {
          return await trackRequest(record, next(args));
        } catch (error) {
          if (typeof error === "object" && error !== null) {
            Object.defineProperty(error, "$irsaRequest", { value: record, configurable: true });
          }
          throw error;
        }
      },
    { step: "deserialize", name: "irsaAnywhereWatchRequests", override: true },
  );
  return client;
}

/**
 * One line for a request that got no answer in time, naming the service, its endpoint and the
 * operation; undefined for any other failure.
 */
export function noAnswerMessage(error: unknown): string | undefined {
  const e = (typeof error === "object" && error !== null ? error : {}) as {
    name?: string;
    code?: string;
    message?: string;
    $irsaRequest?: AwsRequestInFlight;
  };
  const request = e.$irsaRequest;
  if (request === undefined || !(e.name === "TimeoutError" || e.code === "ETIMEDOUT")) return undefined;
  return describeWait(request, /without establishing a connection/i.test(e.message ?? ""));
}

/** @internal */
export function describeWait(request: AwsRequestInFlight, connecting: boolean): string {
  return connecting
    ? `${request.service} at ${request.endpoint} did not accept a connection for ${request.operation} within ${formatDuration(request.connectTimeoutMs)}`
    : `${request.service} at ${request.endpoint} did not answer ${request.operation} within ${formatDuration(request.timeoutMs)}`;
}

/** "30s", "1.5s", "5m", "250ms". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 100) / 10}s`;
}
