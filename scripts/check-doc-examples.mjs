#!/usr/bin/env node
// Type-checks every `@example` in the TSDoc of the packages' exports, as a library user would
// write it: each example becomes the body of an async function in a file of its own that
// imports, from the packages' public entry points only, the exported names it uses. An example
// that does not compile against the built packages fails `pnpm run lint`, with its source line.
// Run after `pnpm run build` (the examples import the packages' declarations).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, ".doc-examples");

/**
 * Names an example may use without declaring them, and where a user would import them from:
 * Node's, and the AWS SDK clients' that a caller passes to or uses beside our functions.
 */
const NODE_NAMES = {
  readFile: "node:fs/promises",
  writeFile: "node:fs/promises",
  mkdir: "node:fs/promises",
  createPublicKey: "node:crypto",
  createPrivateKey: "node:crypto",
  generateKeyPairSync: "node:crypto",
  S3Client: "@aws-sdk/client-s3",
  IAMClient: "@aws-sdk/client-iam",
  GetRoleCommand: "@aws-sdk/client-iam",
  ListOpenIDConnectProvidersCommand: "@aws-sdk/client-iam",
  STSClient: "@aws-sdk/client-sts",
  GetCallerIdentityCommand: "@aws-sdk/client-sts",
};

/** Every package's public names: what its src/index.ts exports, read by the compiler. */
function publicNames() {
  const packages = readdirSync(join(root, "packages")).filter((name) => name !== "cli");
  const entries = packages.map((name) => join(root, "packages", name, "src/index.ts"));
  const program = ts.createProgram(entries, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    allowJs: false,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  /** @type {Map<string, { specifier: string, typeOnly: boolean }>} */
  const names = new Map();
  packages.forEach((name, index) => {
    const source = program.getSourceFile(entries[index]);
    const symbol = source && checker.getSymbolAtLocation(source);
    if (!symbol) return;
    const specifier = JSON.parse(readFileSync(join(root, "packages", name, "package.json"), "utf8")).name;
    for (const exported of checker.getExportsOfModule(symbol)) {
      const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const typeOnly = !(target.flags & ts.SymbolFlags.Value);
      if (!names.has(exported.name)) names.set(exported.name, { specifier, typeOnly });
    }
  });
  return names;
}

/** The `@example` blocks of a source file, with the line each starts on. */
function examplesOf(file) {
  const text = readFileSync(file, "utf8");
  const found = [];
  for (const match of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const lines = match[0]
      .split("\n")
      .map((line) => line.replace(/^\s*\/?\*+\/?\s?/, "").replace(/\*\/\s*$/, ""));
    const startLine = text.slice(0, match.index).split("\n").length;
    for (let i = 0; i < lines.length; i++) {
      if (!/^@example\b/.test(lines[i].trim())) continue;
      const body = [];
      let j = i + 1;
      for (; j < lines.length && !/^@\w+/.test(lines[j].trim()); j++) body.push(lines[j]);
      const code = body
        .join("\n")
        .replace(/^```\w*\n?|```\s*$/gm, "")
        .trim();
      if (code) found.push({ code, line: startLine + i + 1 });
      i = j - 1;
    }
  }
  return found;
}

function identifiersOf(code) {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, code);
  const seen = new Set();
  for (let token = scanner.scan(); token !== ts.SyntaxKind.EndOfFileToken; token = scanner.scan()) {
    if (token === ts.SyntaxKind.Identifier) seen.add(scanner.getTokenText());
  }
  return seen;
}

const names = publicNames();
const sources = readdirSync(join(root, "packages"))
  .filter((name) => name !== "cli")
  .flatMap((name) =>
    readdirSync(join(root, "packages", name, "src"), { recursive: true }).map((path) =>
      join(root, "packages", name, "src", String(path)),
    ),
  )
  .filter((path) => path.endsWith(".ts") && !/\.test\.ts$|\.d\.ts$/.test(path));

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
/** Generated file → where its example is written. */
const origins = new Map();
let count = 0;
for (const file of sources) {
  for (const example of examplesOf(file)) {
    count++;
    const used = identifiersOf(example.code);
    const imports = new Map();
    for (const name of used) {
      const where =
        names.get(name) ??
        (Object.hasOwn(NODE_NAMES, name) ? { specifier: NODE_NAMES[name], typeOnly: false } : undefined);
      if (!where) continue;
      const list = imports.get(where.specifier) ?? [];
      list.push(where.typeOnly ? `type ${name}` : name);
      imports.set(where.specifier, list);
    }
    const header = [...imports].map(
      ([specifier, list]) => `import { ${list.sort().join(", ")} } from "${specifier}";`,
    );
    const name = `example-${String(count).padStart(3, "0")}.ts`;
    const body = example.code
      .split("\n")
      .map((line) => `  ${line}`)
      .join("\n");
    writeFileSync(
      join(out, name),
      `${header.join("\n")}\n\nexport async function example(): Promise<void> {\n${body}\n}\n`,
    );
    origins.set(name, `${relative(root, file)}:${example.line}`);
  }
}
writeFileSync(
  join(out, "tsconfig.json"),
  JSON.stringify({
    extends: "../tsconfig.base.json",
    compilerOptions: {
      noEmit: true,
      composite: false,
      declaration: false,
      declarationMap: false,
      sourceMap: false,
      noUnusedLocals: false,
    },
    include: ["*.ts"],
  }),
);
const config = ts.getParsedCommandLineOfConfigFile(
  join(out, "tsconfig.json"),
  {},
  { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
);
const program = ts.createProgram(config.fileNames, config.options);
const diagnostics = ts.getPreEmitDiagnostics(program);
for (const diagnostic of diagnostics) {
  const file = diagnostic.file ? relative(out, diagnostic.file.fileName) : "";
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, " ");
  process.stderr.write(`${origins.get(file) ?? file}: @example does not compile: ${message}\n`);
}
if (diagnostics.length === 0) rmSync(out, { recursive: true, force: true });
process.stdout.write(
  `${count} TSDoc examples type-checked, ${diagnostics.length === 0 ? "all compile" : `${diagnostics.length} errors`}\n`,
);
process.exit(diagnostics.length === 0 ? 0 : 1);
