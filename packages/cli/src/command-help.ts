import type { Argv } from "yargs";

/** What every help page ends with. */
export const EXIT_CODES_EPILOGUE =
  "Exit codes: 0 success, 1 failure at run time (network, permissions), 2 bad input or usage.";

/** What every command's help ends with. */
export function withExitCodes<T>(yargs: Argv<T>) {
  return yargs.epilogue(EXIT_CODES_EPILOGUE);
}

/** How `--service-account` may be written (parseServiceAccount reads them all). */
export const SERVICE_ACCOUNT_FORMS = "NAMESPACE/NAME, NAMESPACE:NAME or system:serviceaccount:NAMESPACE:NAME";
