import type { KeysArgs } from "./commands/keys.js";
import { EMPTY_KID_OPTION } from "./empty-kid-option.js";

const valueOptions = new Set(["--key", "--secret-file", "--out"]);

/**
 * Reads the everyday forms of `irsa-anywhere keys` (`--key FILE`, `--secret-file FILE`,
 * `--out FILE`, `--empty-kid`/`--no-empty-kid`) without yargs. Loading and running yargs costs a
 * cold start more than everything else `keys` does (bench/cold-start.mjs), and `keys` is the
 * command that scripts and jobs run over and over.
 *
 * It answers only where yargs would read the arguments the same way, and returns undefined for
 * anything else (another command, `--help`, an option it does not know, a missing or doubtful
 * value, a repeat), so that the caller hands them to yargs, which parses, validates and explains.
 * test/cli-entry.test.ts holds the two readings to each other.
 */
export function parsePlainKeysCommand(argv: readonly string[]): KeysArgs | undefined {
  if (argv[0] !== "keys") return undefined;
  const key: string[] = [];
  const secretFile: string[] = [];
  let out: string | undefined;
  let emptyKid: boolean | undefined;
  for (let i = 1; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === "--empty-kid" || word === "--no-empty-kid") {
      if (emptyKid !== undefined) return undefined;
      emptyKid = word === "--empty-kid";
      continue;
    }
    const equals = word.indexOf("=");
    const name = equals === -1 ? word : word.slice(0, equals);
    if (!valueOptions.has(name)) return undefined;
    const value = equals === -1 ? argv[++i] : word.slice(equals + 1);
    // "-" is standard input; any other value that starts with "-" may be an option yargs reads.
    if (value === undefined || value === "" || (value.startsWith("-") && value !== "-")) return undefined;
    if (name === "--key") key.push(value);
    else if (name === "--secret-file") secretFile.push(value);
    else if (out === undefined) out = value;
    else return undefined;
  }
  // With no key source, yargs and the command say what is missing.
  if (key.length === 0 && secretFile.length === 0) return undefined;
  return {
    key,
    "secret-file": secretFile,
    ...(out === undefined ? {} : { out }),
    namespace: "eksa-system",
    "empty-kid": emptyKid ?? EMPTY_KID_OPTION.default,
  };
}
