import type { DiscoveryArgs } from "./commands/discovery.js";
import type { KeysArgs } from "./commands/keys.js";
import { EMPTY_KID_OPTION } from "./empty-kid-option.js";
import type { BucketPublishArgs } from "./publish-bucket.js";
import type { DirectoryPublishArgs } from "./publish-directory.js";

/** A command the entry point runs without yargs, with the arguments yargs would have given it. */
export type PlainCommand =
  | { command: "keys"; args: KeysArgs }
  | { command: "discovery"; args: DiscoveryArgs }
  | { command: "publish"; args: DirectoryPublishArgs }
  | { command: "publish-bucket"; args: BucketPublishArgs };

/** What a plain form may hold: options with a value, repeatable or once, and boolean flags. */
interface PlainForm {
  repeatable: readonly string[];
  once: readonly string[];
  flags: readonly string[];
}

const KEY_SOURCES = ["--key", "--secret-file"];
/** What only a publish to a bucket reads: with --out-dir, yargs and the command say what they do. */
const BUCKET_ONLY = {
  repeatable: ["--audience"],
  once: ["--bucket", "--prefix", "--region", "--profile", "--endpoint-url"],
  flags: ["--public-read-policy", "--external-issuer", "--oidc-provider"],
} satisfies PlainForm;
const forms = {
  keys: { repeatable: KEY_SOURCES, once: ["--out"], flags: ["--empty-kid"] },
  discovery: { repeatable: KEY_SOURCES, once: ["--issuer", "--jwks-uri", "--out"], flags: [] },
  publish: {
    repeatable: [...KEY_SOURCES, ...BUCKET_ONLY.repeatable],
    once: ["--issuer", "--out-dir", "--retain", ...BUCKET_ONLY.once],
    flags: ["--empty-kid", "--dry-run", "--json", ...BUCKET_ONLY.flags],
  },
} satisfies Record<"keys" | "discovery" | "publish", PlainForm>;

/**
 * Reads the everyday forms of `irsa-anywhere keys` (`--key FILE`, `--secret-file FILE`,
 * `--out FILE`, `--empty-kid`/`--no-empty-kid`), `irsa-anywhere discovery` (`--issuer URL`,
 * the same key sources, `--jwks-uri URL`, `--out FILE`) and `irsa-anywhere publish --out-dir DIR`
 * (`--issuer URL`, the same key sources, `--retain`, `--[no-]empty-kid`, `--[no-]dry-run`,
 * `--[no-]json`) and `irsa-anywhere publish --bucket NAME` (the same, and `--prefix`, `--region`,
 * `--profile`, `--endpoint-url`, `--audience`, `--[no-]public-read-policy`,
 * `--[no-]external-issuer`, `--[no-]oidc-provider`) without yargs. Loading and running yargs
 * costs a cold start more than everything else the first three do (bench/cold-start.mjs), a
 * publish to a bucket about 60 ms before its first request (bench/publish.mjs --process), and
 * scripts and jobs run them over and over.
 *
 * It answers only where yargs would read the arguments the same way, and returns undefined for
 * anything else (another command, `--help`, an option it does not know, a missing or doubtful
 * value, a repeat), so that the caller hands them to yargs, which parses, validates and explains.
 * test/cli-entry.test.ts holds the two readings to each other.
 */
export function parsePlainCommand(argv: readonly string[]): PlainCommand | undefined {
  const command = argv[0];
  if (command !== "keys" && command !== "discovery" && command !== "publish") return undefined;
  const read = readForm(argv.slice(1), forms[command]);
  if (read === undefined) return undefined;
  const key = read.values.get("--key") ?? [];
  const secretFile = read.values.get("--secret-file") ?? [];
  const [out] = read.values.get("--out") ?? [];
  const keySources = { key, "secret-file": secretFile, namespace: "eksa-system" };
  if (command === "keys") {
    // With no key source, yargs and the command say what is missing.
    if (key.length === 0 && secretFile.length === 0) return undefined;
    const emptyKid = read.flags.get("--empty-kid");
    return {
      command,
      args: {
        ...keySources,
        ...(out === undefined ? {} : { out }),
        "empty-kid": emptyKid ?? EMPTY_KID_OPTION.default,
      },
    };
  }
  const [issuer] = read.values.get("--issuer") ?? [];
  if (command === "publish") return plainPublish(read, keySources, issuer);
  const [jwksUri] = read.values.get("--jwks-uri") ?? [];
  // Without --issuer, yargs says it is required.
  if (issuer === undefined) return undefined;
  return {
    command,
    args: {
      ...keySources,
      issuer,
      ...(jwksUri === undefined ? {} : { "jwks-uri": jwksUri }),
      ...(out === undefined ? {} : { out }),
    },
  };
}

/**
 * `publish --out-dir DIR --issuer URL` or `publish --bucket NAME`, with a key source, and every
 * default yargs would give the options that path does not read.
 */
function plainPublish(
  read: NonNullable<ReturnType<typeof readForm>>,
  keySources: { key: string[]; "secret-file": string[]; namespace: string },
  issuer: string | undefined,
): PlainCommand | undefined {
  const one = (name: string) => read.values.get(name)?.[0];
  const [outDir, bucket, retain] = [one("--out-dir"), one("--bucket"), one("--retain")];
  // Every missing piece is for yargs and the command to name.
  if (keySources.key.length === 0 && keySources["secret-file"].length === 0) return undefined;
  const common = {
    ...keySources,
    ...(retain === undefined ? {} : { retain }),
    "public-read-scope": "auto",
    cloudfront: false,
    wait: true,
    "empty-kid": read.flags.get("--empty-kid") ?? EMPTY_KID_OPTION.default,
    "dry-run": read.flags.get("--dry-run") ?? false,
    json: read.flags.get("--json") ?? false,
    "log-format": "text",
  } as const;
  if (outDir !== undefined) {
    // A bucket's options beside --out-dir: yargs and the command say which one goes.
    const bucketOnly = [...BUCKET_ONLY.repeatable, ...BUCKET_ONLY.once, ...BUCKET_ONLY.flags];
    if (issuer === undefined || bucketOnly.some((name) => read.values.has(name) || read.flags.has(name))) {
      return undefined;
    }
    return {
      command: "publish",
      args: {
        ...common,
        issuer,
        "out-dir": outDir,
        "external-issuer": false,
        "public-read-policy": false,
        "oidc-provider": true,
      },
    };
  }
  if (bucket === undefined) return undefined;
  const given = (name: string, option: string) => {
    const value = one(option);
    return value === undefined ? {} : { [name]: value };
  };
  const audience = read.values.get("--audience");
  return {
    command: "publish-bucket",
    args: {
      ...common,
      bucket,
      ...(issuer === undefined ? {} : { issuer }),
      ...given("prefix", "--prefix"),
      ...given("region", "--region"),
      ...given("profile", "--profile"),
      ...given("endpoint-url", "--endpoint-url"),
      ...(audience === undefined ? {} : { audience }),
      "external-issuer": read.flags.get("--external-issuer") ?? false,
      "public-read-policy": read.flags.get("--public-read-policy") ?? false,
      "oidc-provider": read.flags.get("--oidc-provider") ?? true,
    },
  };
}

function readForm(words: readonly string[], form: PlainForm) {
  const values = new Map<string, string[]>();
  const flags = new Map<string, boolean>();
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    const flag = form.flags.find((name) => word === name || word === `--no-${name.slice(2)}`);
    if (flag !== undefined) {
      if (flags.has(flag)) return undefined;
      flags.set(flag, word === flag);
      continue;
    }
    const equals = word.indexOf("=");
    const name = equals === -1 ? word : word.slice(0, equals);
    const repeatable = form.repeatable.includes(name);
    if (!repeatable && !form.once.includes(name)) return undefined;
    const value = equals === -1 ? words[++i] : word.slice(equals + 1);
    // "-" is standard input; any other value that starts with "-" may be an option yargs reads.
    if (value === undefined || value === "" || (value.startsWith("-") && value !== "-")) return undefined;
    const seen = values.get(name) ?? [];
    if (!repeatable && seen.length > 0) return undefined;
    values.set(name, [...seen, value]);
  }
  return { values, flags };
}
