export { oidcProviderArn, parseRoleArn, providerHostPath, type RoleArn, requireRoleArn } from "./arn.js";
export { audienceProblem, DEFAULT_AUDIENCE, MAX_AUDIENCES } from "./audience.js";
export {
  AWS_REQUEST_TIMEOUT_MS,
  type AwsClientSettings,
  awsClientConfig,
  makeAwsClient,
  watchAwsRequests,
} from "./aws-client.js";
export { makeIamClient, makeStsClient, partitionOfSdkRegion } from "./aws-clients.js";
export {
  type AwsFailure,
  type AwsOperation,
  awsFix,
  describeAwsFailure,
  translateAwsError,
} from "./aws-error.js";
export { loadAwsSdk } from "./aws-sdk.js";
export { type CallerIdentityOptions, callerIdentity } from "./caller-identity.js";
export { IamError, type IamErrorCode } from "./errors.js";
export {
  type ConditionClause,
  type ConditionContext,
  type ConditionEvaluation,
  type ConditionOptions,
  evaluateConditions,
  type Truth,
} from "./iam-condition.js";
export { MAX_JWKS_KEYS } from "./jwks-limit.js";
export {
  ensureOidcProvider,
  lookUpOidcProvider,
  MANAGED_BY_TAG,
  type OidcProviderOptions,
  type OidcProviderOutcome,
  type ProviderLookup,
} from "./oidc-provider.js";
export { type Partition, partitionOf } from "./partition.js";
export { parsePolicyText } from "./policy-text.js";
export { resolvedRegion, validateRegion } from "./region.js";
export { lookUpRole, type RoleLookup } from "./role.js";
export {
  MIN_TOKEN_EXPIRATION_SECONDS,
  parseServiceAccount,
  SERVICE_ACCOUNT_ANNOTATIONS,
  type ServiceAccountRef,
  serviceAccountSubject,
} from "./service-account.js";
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
export { matchesWildcard } from "./wildcard.js";
