/** `text` for people at a terminal; `json` for a job's log collector: one object per line. */
export type LogFormat = "text" | "json";

/** --log-format, an option of every command. */
export const LOG_FORMAT_OPTION = {
  choices: ["text", "json"] as const,
  default: "text" as const,
  global: true,
  describe: "text for people; json: one JSON line per action on stderr, for a job's logs",
};

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
