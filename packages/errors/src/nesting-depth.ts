/**
 * @internal
 * An upper bound of how deeply a JSON or YAML text nests, found in one pass without parsing:
 * flow brackets (`[`, `{`) outside quotes, plus the block levels of the line (indentation and
 * `- ` entries on one line). Parsers build a node per level, and some recurse, so a text that
 * nests a million levels deep costs gigabytes to parse but nothing to measure.
 */
export function nestingDepth(text: string): number {
  return measureNesting(text).depth;
}

/**
 * The nesting depth (as {@link nestingDepth}) and an upper bound of the entries (lines, and
 * commas outside quotes): a YAML parser's time and memory grow with the entries, faster than
 * linearly, so 4 MiB of one-line keys costs seconds and half a gigabyte. Keys measures a secret
 * manifest with it, kube a kubeconfig, before either is parsed.
 *
 * @example
 * const text = await readInput("secret.yaml", { maxBytes: INPUT_LIMITS.manifest, what: "--secret-file" });
 * const { depth, entries } = measureNesting(text);
 * if (depth > 100 || entries > 20_000) throw new Error("no real manifest is this large");
 */
export function measureNesting(text: string): { depth: number; entries: number } {
  let entries = 0;
  let max = 0;
  let flow = 0;
  let quote: string | undefined;
  const indents: number[] = [];
  let lineStart = true;
  let block = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (lineStart) {
      lineStart = false;
      let indent = 0;
      while (text[i + indent] === " ") indent++;
      const next = text[i + indent];
      if (flow === 0 && quote === undefined && next !== "\n" && next !== "#" && next !== undefined) {
        while (indents.length > 0 && (indents.at(-1) as number) >= indent) indents.pop();
        indents.push(indent);
        // Compact entries nest on one line: "- - - x", "? - x".
        let j = i + indent;
        let compact = 0;
        while ((text[j] === "-" || text[j] === "?") && (text[j + 1] === " " || text[j + 1] === "\t")) {
          compact++;
          j += 2;
          while (text[j] === " ") j++;
        }
        block = indents.length + compact;
      }
    }
    if (c === "\n") {
      lineStart = true;
      entries++;
      // Plain JSON strings never span lines; YAML's quoted ones may, but never by more than their text.
      continue;
    }
    if (quote !== undefined) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === "#" && (i === 0 || /\s/.test(text[i - 1] as string))) {
      // A comment: its brackets are words.
      const end = text.indexOf("\n", i);
      i = (end === -1 ? text.length : end) - 1;
      continue;
    }
    if (c === '"' || c === "'") {
      // A quote inside a plain YAML word (don't) does not open a string.
      const before = text[i - 1];
      if (before === undefined || /[\s,[{:]/.test(before)) quote = c;
    } else if (c === "[" || c === "{") {
      flow++;
    } else if (c === ",") {
      entries++;
    } else if ((c === "]" || c === "}") && flow > 0) {
      flow--;
    }
    if (block + flow > max) max = block + flow;
  }
  return { depth: Math.max(max, block), entries };
}
