import { SERVICE_ACCOUNT_FORMS } from "./command-help.js";

/** A repeatable option's values: yargs gives one value as a string, several as an array. */
export function repeated(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : [value].flat();
}

/** --service-account, repeatable, of the commands that let service accounts into a role. */
export const SERVICE_ACCOUNTS_OPTION = {
  type: "string",
  nargs: 1,
  describe: `${SERVICE_ACCOUNT_FORMS}; repeatable`,
} as const;

/** --namespace-wide, repeatable: a grant wider than most roles need, given only on purpose. */
export const NAMESPACE_WIDE_OPTION = {
  type: "string",
  nargs: 1,
  describe: "Let in every service account of NAMESPACE (StringLike system:serviceaccount:NS:*), repeatable",
} as const;
