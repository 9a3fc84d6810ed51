import { buildJwks, serializeJwks } from "@irsa-anywhere/keys";
import { type KeySourceArgs, readKeySources } from "../key-sources.js";
import { emit } from "../terminal.js";

export interface KeysArgs extends KeySourceArgs {
  out?: string | undefined;
  "empty-kid": boolean;
}

export async function runKeys(args: KeysArgs): Promise<void> {
  const keys = await readKeySources(args);
  await emit(serializeJwks(buildJwks(keys, { emptyKidTwin: args["empty-kid"] })), args.out);
}
