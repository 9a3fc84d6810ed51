import { KeysError } from "../errors.js";

/** @internal One `-----BEGIN X-----` … `-----END X-----` block, decoded. */
export interface PemBlock {
  label: string;
  der: Buffer;
  /** 1-based line of the BEGIN marker, for error messages. */
  line: number;
  /** RFC 1421 headers such as `Proc-Type: 4,ENCRYPTED`. */
  headers: Record<string, string>;
}

const beginPattern = /^-----BEGIN ([A-Z0-9 ]+)-----\s*$/;
const base64Line = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * @internal Splits text into PEM blocks. Text around and between blocks is ignored, as Go's
 * `encoding/pem` (and so kube-apiserver) ignores it; CRLF line endings are accepted.
 */
export function parsePemBlocks(text: string, origin: string): PemBlock[] {
  const lines = text.split(/\r?\n|\r/);
  const blocks: PemBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const begin = beginPattern.exec(lines[i]?.trim() ?? "");
    if (!begin) continue;
    const label = begin[1] ?? "";
    const startLine = i + 1;
    const headers: Record<string, string> = {};
    const body: string[] = [];
    let ended = false;
    for (i++; i < lines.length; i++) {
      const line = (lines[i] ?? "").trim();
      if (line === `-----END ${label}-----`) {
        ended = true;
        break;
      }
      const header = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (header && body.length === 0) {
        headers[header[1] ?? ""] = header[2] ?? "";
        continue;
      }
      if (line !== "") body.push(line);
    }
    if (!ended) {
      throw new KeysError(
        "ERR_KEY_MALFORMED",
        `${origin}: the ${label} block at line ${startLine} has no matching END line; the file looks truncated, copy it again`,
      );
    }
    const encoded = body.join("");
    if (!body.every((l) => base64Line.test(l)) || encoded.length % 4 !== 0) {
      throw new KeysError(
        "ERR_KEY_MALFORMED",
        `${origin}: the ${label} block at line ${startLine} is not valid base64; copy the file again without editing it`,
      );
    }
    blocks.push({ label, der: Buffer.from(encoded, "base64"), line: startLine, headers });
  }
  return blocks;
}
