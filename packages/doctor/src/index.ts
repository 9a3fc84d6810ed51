export {
  CHECK_IDS,
  type Check,
  type CheckCode,
  type CheckId,
  type CheckStatus,
  type Diagnosis,
  STS_ERRORS,
} from "./check.js";
export { type DiagnoseOptions, diagnose, STS_TIMEOUT_MS } from "./diagnose.js";
export { DoctorError, type DoctorErrorCode } from "./errors.js";
export {
  type ClusterSigningKeyOptions,
  type SigningKey,
  signingKeyFromCluster,
  signingKeyFromPem,
} from "./signing-key.js";
