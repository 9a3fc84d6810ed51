export { type IssuerConfigEdit, setClusterSpecIssuer, setKubeadmIssuer } from "./cluster-config.js";
export { DiscoveryError, type DiscoveryErrorCode } from "./errors.js";
export {
  type HttpsAnswer,
  type HttpsFailure,
  type HttpsGetOptions,
  httpsGet,
  isFailure,
} from "./https-get.js";
export {
  type DocumentPaths,
  documentPaths,
  documentPathsUnder,
  documentRequestPaths,
  issuerHostPath,
  issuerPath,
  validateIssuer,
} from "./issuer.js";
export {
  jwksUriOf,
  type OpenIdConfiguration,
  type OpenIdConfigurationOptions,
  openIdConfiguration,
  serializeOpenIdConfiguration,
} from "./openid-configuration.js";
