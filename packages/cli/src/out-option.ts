/** `--out FILE`, for the commands that print one document; emit() writes it. */
export const OUT_OPTION = {
  type: "string",
  requiresArg: true,
  describe: "Write to FILE (atomically; a symlink is written through) instead of stdout",
} as const;
