import { buildJwks, serializeJwks } from "@irsa-anywhere/keys";
import { emit } from "../emit.js";
import { type KeySourceArgs, readKeys } from "../key-sources.js";

export interface KeysArgs extends KeySourceArgs {
  out?: string | undefined;
  "empty-kid": boolean;
}

export async function runKeys(args: KeysArgs): Promise<void> {
  const keys = await readKeys(args);
  await emit(serializeJwks(buildJwks(keys, { emptyKidTwin: args["empty-kid"] })), args.out);
}
