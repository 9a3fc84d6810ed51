// The full command line: the options every command takes, the checks every command line gets,
// and the commands, each declared with its handler in commands/.
import yargs, { type Argv } from "yargs";
import { hideBin } from "yargs/helpers";
import { refuseBooleanWords, refuseRepeatedOptions } from "./argument-checks.js";
import { quietSdkNodeNotice } from "./aws-options.js";
import { EXIT_CODES_EPILOGUE } from "./command-help.js";
import type { GlobalArgs } from "./command-module.js";
import { discoveryCommand } from "./commands/discovery.js";
import { doctorCommand } from "./commands/doctor.js";
import { initCommand } from "./commands/init.js";
import { keygenCommand } from "./commands/keygen.js";
import { keysCommand } from "./commands/keys.js";
import { publishCommand } from "./commands/publish.js";
import { roleCommand, roleSubcommands } from "./commands/role.js";
import { rotateCommand, rotatePhaseCommands } from "./commands/rotate.js";
import { serveCommand } from "./commands/serve.js";
import { trustPolicyCommand } from "./commands/trust-policy.js";
import { upCommand } from "./commands/up.js";
import { webhookCommand, webhookSubcommands } from "./commands/webhook.js";
import { applyTimeout, TIMEOUT_OPTION } from "./deadline.js";
import { reportError, reportFailuresAsJson } from "./failure.js";
import { LOG_FORMAT_OPTION } from "./log.js";
import { rememberCommands, usageFailure } from "./usage-failure.js";

quietSdkNodeNotice();

/** Set by the bundler (scripts/bundle-cli.mjs) from packages/cli/package.json. */
declare const IRSA_ANYWHERE_VERSION: string;
const version = IRSA_ANYWHERE_VERSION;

function report(error: unknown): never {
  // yargs throws its own validation errors from the async parse path instead of calling fail().
  if (error instanceof Error && error.name === "YError") usageFailure(error.message);
  reportError(error);
}

const cli: Argv<GlobalArgs> = yargs(hideBin(process.argv))
  .scriptName("irsa-anywhere")
  .option("log-format", LOG_FORMAT_OPTION)
  .middleware((args) => {
    if (args["log-format"] === "json") reportFailuresAsJson();
  }, true)
  .option("timeout", TIMEOUT_OPTION)
  .middleware(refuseRepeatedOptions as never, true)
  .middleware(refuseBooleanWords as never, true)
  .middleware(applyTimeout as never)
  .usage("$0 <command> [options]\n\nIAM Roles for Service Accounts on clusters that AWS does not host.")
  // In the order the help lists them.
  .command(initCommand)
  .command(upCommand)
  .command(keysCommand)
  .command(discoveryCommand)
  .command(publishCommand)
  .command(doctorCommand)
  .command(trustPolicyCommand)
  .command(roleCommand)
  .command(serveCommand)
  .command(keygenCommand)
  .command(rotateCommand)
  .command(webhookCommand)
  .demandCommand(1, "say which command to run")
  .recommendCommands()
  .strict()
  .version(version)
  // Every message of ours is English; so are yargs's own words around them, whatever LANG says.
  .locale("en")
  .alias("h", "help")
  .epilogue(EXIT_CODES_EPILOGUE)
  .wrap(null)
  .fail((message, error) => {
    if (error) report(error);
    usageFailure(message ?? "bad usage");
  });

// What a usage message points at: each command's help page, and each rotate phase's. The names
// come from yargs's own registry, taken before parsing enters a command.
const registered = (
  cli as unknown as { getInternalMethods(): { getCommandInstance(): { getCommands(): string[] } } }
)
  .getInternalMethods()
  .getCommandInstance()
  .getCommands();
rememberCommands(
  new Map(
    registered.map((name) => [
      name,
      name === rotateCommand.command
        ? rotatePhaseCommands.map((phase) => phase.command)
        : name === roleCommand.command
          ? roleSubcommands.map((command) => command.command)
          : name === webhookCommand.command
            ? webhookSubcommands.map((subcommand) => subcommand.command)
            : [],
    ]),
  ),
);

// No top-level await: the standalone file (scripts/bundle-cli.mjs) bundles this module into
// CommonJS, which has none.
cli.parseAsync().catch(report);
