/** `--[no-]empty-kid`, for every command that builds a JWKS. */
export const EMPTY_KID_OPTION = {
  type: "boolean",
  default: true,
  describe: 'Add the current key with kid "" for tokens from Kubernetes < 1.16',
} as const;
