// node:fs's callbacks as promises, for every package that reads or writes files on a path a cold
// start takes (readInput, the CLI's --out, the directory target and its lock). Not
// node:fs/promises: loading that module costs `keys` and `publish --out-dir` 2 to 3 ms of bare
// Node's 30-40 (bench/cold-start.mjs), and these calls behave the same either way.
import {
  chmod as chmodCallback,
  close as closeCallback,
  fstat as fstatCallback,
  lstat as lstatCallback,
  mkdir as mkdirCallback,
  open as openCallback,
  read as readCallback,
  readFile as readFileCallback,
  readlink as readlinkCallback,
  rename as renameCallback,
  rm as rmCallback,
  stat as statCallback,
  writeFile as writeFileCallback,
} from "node:fs";
import { promisify } from "node:util";

export const chmod = promisify(chmodCallback);
export const close = promisify(closeCallback);
export const fstat = promisify(fstatCallback);
export const lstat = promisify(lstatCallback);
export const mkdir = promisify(mkdirCallback);
export const open = promisify(openCallback);
export const read = promisify(readCallback);
export const readFile = promisify(readFileCallback);
export const readlink = promisify(readlinkCallback);
export const rename = promisify(renameCallback);
export const rm = promisify(rmCallback);
export const stat = promisify(statCallback);
export const writeFile = promisify(writeFileCallback);
