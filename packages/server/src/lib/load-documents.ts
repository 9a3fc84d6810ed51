import { join } from "node:path";
import { documentPaths } from "@irsa-anywhere/discovery";
import { directoryTarget, type PublishTarget, publishDocuments } from "@irsa-anywhere/publisher";
import type { DocumentSource } from "../document-source.js";
import { ServeError } from "../errors.js";
import { type IssuerDocuments, prepareIssuerDocuments } from "../prepare-documents.js";
import { memoryTarget } from "./memory-target.js";

/** What one load found, beside the documents themselves. */
export interface LoadedDocuments {
  documents: IssuerDocuments;
  /** With keys: the kid signing now, and what changed in this load. */
  keys?: { current: string; added: string[]; retained: string[] };
}

/** @internal Reads (and for keys, merges) the documents of a source, each call afresh. */
export interface DocumentLoader {
  load(): Promise<LoadedDocuments>;
  /** Files whose change means the documents changed; empty when only a refresh can tell. */
  readonly watchedFiles: readonly string[];
  /** The key source's own change notice, when it has one. */
  readonly watch?: ((onChange: () => void) => { close(): void }) | undefined;
}

/** @internal */
export function documentLoader(issuer: string, source: DocumentSource): DocumentLoader {
  const paths = documentPaths(issuer);
  if (source.kind === "directory") {
    const target = directoryTarget(source.directory);
    return {
      watchedFiles: [join(source.directory, paths.jwks), join(source.directory, paths.discovery)],
      async load() {
        const bodies = await readBodies(target, paths, source.directory, issuer);
        return { documents: prepareIssuerDocuments(issuer, bodies, target.description) };
      },
    };
  }
  const target = source.store ?? memoryTarget();
  return {
    watchedFiles: [],
    watch: source.watch,
    async load() {
      const keys = await source.readKeys();
      const result = await publishDocuments({
        issuer,
        keys,
        target,
        paths,
        emptyKidTwin: source.emptyKidTwin ?? true,
      });
      const bodies = await readBodies(target, paths, undefined, issuer);
      return {
        documents: prepareIssuerDocuments(issuer, bodies, target.description),
        keys: { current: result.keys.current, added: result.keys.added, retained: result.keys.retained },
      };
    },
  };
}

async function readBodies(
  target: PublishTarget,
  paths: { jwks: string; discovery: string },
  directory: string | undefined,
  issuer: string,
): Promise<{ jwks: string; discovery: string }> {
  const jwks = await target.read(paths.jwks);
  const discovery = await target.read(paths.discovery);
  const missing = !jwks ? paths.jwks : !discovery ? paths.discovery : undefined;
  if (missing !== undefined || !jwks || !discovery) {
    throw new ServeError(
      "ERR_DOCUMENTS_NOT_FOUND",
      directory === undefined
        ? `${target.locate(missing ?? paths.jwks)} is missing from ${target.description}`
        : `there is no ${target.locate(missing ?? paths.jwks)}; write the documents first with irsa-anywhere publish --issuer ${issuer} --out-dir ${directory}`,
    );
  }
  return { jwks: jwks.body, discovery: discovery.body };
}
