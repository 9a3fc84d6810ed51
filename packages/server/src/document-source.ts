import type { PublicSigningKey } from "@irsa-anywhere/keys";
import type { PublishTarget } from "@irsa-anywhere/publisher";

/** Where the served documents come from. */
export type DocumentSource = KeysDocumentSource | DirectoryDocumentSource;

/**
 * Documents built from the cluster's keys, merged as `publish` merges them: keys served before
 * stay served, so tokens a previous key signed stay verifiable after a rotation.
 */
export interface KeysDocumentSource {
  kind: "keys";
  /** Called at start and on every refresh: the cluster's keys now, e.g. `publicKeysFromCluster`. */
  readKeys: () => Promise<readonly PublicSigningKey[]> | readonly PublicSigningKey[];
  /** Serve the empty-kid twin of the current key (default true). */
  emptyKidTwin?: boolean;
  /**
   * Where the merged documents are kept between refreshes. Default: memory, so earlier keys are
   * kept for the life of the process. `directoryTarget(dir)` keeps them across restarts (and
   * between replicas that share the directory).
   */
  store?: PublishTarget;
  /**
   * Tells the server when the keys may have changed, so that it reads them again at once rather
   * than at its next refresh, e.g. `watchClusterSecret`. Returns how to stop.
   */
  watch?: (onChange: () => void) => { close(): void };
}

/** Documents that `publish --out-dir` wrote into a directory, read again whenever they change. */
export interface DirectoryDocumentSource {
  kind: "directory";
  directory: string;
}
