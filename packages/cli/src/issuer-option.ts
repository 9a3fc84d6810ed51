/** The issuer every command but keys and publish requires; `describe` says what it means there. */
export function issuerOption(describe: string, group?: string) {
  return {
    type: "string",
    demandOption: true,
    requiresArg: true,
    describe,
    ...(group ? { group } : {}),
  } as const;
}
