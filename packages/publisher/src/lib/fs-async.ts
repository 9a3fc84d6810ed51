// node:fs's callbacks as promises, for the directory target and its lock. Not node:fs/promises:
// loading that module costs a cold start of `publish --out-dir` about 2 ms of bare Node's 30-40
// (bench/cold-start.mjs), and these calls behave the same either way.
import {
  mkdir as mkdirCallback,
  readFile as readFileCallback,
  rename as renameCallback,
  rm as rmCallback,
  stat as statCallback,
  writeFile as writeFileCallback,
} from "node:fs";
import { promisify } from "node:util";

export const mkdir = promisify(mkdirCallback);
export const readFile = promisify(readFileCallback);
export const rename = promisify(renameCallback);
export const rm = promisify(rmCallback);
export const stat = promisify(statCallback);
export const writeFile = promisify(writeFileCallback);
