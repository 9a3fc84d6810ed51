/** `text` for people at a terminal; `json` for a job's log collector: one object per line. */
export type LogFormat = "text" | "json";

/**
 * The CLI's account of what it did, on stderr. In JSON, one line per action, so that a
 * scheduled job's log can be searched and alerted on (`action`, `outcome`, the names involved).
 */
export function logEvent(
  format: LogFormat,
  event: { action: string; message: string; [field: string]: unknown },
): void {
  if (format === "json") {
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: "info", ...event })}\n`);
  }
}
