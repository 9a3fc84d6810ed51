import { INPUT_LIMITS, readInput } from "@irsa-anywhere/errors";
import { publicKeysFromPem } from "@irsa-anywhere/keys";
import type { RotationReport } from "@irsa-anywhere/publisher";
import { withExitCodes } from "../command-help.js";
import { defineCommand } from "../command-module.js";
import { jsonOptions } from "../json-output.js";
import { keySourceOptions, readKeys } from "../key-sources.js";
import { type LogFormat, logEvent } from "../log.js";
import { type PublishTargetArgs, publishOptionsFromArgs, publishTargetOptions } from "../publish-options.js";
import { reportPublish } from "../publish-run.js";
import { UsageError } from "../usage-error.js";

export type RotatePhase = "status" | "prepare" | "confirm" | "prune" | "withdraw";

/** A phase of `rotate`: a command of its own with its own help, under `rotate`. */
function rotatePhaseCommand(phase: RotatePhase, describe: string, example: string, exampleNote: string) {
  return defineCommand({
    command: phase,
    describe,
    builder: (y) => {
      const options = jsonOptions(
        publishTargetOptions(withExitCodes(keySourceOptions(y))),
        "Print the phase's report as one JSON object",
      );
      const withNextKey =
        phase === "prepare"
          ? options.option("next-key", {
              type: "string",
              requiresArg: true,
              describe: "The next key (public or private PEM), from irsa-anywhere keygen",
            })
          : options;
      return withNextKey.example(`$0 rotate ${phase} ${example}`, exampleNote);
    },
    handler: (args) => runRotate({ ...args, phase }),
  });
}

/** The phases, in the order the help lists them. */
export const rotatePhaseCommands = [
  rotatePhaseCommand(
    "status",
    "Say where the rotation is, and what to do next",
    "--cluster prod --bucket my-oidc --prefix prod",
    "Where am I?",
  ),
  rotatePhaseCommand(
    "prepare",
    "Phase 1: publish the next key ahead of the API server signing with it",
    "--cluster prod --next-key next/sa.pub --bucket my-oidc --prefix prod",
    "Then wait 5 minutes and switch the API server",
  ),
  rotatePhaseCommand(
    "confirm",
    "Phase 2: check that the cluster signs with the prepared key",
    "--cluster prod --bucket my-oidc --prefix prod",
    "After switching the API server",
  ),
  rotatePhaseCommand(
    "prune",
    "Phase 3: remove old keys whose retention has passed",
    "--cluster prod --bucket my-oidc --prefix prod",
    "A day after the old key left the API server",
  ),
  rotatePhaseCommand(
    "withdraw",
    "Give up a prepared rotation (its key retires)",
    "--cluster prod --bucket my-oidc --prefix prod",
    "The prepared key will not be used",
  ),
];

export const rotateCommand = defineCommand({
  command: "rotate",
  describe: "Rotate the signing key in three phases, safely: prepare, confirm, prune (and status)",
  builder: (y) => {
    let rotate = withExitCodes(y);
    for (const phase of rotatePhaseCommands) rotate = rotate.command(phase);
    return rotate
      .demandCommand(1, "say which phase: status, prepare, confirm, prune or withdraw")
      .example(
        "$0 rotate prepare --cluster prod --next-key next/sa.pub --bucket my-oidc --prefix prod",
        "Phase 1",
      )
      .example(
        "$0 rotate confirm --cluster prod --bucket my-oidc --prefix prod",
        "Phase 2, after switching the API server",
      )
      .example("$0 rotate prune --cluster prod --bucket my-oidc --prefix prod", "Phase 3, a day later");
  },
  // Never runs: demandCommand refuses `rotate` without a phase before any handler.
  handler: () => {},
});

export interface RotateArgs extends PublishTargetArgs {
  phase: RotatePhase;
  "next-key"?: string | undefined;
  json: boolean;
  "log-format": LogFormat;
}

export async function runRotate(args: RotateArgs): Promise<void> {
  // Loaded here, so that the other commands never pay for it (nor for the AWS SDK it loads).
  const { confirmRotation, prepareRotation, pruneRotation, rotationStatus, withdrawRotation } = await import(
    "@irsa-anywhere/publisher"
  );
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
