export type { RoleClientOptions } from "./clients.js";
export {
  ensureServiceAccountRole,
  INLINE_POLICY_NAME,
  type RoleChange,
  type ServiceAccountAnnotations,
  type ServiceAccountRoleOptions,
  type ServiceAccountRoleOutcome,
} from "./ensure-service-account-role.js";
export { RoleError, type RoleErrorCode } from "./errors.js";
export {
  type ListServiceAccountRolesOptions,
  listServiceAccountRoles,
  type ServiceAccountRole,
  type TrustedServiceAccount,
} from "./list-service-account-roles.js";
export {
  type RemoveServiceAccountRoleOptions,
  type RemoveServiceAccountRoleOutcome,
  removeServiceAccountRole,
} from "./remove-service-account-role.js";
