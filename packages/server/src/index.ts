export type { DirectoryDocumentSource, DocumentSource, KeysDocumentSource } from "./document-source.js";
export { ServeError, type ServeErrorCode } from "./errors.js";
export { type ListenAddress, parseListenAddress } from "./listen-address.js";
export type { ServerLogEntry, ServerLogger } from "./server-log.js";
export { serverLogLine } from "./server-log-line.js";
export {
  DEFAULT_SERVER_LIMITS,
  type IssuerServer,
  type IssuerServerOptions,
  type ReloadOutcome,
  type ServerLimits,
  startIssuerServer,
} from "./start-issuer-server.js";
