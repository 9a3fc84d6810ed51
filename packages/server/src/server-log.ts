/**
 * What the server reports, one object per event, for the caller to log (the CLI writes each as
 * a JSON line on stderr). The library itself never writes to the console.
 */
export type ServerLogEntry =
  | {
      level: "info";
      event: "listening";
      url: string;
      issuer: string;
      /** The two document paths served. */
      paths: string[];
      tls: boolean;
    }
  | {
      level: "info";
      event: "documents-updated";
      /** Every kid served, in order, without the empty-kid twin. */
      kids: string[];
      /** With a key source: the kid signing now, and what this update added or kept. */
      current?: string;
      added?: string[];
      retained?: string[];
      etag: string;
    }
  | { level: "warn"; event: "documents-reload-failed"; error: string; code?: string }
  | { level: "info"; event: "tls-reloaded" }
  | { level: "warn"; event: "tls-reload-failed"; error: string; code?: string }
  | {
      level: "info";
      event: "request";
      method: string;
      /** The request target as received, cut at 512 characters. */
      path: string;
      status: number;
      /** Body bytes sent (0 for HEAD and 304). */
      bytes: number;
      remoteAddress: string | undefined;
      forwardedFor?: string;
      userAgent?: string;
    }
  | {
      level: "info";
      /** A request that could not be parsed or came too slowly: answered and the connection closed. */
      event: "client-error";
      status: number;
      code: string;
      remoteAddress: string | undefined;
    }
  | { level: "info"; event: "tls-client-error"; code: string; remoteAddress: string | undefined }
  | { level: "error"; event: "server-error"; error: string; code?: string }
  | { level: "info"; event: "shutdown-started"; openConnections: number }
  | { level: "info"; event: "shutdown-complete"; forcedConnections: number };

/** A function that receives the server's log entries. */
export type ServerLogger = (entry: ServerLogEntry) => void;
