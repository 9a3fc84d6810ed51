import { hideBin } from "yargs/helpers";
import { usageFailure } from "./usage-failure.js";

/**
 * yargs gathers a repeated option into an array. Only options declared with `nargs: 1` (`--key`,
 * `--service-account`, ...) are meant to repeat; for any other, two values are a mistake to name,
 * not an array to pass on to code that expects one.
 */
export function refuseRepeatedOptions(args: Record<string, unknown>, parser: unknown): void {
  const { narg } = (parser as { getOptions(): { narg: Record<string, number> } }).getOptions();
  for (const [name, value] of Object.entries(args)) {
    // "_" and "--" hold words, not options; camelCase names are yargs's aliases of the kebab-case
    // ones. `requiresArg` options are in narg too, as NaN: yargs's own marker, not a repeat.
    if (name === "_" || name === "--" || /[A-Z]/.test(name) || !Array.isArray(value) || narg[name] === 1) {
      continue;
    }
    usageFailure(`--${name} was given ${value.length} times; give it once`);
  }
}

/** yargs reads `--flag=yes` (or any word) on a boolean as false, silently: a mistake to name. */
export function refuseBooleanWords(_args: unknown, parser: unknown): void {
  const booleans = new Set((parser as { getOptions(): { boolean: string[] } }).getOptions().boolean);
  for (const word of hideBin(process.argv)) {
    const match = /^--(?:no-)?([^=]+)=(.*)$/.exec(word);
    if (match && booleans.has(match[1] as string) && match[2] !== "true" && match[2] !== "false") {
      usageFailure(`--${match[1]} is a switch: give it alone, or =true or =false, not "${match[2]}"`);
    }
  }
}
