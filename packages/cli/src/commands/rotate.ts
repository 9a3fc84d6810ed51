import { INPUT_LIMITS, readInput } from "@irsa-anywhere/errors";
import { publicKeysFromPem } from "@irsa-anywhere/keys";
import {
  confirmRotation,
  prepareRotation,
  pruneRotation,
  type RotationReport,
  rotationStatus,
  withdrawRotation,
} from "@irsa-anywhere/publisher";
import { readKeys } from "../key-sources.js";
import { type LogFormat, logEvent } from "../log.js";
import { type PublishTargetArgs, publishOptionsFromArgs } from "../publish-options.js";
import { UsageError } from "../usage-error.js";
import { reportPublish } from "./publish.js";

export type RotatePhase = "status" | "prepare" | "confirm" | "prune" | "withdraw";

export interface RotateArgs extends PublishTargetArgs {
  phase: RotatePhase;
  "next-key"?: string | undefined;
  json: boolean;
  "log-format": LogFormat;
}

export async function runRotate(args: RotateArgs): Promise<void> {
  if (args.phase === "prepare" && args["next-key"] === undefined) {
    throw new UsageError(
      "rotate prepare needs the next key: --next-key FILE (make one with irsa-anywhere keygen)",
    );
  }
  const options = { ...(await publishOptionsFromArgs(args, [])), keys: await readKeys(args) };
  let report: RotationReport;
  switch (args.phase) {
    case "prepare": {
      const file = args["next-key"] as string;
      const text = await readInput(file, { maxBytes: INPUT_LIMITS.pem, what: "--next-key" });
      report = await prepareRotation({ ...options, nextKeys: publicKeysFromPem(text, file) });
      break;
    }
    case "confirm":
      report = await confirmRotation(options);
      break;
    case "prune":
      report = await pruneRotation(options);
      break;
    case "status":
      report = await rotationStatus(options);
      break;
    case "withdraw":
      report = await withdrawRotation(options);
      break;
  }
  const format = args["log-format"];
  logEvent(format, {
    action: `rotate-${args.phase}`,
    stage: report.stage,
    message: report.summary,
    next: report.next,
  });
  if (args.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  if (args.phase !== "status") reportPublish(report.publish, { json: false, "log-format": format });
  if (format === "text")
    process.stdout.write(
      `${args.phase === "status" ? "" : "\n"}rotation: ${report.stage}: ${report.summary}\nnext: ${report.next}\n`,
    );
}
