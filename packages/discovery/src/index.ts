export { DiscoveryError, type DiscoveryErrorCode } from "./errors.js";
export {
  type DocumentPaths,
  documentPaths,
  documentRequestPaths,
  issuerHostPath,
  issuerPath,
  validateIssuer,
} from "./issuer.js";
export {
  type OpenIdConfiguration,
  type OpenIdConfigurationOptions,
  openIdConfiguration,
  serializeOpenIdConfiguration,
} from "./openid-configuration.js";
