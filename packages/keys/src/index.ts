export { type ClusterKeyOptions, type KubeconfigOptions, publicKeysFromCluster } from "./cluster.js";
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
  hasKeySource,
  type KeySourceSpec,
  type KeySources,
  readKeySources,
  splitKeySources,
} from "./key-sources.js";
export {
  type GeneratedKeyPair,
  generateSigningKey,
  SIGNING_KEY_TYPES,
  type SigningKeyType,
} from "./keygen.js";
export { publicKeysFromPem } from "./pem-keys.js";
export { type PrivateSigningKey, privateSigningKeyFromPem } from "./private-signing-key.js";
export { parseManifest, publicKeysFromSecretData, publicKeysFromSecretManifest } from "./secret.js";
export {
  kidForPublicKey,
  MIN_RSA_BITS,
  type PublicSigningKey,
  type SigningAlgorithm,
  toPublicSigningKey,
} from "./signing-key.js";
export { type SigningKeySecretOptions, signingKeySecretManifest } from "./signing-key-secret.js";
