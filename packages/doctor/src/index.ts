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
  type ConditionClause,
  type ConditionContext,
  type ConditionEvaluation,
  type ConditionOptions,
  evaluateConditions,
  type Truth,
} from "./iam-condition.js";
export { parseServiceAccount, type ServiceAccountRef, serviceAccountSubject } from "./service-account.js";
export {
  type ClusterSigningKeyOptions,
  type SigningKey,
  signingKeyFromCluster,
  signingKeyFromPem,
  signingKeyFromSecretData,
  signingKeyFromSecretManifest,
} from "./signing-key.js";
export {
  type BuildTrustPolicyOptions,
  buildTrustPolicy,
  type TrustPolicyDocument,
  type TrustPolicyOptions,
  type TrustPolicyStatement,
  trustPolicy,
} from "./trust-policy.js";
export {
  evaluateTrustPolicy,
  type StatementEvaluation,
  type TrustPolicyEvaluation,
  type WebIdentityRequest,
} from "./trust-policy-evaluation.js";
export {
  type MergedTrustPolicy,
  mergeTrustPolicy,
  type RoleTrustPolicy,
  type RoleTrustPolicyOptions,
  trustPolicyForRole,
} from "./trust-policy-merge.js";
