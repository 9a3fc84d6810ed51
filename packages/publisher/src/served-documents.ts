import { httpsGet, isFailure } from "@irsa-anywhere/discovery";
import { quoteInput } from "@irsa-anywhere/errors";
import { PublishError } from "./errors.js";

/** One published document: where STS will fetch it, and the bytes that were published. */
export interface ServedDocument {
  url: string;
  expected: string;
  /**
   * Reads the document as it is stored now. Another publisher may have merged its key in since
   * this one wrote: served bytes equal to the stored ones are right, too.
   */
  readStored?: () => Promise<string | undefined>;
}

export interface VerifyServedDocumentsOptions {
  documents: readonly ServedDocument[];
  /** What to tell the user when a document is not public or not there. */
  fix: { notPublic: string; notFound: string };
  /** Default 10 s: STS gives up after 5 s; a network that drops the request must not hold the job. */
  timeoutMs?: number;
  /** The anonymous GET; default discovery's {@link httpsGet} (a test's reaches its own edge). */
  httpsGet?: typeof httpsGet;
}

/** Bigger than any JWKS STS accepts (100 keys); a larger answer is not what was published. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Reads each document anonymously at the URL STS will use, as STS reads it (no credentials, no
 * redirects followed), and compares it with what was published. A document that is missing,
 * not public or different means STS cannot verify the cluster's tokens: that throws. A URL that
 * cannot be reached from here proves nothing either way: that is a warning, returned.
 *
 * @throws {PublishError} `ERR_DOCUMENTS_NOT_SERVED`, naming each document and the fix.
 */
export async function verifyServedDocuments(options: VerifyServedDocumentsOptions): Promise<string[]> {
  // Each document on its own, at once; the findings keep the documents' order.
  const findings = await Promise.all(
    options.documents.map(async (document): Promise<{ problem?: string; warning?: string }> => {
      const answer = await (options.httpsGet ?? httpsGet)(document.url, {
        timeoutMs: options.timeoutMs ?? 10_000,
        maxBytes: MAX_BODY_BYTES,
        headers: { "cache-control": "no-cache" },
      });
      if (isFailure(answer) && answer.kind !== "too-large") {
        return {
          warning: `could not read ${document.url} from here (${answer.message}), so it is not known whether STS can; check that it serves the published document`,
        };
      }
      const status = isFailure(answer) ? 200 : answer.status;
      if (status === 401 || status === 403) {
        return {
          problem: `${document.url} answers HTTP ${status} without credentials, so STS cannot read it; ${options.fix.notPublic}`,
        };
      }
      if (status === 404) {
        return {
          problem: `${document.url} answers HTTP 404, so STS cannot find it; ${options.fix.notFound}`,
        };
      }
      if (status !== 200) {
        return { problem: `${document.url} answers HTTP ${status} where STS needs 200 with the document` };
      }
      const body = isFailure(answer) ? undefined : answer.body;
      if (body !== document.expected && (body === undefined || body !== (await document.readStored?.()))) {
        return {
          problem: `${document.url} serves ${body === undefined ? "more than 1 MiB" : `other bytes (${quoteInput(body)})`} than were published; if a cache is in front, invalidate it, or run again once its copy expires`,
        };
      }
      return {};
    }),
  );
  const problems = findings.flatMap((finding) => (finding.problem ? [finding.problem] : []));
  const warnings = findings.flatMap((finding) => (finding.warning ? [finding.warning] : []));
  if (problems.length > 0) {
    throw new PublishError(
      "ERR_DOCUMENTS_NOT_SERVED",
      `STS cannot use what was published: ${problems.join("; and ")}`,
    );
  }
  return warnings;
}
