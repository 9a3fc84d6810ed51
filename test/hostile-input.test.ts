// Input that would hang the CLI or fill the machine's memory: each is refused at once, in one
// line, exit 2, and the child's peak memory (read by GNU time) stays small.
import { execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliPath } from "./support/cli.js";
import { generateTestKey, pem, selfSignedCertificatePem } from "./support/keys.js";

const GNU_TIME = "/usr/bin/time";
const MAX_RSS_KB = 200 * 1024;

let dir: string;
const file = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "irsa-hostile-"));
  execFileSync("mkfifo", [file("fifo")]);
  const nestedYaml = `apiVersion: v1\nkind: Secret\ndata:\n  x: ${"[".repeat(3 * 1024 * 1024)}`;
  await writeFile(file("nested.yaml"), nestedYaml);
  await writeFile(file("nested.json"), `{"data": ${"[".repeat(3 * 1024 * 1024)}`);
  await writeFile(file("nested-block.yaml"), `data:\n${"- ".repeat(1024 * 1024)}x\n`);
  await writeFile(file("huge.yaml"), `data:\n  x: ${"[".repeat(10 * 1024 * 1024)}`);
  await writeFile(
    file("wide.yaml"),
    `apiVersion: v1\nkind: Secret\ndata:\n${Array.from({ length: 300_000 }, (_, i) => `  k${i}: v\n`).join("")}`,
  );
  await writeFile(file("huge.pem"), "x".repeat(2 * 1024 * 1024));
  const pair = generateTestKey({ type: "rsa", bits: 2048 });
  await writeFile(file("tls.crt"), selfSignedCertificatePem(pair));
  await writeFile(file("tls.key"), pem(pair.privateKey, "pkcs8"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Measured {
  code: number | null;
  stdout: string;
  stderr: string;
  maxRssKb: number;
}

/** Runs the CLI under GNU time, which writes the child's peak resident memory to a file. */
async function runMeasured(args: string[], stdinFile?: string): Promise<Measured> {
  const stats = join(dir, `stats-${Math.random().toString(36).slice(2)}`);
  const stdin = stdinFile === undefined ? "ignore" : openSync(stdinFile, "r");
  try {
    return await new Promise<Measured>((resolve, reject) => {
      const child = spawn(GNU_TIME, ["-v", "-o", stats, process.execPath, cliPath, ...args], {
        env: { ...process.env, NO_COLOR: "1" },
        stdio: [stdin, "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout?.on("data", (chunk) => {
        stdout += chunk;
      });
      child.stderr?.on("data", (chunk) => {
        stderr += chunk;
      });
      child.on("error", reject);
      child.on("close", async (code) => {
        const text = await readFile(stats, "utf8").catch(() => "");
        const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(text)?.[1];
        // GNU time reports "Command exited with non-zero status N" but exits with the same code.
        resolve({ code, stdout, stderr, maxRssKb: rss === undefined ? Number.NaN : Number(rss) });
      });
    });
  } finally {
    if (typeof stdin === "number") closeSync(stdin);
  }
}

const cases: [string, string[], RegExp, string?][] = [
  ["keys --key /dev/zero", ["keys", "--key", "/dev/zero"], /--key \/dev\/zero: it is a device/],
  ["keys --key /dev/urandom", ["keys", "--key", "/dev/urandom"], /--key \/dev\/urandom: it is a device/],
  ["keys --secret-file /dev/zero", ["keys", "--secret-file", "/dev/zero"], /it is a device/],
  ["keys --key FIFO with no writer", ["keys", "--key", "FIFO"], /it is a named pipe/],
  ["keys --secret-file FIFO with no writer", ["keys", "--secret-file", "FIFO"], /it is a named pipe/],
  ["keys --key a directory", ["keys", "--key", "DIR"], /it is a directory/],
  [
    "keys --key - with endless stdin",
    ["keys", "--key", "-"],
    /standard input is larger than 1 MiB/,
    "/dev/zero",
  ],
  [
    "keys --secret-file - with endless stdin",
    ["keys", "--secret-file", "-"],
    /standard input is larger than 4 MiB/,
    "/dev/zero",
  ],
  [
    "keys --secret-file 4 MiB of YAML keys",
    ["keys", "--secret-file", "wide.yaml"],
    /more than 20000 lines or entries/,
  ],
  [
    "keys --cluster with 3 MiB of kubeconfig keys",
    ["keys", "--cluster", "c", "--kubeconfig", "wide.yaml"],
    /more than 50000 lines or entries/,
  ],
  ["keys --key 2 MiB file", ["keys", "--key", "huge.pem"], /larger than 1 MiB/],
  ["keys --secret-file 10 MiB nested YAML", ["keys", "--secret-file", "huge.yaml"], /larger than 4 MiB/],
  [
    "keys --secret-file 3 MiB nested YAML",
    ["keys", "--secret-file", "nested.yaml"],
    /nests more than 100 levels/,
  ],
  [
    "keys --secret-file 3 MiB nested JSON",
    ["keys", "--secret-file", "nested.json"],
    /nests more than 100 levels/,
  ],
  [
    "keys --secret-file 2 MiB of nested YAML sequences",
    ["keys", "--secret-file", "nested-block.yaml"],
    /nests more than 100 levels/,
  ],
  [
    "keys --cluster with --kubeconfig /dev/zero",
    ["keys", "--cluster", "c", "--kubeconfig", "/dev/zero"],
    /it is a device/,
  ],
  [
    "keys --cluster with a FIFO kubeconfig",
    ["keys", "--cluster", "c", "--kubeconfig", "FIFO"],
    /it is a named pipe/,
  ],
  [
    "serve --tls-cert FIFO with no writer",
    [
      "serve",
      "--key",
      "TLSKEY",
      "--issuer",
      "https://oidc.example.com/p",
      "--listen",
      "127.0.0.1:0",
      "--tls-cert",
      "FIFO",
      "--tls-key",
      "TLSKEY",
    ],
    /TLS certificate .*fifo: it is a named pipe/,
  ],
  [
    "doctor --ca-file /dev/zero",
    ["doctor", "--issuer", "https://127.0.0.1:9/p", "--no-aws", "--ca-file", "/dev/zero"],
    /--ca-file \/dev\/zero: it is a device/,
  ],
  [
    "rotate prepare --next-key FIFO",
    [
      "rotate",
      "prepare",
      "--key",
      "TLSKEY",
      "--out-dir",
      "DIR",
      "--issuer",
      "https://oidc.example.com/p",
      "--next-key",
      "FIFO",
    ],
    /--next-key .*fifo: it is a named pipe/,
  ],
];

describe.skipIf(!existsSync(GNU_TIME))("hostile input is refused at once, in bounded memory", () => {
  it.each(cases)(
    "%s: one line, exit 2, under 200 MB",
    async (_name, args, message, stdin) => {
      const resolved = args.map((a) =>
        a === "FIFO"
          ? file("fifo")
          : a === "DIR"
            ? dir
            : a === "TLSKEY"
              ? file("tls.key")
              : /\.(pem|yaml|json)$/.test(a) && !a.startsWith("/")
                ? file(a)
                : a,
      );
      const result = await runMeasured(resolved, stdin);
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(result).toMatchObject({ code: 2, stdout: "" });
      expect(result.maxRssKb).toBeLessThan(MAX_RSS_KB);
    },
    10_000,
  );
});
