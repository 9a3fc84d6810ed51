import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nestingDepth } from "./nesting-depth.js";
import { readInput } from "./read-input.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "irsa-read-input-"));
  execFileSync("mkfifo", [join(dir, "fifo")]);
  await writeFile(join(dir, "small"), "12345");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("readInput", () => {
  it("reads a regular file within its cap", async () => {
    expect(await readInput(join(dir, "small"), { maxBytes: 5, what: "--key" })).toBe("12345");
  });

  it.each([
    ["a file over its cap", () => join(dir, "small"), 4, "ERR_INPUT_TOO_LARGE"],
    ["a FIFO with no writer, at once", () => join(dir, "fifo"), 1024, "ERR_INPUT_UNREADABLE"],
    ["a device", () => "/dev/zero", 1024, "ERR_INPUT_UNREADABLE"],
    ["a directory", () => dir, 1024, "ERR_INPUT_UNREADABLE"],
    ["a missing file", () => join(dir, "absent"), 1024, "ERR_INPUT_UNREADABLE"],
  ])("refuses %s", async (_name, path, maxBytes, code) => {
    await expect(readInput(path(), { maxBytes, what: "--key" })).rejects.toMatchObject({
      code,
      isInputError: true,
    });
  });

  it("stops reading an endless standard input at the cap", async () => {
    let chunks = 0;
    const endless = new Readable({
      read() {
        chunks++;
        this.push(Buffer.alloc(1024));
      },
    });
    await expect(
      readInput("-", { maxBytes: 10 * 1024, what: "--key", stdin: endless }),
    ).rejects.toMatchObject({
      code: "ERR_INPUT_TOO_LARGE",
    });
    expect(chunks).toBeLessThan(64);
  });
});

describe("nestingDepth", () => {
  it.each([
    ['{"a": {"b": [1, 2]}}', 4],
    ["a:\n  b:\n    - c\n", 4],
    ["a:\n  - - - x\n", 5],
    ["a: '[[[['\n", 1],
    ['a: "[[[["\n', 1],
    ["a: b # [[[[\n", 1],
    ["a:\n  b: 1\nc: 2\n", 2],
    [`x: ${"[".repeat(500)}`, 501],
  ])("%j counts as %i levels (the document itself is one)", (text, depth) => {
    expect(nestingDepth(text)).toBe(depth);
  });
});
