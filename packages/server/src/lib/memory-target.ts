import { PublishError, type PublishTarget, type StoredDocument, statePath } from "@irsa-anywhere/publisher";

/**
 * @internal A `PublishTarget` in memory: where a server keeps the documents it merged, so that
 * `publishDocuments` (and its key retention) works unchanged for a server with no store.
 */
export function memoryTarget(): PublishTarget {
  const documents = new Map<string, StoredDocument>();
  let versions = 0;
  return {
    description: "the server's memory",
    locate: (path) => `/${path} (in memory)`,
    statePath,
    async read(path) {
      return documents.get(path);
    },
    async write(path, body, options) {
      if ((documents.get(path)?.version ?? null) !== options.expectedVersion) {
        throw new PublishError("ERR_PRECONDITION_FAILED", `/${path} changed since it was read`);
      }
      versions += 1;
      documents.set(path, { body, version: String(versions) });
    },
  };
}
