/** A published document as read back, with the version a conditional write must name. */
export interface StoredDocument {
  body: string;
  /** Opaque: an S3 ETag, a content hash for a directory. */
  version: string;
}

/** How a `PublishTarget` writes a document: its headers, and the version it must replace. */
export interface ConditionalWrite {
  contentType: string;
  cacheControl: string;
  /**
   * The version the write replaces, as read; `null` when the document must not exist yet.
   * A write whose condition no longer holds throws `ERR_PRECONDITION_FAILED`.
   */
  expectedVersion: string | null;
}

/**
 * Where the issuer's documents are published: a directory, an S3 bucket. Paths are relative to
 * the web root of the issuer's host (`prod/keys.json`).
 */
export interface PublishTarget {
  /** For messages: `directory ./site`, `s3://bucket`. */
  readonly description: string;
  /** Where a path ends up: a file name or an object URL. */
  locate(path: string): string;
  read(path: string): Promise<StoredDocument | undefined>;
  /** Writes atomically if and only if the condition holds. */
  write(path: string, body: string, options: ConditionalWrite): Promise<void>;
  /**
   * Where the publisher's private state for the `keys.json` at `jwksPath` is kept: beside it in a
   * bucket (`prod/.irsa-anywhere-state.json`, see `statePath`), outside the served directory for
   * a directory. Required, so that a wrapper around a target cannot lose it and so read and
   * write the state somewhere else.
   */
  statePath(jwksPath: string): string;
}
