export { type ClusterKeyOptions, publicKeysFromCluster } from "./cluster.js";
export { type ClusterJwksOptions, publicKeysFromClusterJwks } from "./cluster-jwks.js";
export { KeysError, type KeysErrorCode } from "./errors.js";
export {
  assertPublicJwk,
  type EcPublicJwk,
  jwkFromPublicKey,
  PRIVATE_JWK_MEMBERS,
  type PublicJwk,
  publicSigningKeyFromJwk,
  type RsaPublicJwk,
} from "./jwk.js";
export {
  type BuildJwksOptions,
  buildJwks,
  currentSigningKey,
  distinctKeys,
  type Jwks,
  type ParsedJwks,
  parseJwks,
  serializeJwks,
} from "./jwks.js";
export {
  type GeneratedKeyPair,
  generateSigningKey,
  SIGNING_KEY_TYPES,
  type SigningKeyType,
} from "./keygen.js";
export { type KubeconfigOptions, loadKubeconfig } from "./lib/kubeconfig.js";
export { publicKeysFromPem } from "./pem-keys.js";
export { INPUT_LIMITS, type ReadInputOptions, readInput } from "./read-input.js";
export { type RequestInFlight, requestsInFlight, trackRequest } from "./requests-in-flight.js";
export { parseManifest, publicKeysFromSecretData, publicKeysFromSecretManifest } from "./secret.js";
export {
  kidForPublicKey,
  MIN_RSA_BITS,
  type PublicSigningKey,
  type SigningAlgorithm,
  toPublicSigningKey,
} from "./signing-key.js";
export { type SigningKeySecretOptions, signingKeySecretManifest } from "./signing-key-secret.js";
export { type SecretWatch, watchClusterSecret } from "./watch-cluster-secret.js";
