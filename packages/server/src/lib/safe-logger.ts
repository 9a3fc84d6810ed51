import type { ServerLogger } from "../server-log.js";

/** @internal The caller's logger, made unable to throw: a failing logger must not take a request or the server down with it. */
export function safeLogger(log: ServerLogger | undefined): ServerLogger | undefined {
  if (!log) return undefined;
  return (entry) => {
    try {
      log(entry);
    } catch {
      // Dropped: the entry has nowhere else to go.
    }
  };
}
