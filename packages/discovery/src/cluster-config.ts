import { quoteInput } from "@irsa-anywhere/errors";
import type { Document, Node, Pair, Scalar, YAMLMap, YAMLSeq } from "yaml";
import { DiscoveryError } from "./errors.js";
import { validateIssuer } from "./issuer.js";

type Yaml = typeof import("yaml");

/** A cluster configuration file with the issuer written in, or left alone when it already held it. */
export interface IssuerConfigEdit {
  /** The whole file: every byte the edit did not need is as it was. */
  text: string;
  /** `false` when the file already said exactly this: nothing to write. */
  changed: boolean;
  /** The document edited: `Cluster` of EKS Anywhere or kubeadm's `ClusterConfiguration`. */
  kind: "Cluster" | "ClusterConfiguration";
  apiVersion: string;
  /**
   * kubeadm: where kube-apiserver reads the service-account key pair: its
   * `service-account-signing-key-file` and `service-account-key-file` arguments, else `sa.key`
   * and `sa.pub` in the `certificatesDir` (default `/etc/kubernetes/pki`).
   */
  keyFiles?: { privateKey: string; publicKey: string };
}

/**
 * Writes the issuer into an EKS Anywhere cluster spec, at `spec.podIamConfig.serviceAccountIssuer`
 * of its `kind: Cluster` document. The file may hold other documents (machine and datacenter
 * configs); they, the comments, the key order and the quoting stay byte for byte: only the one
 * line (or, with no `podIamConfig` yet, two lines) changes.
 *
 * @throws {DiscoveryError} `ERR_ISSUER_INVALID`, or `ERR_CLUSTER_CONFIG_INVALID` when the text is
 * not YAML, holds no EKS Anywhere `Cluster`, or has the place in a form this edit does not make
 * (a flow mapping), with the line to add by hand.
 *
 * @example
 * const spec = await readFile("prod.yaml", "utf8");
 * const edit = await setClusterSpecIssuer(spec, "https://my-oidc.s3.us-west-2.amazonaws.com/prod", "prod.yaml");
 * if (edit.changed) await writeFile("prod.yaml", edit.text);
 */
export async function setClusterSpecIssuer(
  text: string,
  issuer: string,
  file: string,
): Promise<IssuerConfigEdit> {
  validateIssuer(issuer);
  const yaml = await import("yaml");
  const found = findDocument(yaml, text, file, {
    kind: "Cluster",
    accepts: (apiVersion) => apiVersion.startsWith("anywhere.eks.amazonaws.com/"),
    expected: "an EKS Anywhere cluster spec (apiVersion anywhere.eks.amazonaws.com/v1alpha1, kind: Cluster)",
  });
  const path = ["spec", "podIamConfig", "serviceAccountIssuer"];
  const edited = finish(yaml, text, setScalar(yaml, text, found.document, path, issuer, file), file, {
    kind: "Cluster",
    holds: (document) => document.getIn(path) === issuer,
    byHand: byHand(path, issuer),
  });
  return { text: edited, changed: edited !== text, kind: "Cluster", apiVersion: found.apiVersion };
}

/**
 * Writes the issuer into a kubeadm `ClusterConfiguration` (`kubeadm.k8s.io/v1beta3` or
 * `v1beta4`): kube-apiserver's `service-account-issuer` and `service-account-jwks-uri` in
 * `apiServer.extraArgs`, a mapping in v1beta3 and a list of `{name, value}` in v1beta4. The
 * other documents of the file (InitConfiguration, KubeletConfiguration...), the comments and
 * every other argument stay byte for byte.
 *
 * @throws {DiscoveryError} as {@link setClusterSpecIssuer}, for a file with no such document.
 *
 * @example
 * const config = await readFile("kubeadm.yaml", "utf8");
 * const issuer = "https://my-oidc.s3.us-west-2.amazonaws.com/prod";
 * const edit = await setKubeadmIssuer(config, { issuer, jwksUri: jwksUriOf(issuer) }, "kubeadm.yaml");
 */
export async function setKubeadmIssuer(
  text: string,
  settings: { issuer: string; jwksUri: string },
  file: string,
): Promise<IssuerConfigEdit> {
  validateIssuer(settings.issuer);
  const yaml = await import("yaml");
  const versions = ["kubeadm.k8s.io/v1beta3", "kubeadm.k8s.io/v1beta4"];
  const locate = (source: string) =>
    findDocument(yaml, source, file, {
      kind: "ClusterConfiguration",
      accepts: (apiVersion) => versions.includes(apiVersion),
      expected: "a kubeadm ClusterConfiguration (apiVersion kubeadm.k8s.io/v1beta3 or v1beta4)",
    });
  const { apiVersion } = locate(text);
  const listForm = apiVersion.endsWith("/v1beta4");
  let edited = text;
  for (const [name, value] of [
    ["service-account-issuer", settings.issuer],
    ["service-account-jwks-uri", settings.jwksUri],
  ] as const) {
    const document = locate(edited).document;
    edited = listForm
      ? setListArgument(yaml, edited, document, name, value, file)
      : setScalar(yaml, edited, document, ["apiServer", "extraArgs", name], value, file);
  }
  // The value kube-apiserver gets: of the first item of that name in v1beta4's list.
  const argument = (document: Document, name: string): unknown => {
    const extraArgs = document.getIn(["apiServer", "extraArgs"], true);
    if (yaml.isSeq(extraArgs)) {
      const item = extraArgs.items.find((entry) => yaml.isMap(entry) && entry.get("name") === name);
      return yaml.isMap(item) ? item.get("value") : undefined;
    }
    return yaml.isMap(extraArgs) ? extraArgs.get(name) : undefined;
  };
  edited = finish(yaml, text, edited, file, {
    kind: "ClusterConfiguration",
    holds: (document) =>
      argument(document, "service-account-issuer") === settings.issuer &&
      argument(document, "service-account-jwks-uri") === settings.jwksUri,
    byHand: `set apiServer.extraArgs service-account-issuer to ${settings.issuer} and service-account-jwks-uri to ${settings.jwksUri} by hand`,
  });
  const document = locate(text).document;
  const certificatesDir = document.get("certificatesDir");
  const dir =
    typeof certificatesDir === "string" && certificatesDir !== "" ? certificatesDir : "/etc/kubernetes/pki";
  const fileArgument = (name: string, fallback: string) => {
    const value = argument(document, name);
    return typeof value === "string" && value !== "" ? value : `${dir.replace(/\/+$/, "")}/${fallback}`;
  };
  const keyFiles = {
    privateKey: fileArgument("service-account-signing-key-file", "sa.key"),
    publicKey: fileArgument("service-account-key-file", "sa.pub"),
  };
  return { text: edited, changed: edited !== text, kind: "ClusterConfiguration", apiVersion, keyFiles };
}

/**
 * The edited text, in the line endings of the original, once read back: the edited document
 * holds the setting and every other document is as it was. A layout the splice got wrong is
 * refused here, never written.
 */
function finish(
  yaml: Yaml,
  before: string,
  spliced: string,
  file: string,
  target: { kind: string; holds: (document: Document) => boolean; byHand: string },
): string {
  if (spliced === before) return before;
  // A file with CRLF line endings only gets them on the added lines too.
  const crlf = before.includes("\r\n") && !/(?<!\r)\n/.test(before);
  const after = crlf ? spliced.replace(/(?<!\r)\n/g, "\r\n") : spliced;
  const old = yaml.parseAllDocuments(before) as Document[];
  const now = yaml.parseAllDocuments(after);
  const same =
    Array.isArray(now) &&
    now.length === old.length &&
    now.every((document, index) => {
      const previous = old[index] as Document;
      if (document.errors.length > 0) return false;
      if (previous.get("kind") === target.kind && document.get("kind") === target.kind)
        return target.holds(document);
      return JSON.stringify(document.toJS()) === JSON.stringify(previous.toJS());
    });
  if (!same) throw invalid(file, `the file's layout is one this edit cannot make safely; ${target.byHand}`);
  return after;
}

function invalid(file: string, message: string): DiscoveryError {
  return new DiscoveryError("ERR_CLUSTER_CONFIG_INVALID", `${file}: ${message}`);
}

function findDocument(
  yaml: Yaml,
  text: string,
  file: string,
  wanted: { kind: string; accepts: (apiVersion: string) => boolean; expected: string },
): { document: Document; apiVersion: string } {
  const documents = yaml.parseAllDocuments(text);
  if (!Array.isArray(documents) || documents.length === 0)
    throw invalid(file, `the file is empty; give ${wanted.expected}`);
  for (const document of documents) {
    const [error] = document.errors;
    if (error) {
      const line = error.linePos?.[0].line;
      throw invalid(file, `not YAML${line ? ` (line ${line})` : ""}: ${error.message.split("\n")[0]}`);
    }
  }
  const matches = documents.filter((document) => {
    const apiVersion = document.get("apiVersion");
    return (
      document.get("kind") === wanted.kind && typeof apiVersion === "string" && wanted.accepts(apiVersion)
    );
  });
  const [match] = matches;
  if (match === undefined) {
    const kinds = documents.map((d) => d.get("kind")).filter((k) => typeof k === "string");
    const found =
      kinds.length > 0
        ? `it holds ${kinds.map((k) => quoteInput(k as string)).join(", ")}`
        : "it holds no kind";
    throw invalid(file, `not ${wanted.expected}: ${found}`);
  }
  if (matches.length > 1) {
    throw invalid(file, `${matches.length} ${wanted.kind} documents; give a file with one`);
  }
  return { document: match, apiVersion: match.get("apiVersion") as string };
}

/** The column of an offset: how far it is from the start of its line. */
function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf("\n", offset - 1) + 1);
}

/** Where a new last line of a block collection goes: the start of the line after its content. */
function lineAfter(text: string, end: number): { offset: number; newline: boolean } {
  if (end > 0 && text[end - 1] === "\n") return { offset: end, newline: false };
  const next = text.indexOf("\n", end);
  return next === -1 ? { offset: text.length, newline: true } : { offset: next + 1, newline: false };
}

function splice(text: string, start: number, end: number, insert: string): string {
  return `${text.slice(0, start)}${insert}${text.slice(end)}`;
}

/** `value` written as the scalar it replaces was: in the same quotes, or plain where YAML allows. */
function formatScalar(yaml: Yaml, value: string, type: Scalar["type"]): string {
  if (type === "QUOTE_DOUBLE") return JSON.stringify(value);
  if (type === "QUOTE_SINGLE") return `'${value.replaceAll("'", "''")}'`;
  return yaml.stringify(value).trimEnd();
}

/** Lines for `content` at `indent`, as YAML writes them (two-space steps, `- ` items indented). */
function block(yaml: Yaml, content: unknown, indent: number): string {
  return yaml
    .stringify(content, { lineWidth: 0 })
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => `${" ".repeat(indent)}${line}\n`)
    .join("");
}

/** What `path` leads to from `keys` on: `{ a: { b: value } }` for `["a", "b"]`. */
function nested(keys: readonly string[], value: unknown): unknown {
  return keys.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value);
}

function pairOf(yaml: Yaml, map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((pair) => yaml.isScalar(pair.key) && pair.key.value === key) as Pair | undefined;
}

function byHand(path: readonly string[], value: string): string {
  return `write ${path.join(".")}: ${value} by hand`;
}

/**
 * Sets the scalar at `path` of a document, or adds the keys that lead to it at the end of the
 * deepest block mapping that is there, by splicing the source text.
 */
function setScalar(
  yaml: Yaml,
  text: string,
  document: Document,
  path: readonly string[],
  value: unknown,
  file: string,
): string {
  let map: Node | null = document.contents;
  for (let depth = 0; depth < path.length; depth++) {
    const key = path[depth] as string;
    if (!yaml.isMap(map) || map.flow || !map.range) {
      throw invalid(
        file,
        `${path.slice(0, depth).join(".") || "the document"} is not a block mapping; ${byHand(path, String(value))}`,
      );
    }
    const pair = pairOf(yaml, map, key);
    if (pair === undefined) return addKeys(yaml, text, map, path.slice(depth), value, file, path);
    const node = pair.value as Node | null;
    const last = depth === path.length - 1;
    if (last || node === null || (yaml.isScalar(node) && node.value === null)) {
      if (!last && node !== null && yaml.isScalar(node) && node.range && node.range[0] !== node.range[1]) {
        throw invalid(
          file,
          `${path.slice(0, depth + 1).join(".")} is ${quoteInput(String(node.source ?? ""))}, not a mapping; ${byHand(path, String(value))}`,
        );
      }
      if (last && node !== null && !yaml.isScalar(node)) {
        throw invalid(
          file,
          `${path.join(".")} is a ${yaml.isSeq(node) ? "list" : "mapping"}, not a string; ${byHand(path, String(value))}`,
        );
      }
      return replaceValue(yaml, text, pair, path.slice(depth + 1), value);
    }
    map = node;
  }
  throw new Error("unreachable: the loop returns at the path's last key");
}

/** Replaces a pair's scalar (or empty) value with `value`, under the keys `rest` if any. */
function replaceValue(yaml: Yaml, text: string, pair: Pair, rest: readonly string[], value: unknown): string {
  const node = pair.value as Scalar | null;
  const keyNode = pair.key as Scalar;
  const keyRange = keyNode.range as [number, number, number];
  if (rest.length === 0 && node?.range && node.range[0] !== node.range[1]) {
    if (node.value === value) return text;
    return splice(text, node.range[0], node.range[1], formatScalar(yaml, String(value), node.type));
  }
  // An empty value (`key:`): what follows goes on the next lines, one step deeper.
  const colon = text.indexOf(":", keyRange[1]);
  const indent = columnOf(text, keyRange[0]) + 2;
  if (rest.length === 0 && typeof value === "string") {
    return splice(text, colon + 1, colon + 1, ` ${formatScalar(yaml, value, "PLAIN")}`);
  }
  const { offset, newline } = lineAfter(text, colon + 1);
  return splice(text, offset, offset, `${newline ? "\n" : ""}${block(yaml, nested(rest, value), indent)}`);
}

/** Adds `keys` (and the value under them) as the last entry of a block mapping. */
function addKeys(
  yaml: Yaml,
  text: string,
  map: YAMLMap,
  keys: readonly string[],
  value: unknown,
  file: string,
  path: readonly string[],
): string {
  const first = map.items[0];
  const last = map.items.at(-1);
  const firstKey = first && yaml.isNode(first.key) ? first.key.range : undefined;
  if (!last || !firstKey)
    throw invalid(file, `an empty mapping leads to ${path.join(".")}; ${byHand(path, String(value))}`);
  const lastNode = (yaml.isNode(last.value) ? last.value : last.key) as Node;
  const end = lastNode.range?.[1] ?? (map.range as [number, number, number])[1];
  const { offset, newline } = lineAfter(text, end);
  return splice(
    text,
    offset,
    offset,
    `${newline ? "\n" : ""}${block(yaml, nested(keys, value), columnOf(text, firstKey[0]))}`,
  );
}

/** Sets `name`'s value in a v1beta4 `apiServer.extraArgs` list, or adds the `{name, value}` item. */
function setListArgument(
  yaml: Yaml,
  text: string,
  document: Document,
  name: string,
  value: string,
  file: string,
): string {
  const path = ["apiServer", "extraArgs"];
  const args = document.getIn(path, true) as Node | undefined;
  if (args === undefined || (yaml.isScalar(args) && args.value === null)) {
    return setScalar(yaml, text, document, path, [{ name, value }], file);
  }
  if (!yaml.isSeq(args) || args.flow || !args.range) {
    throw invalid(
      file,
      `apiServer.extraArgs of kubeadm.k8s.io/v1beta4 is a list of {name, value}, not ${yaml.isMap(args) ? "a mapping (the v1beta3 form)" : "this"}; add - name: ${name} with value: ${value} by hand`,
    );
  }
  const seq = args as YAMLSeq;
  const item = seq.items.find((entry) => yaml.isMap(entry) && entry.get("name") === name) as
    | YAMLMap
    | undefined;
  if (item !== undefined) {
    if (item.flow)
      throw invalid(
        file,
        `the ${name} item of apiServer.extraArgs is a flow mapping; set its value to ${value} by hand`,
      );
    const pair = pairOf(yaml, item, "value");
    if (pair === undefined) return addKeys(yaml, text, item, ["value"], value, file, [...path, name]);
    return replaceValue(yaml, text, pair, [], value);
  }
  const firstItem = seq.items[0] as Node | undefined;
  const lastItem = seq.items.at(-1) as Node | undefined;
  if (!firstItem?.range || !lastItem?.range)
    throw invalid(file, `apiServer.extraArgs is empty; add - name: ${name} with value: ${value} by hand`);
  // An item's node starts after its "- ": the dash is two columns before.
  const { offset, newline } = lineAfter(text, lastItem.range[1]);
  const indent = columnOf(text, firstItem.range[0]) - 2;
  return splice(
    text,
    offset,
    offset,
    `${newline ? "\n" : ""}${block(yaml, [{ name, value }], Math.max(indent, 0))}`,
  );
}
