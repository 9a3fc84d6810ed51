// The Dockerfile and .dockerignore, checked without Docker (no daemon where the tests run): the
// image is built on a supported Node LTS line, runs as the non-root user the examples' pods run
// as, copies only what the build produces, and its build context holds neither the host's
// node_modules nor .git while keeping every file the build reads.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const dockerfile = readFileSync(`${root}Dockerfile`, "utf8");
const instructions = dockerfile
  .replace(/\\\n/g, " ")
  .split("\n")
  .filter((line) => line.trim() !== "" && !line.startsWith("#"))
  .map((line) => {
    const [keyword = "", ...rest] = line.trim().split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest };
  });
const ignored = readFileSync(`${root}.dockerignore`, "utf8")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line !== "" && !line.startsWith("#"));

/** Whether a .dockerignore pattern excludes a path of the context (Go's filepath.Match, plus `**`). */
function excludes(pattern: string, path: string): boolean {
  const source = pattern
    .replace(/^\//, "")
    .split("/")
    .map((part) => (part === "**" ? ".*" : part.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")))
    .join("/")
    .replace(/\.\*\//g, "(.*/)?");
  // A pattern that names a directory excludes everything in it.
  return new RegExp(`^${source}(/.*)?$`).test(path);
}

describe("Dockerfile", () => {
  const stages = instructions.filter((i) => i.keyword === "FROM");

  it.each(stages.map((stage) => stage.args[0] ?? ""))(
    "builds on a Node LTS line, 22 or later, by tag: %s",
    (image) => {
      const match = /^node:(\d+)-[a-z]+-slim$/.exec(image);
      expect(match, "an official node image by major line and Debian release").not.toBeNull();
      const major = Number(match?.[1]);
      // Even majors become LTS; 20 reached end of life in April 2026.
      expect(major % 2).toBe(0);
      expect(major).toBeGreaterThanOrEqual(22);
    },
  );

  it("runs as uid 65532, the user the examples' pods run as, never root", () => {
    const user = instructions.filter((i) => i.keyword === "USER").at(-1)?.args[0];
    expect(user).toBe("65532:65532");
    for (const example of ["examples/cronjob/base/cronjob.yaml", "examples/serve/base/deployment.yaml"]) {
      expect(readFileSync(`${root}${example}`, "utf8")).toContain("runAsUser: 65532");
    }
  });

  it("copies into the image only files the build produces, and runs the one it copied", () => {
    const copies = instructions.filter((i) => i.keyword === "COPY" && i.args[0]?.startsWith("--from="));
    expect(copies.length).toBeGreaterThan(0);
    const targets = copies.map((copy) => {
      const [source = "", target = ""] = copy.args.slice(1);
      // Stage 1 works in /src, a copy of the repository: the same path here, after pnpm run build.
      expect(source.startsWith("/src/")).toBe(true);
      expect(existsSync(`${root}${source.slice("/src/".length)}`), source).toBe(true);
      return target;
    });
    const entrypoint = JSON.parse(
      instructions.find((i) => i.keyword === "ENTRYPOINT")?.args.join(" ") ?? "[]",
    ) as string[];
    expect(entrypoint[0]).toBe("node");
    expect(targets).toContain(entrypoint[1]);
  });
});

describe(".dockerignore", () => {
  it.each(["node_modules", "packages/cli/node_modules", ".git", "packages/keys/dist/index.js"])(
    "keeps %s out of the build context",
    (path) => {
      expect(ignored.some((pattern) => excludes(pattern, path))).toBe(true);
    },
  );

  it.each([
    "package.json",
    "pnpm-lock.yaml",
    "pnpm-workspace.yaml",
    "tsconfig.base.json",
    "tsconfig.harness.json",
    "packages/cli/src/main.ts",
    "packages/cli/package.json",
    "scripts/bundle-cli.mjs",
    "test/support/cli.ts",
  ])("keeps %s, which the build reads", (path) => {
    expect(existsSync(`${root}${path}`)).toBe(true);
    expect(ignored.filter((pattern) => excludes(pattern, path))).toEqual([]);
  });
});
