/**
 * What the CLI prints for the arguments whose output is fixed when the CLI is built: `--help` and
 * `-h` at the top and for each command, and `--version`. The bundler runs the full command line
 * once for each and keeps what it printed (scripts/bundle-cli.mjs), so that a user reading the
 * help does not wait for yargs to load and lay out the same page again (bench/cold-start.mjs).
 * The pages have no colour and are not wrapped to the terminal (`.wrap(null)`), so they are the
 * same on every run.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export type BuildTimeAnswers = Readonly<Record<string, string>>;

/**
 * The file beside the entry point's bundle that holds the answers, as JSON. They are three
 * quarters of what the entry point would otherwise parse on every start, for the few arguments
 * that print them; the standalone file, which has no files beside it, holds them inside.
 */
export const BUILD_TIME_ANSWERS_FILE = "answers.json";

/** The key of an argument list in {@link BuildTimeAnswers}: NUL cannot occur inside an argument. */
export function answerKey(argv: readonly string[]): string {
  return argv.join("\0");
}

/**
 * Whether these arguments have the shape of a kept answer (a help page or `--version`), so that
 * the answers are worth reading; the bundler refuses to keep an answer for any other shape.
 */
export function mayHaveBuildTimeAnswer(argv: readonly string[]): boolean {
  const last = argv.at(-1);
  return last === "--help" || last === "-h" || (argv.length === 1 && last === "--version");
}

/** The stdout kept for exactly these arguments, or undefined when they need the real command line. */
export function buildTimeAnswer(argv: readonly string[], answers: BuildTimeAnswers): string | undefined {
  const key = answerKey(argv);
  return Object.hasOwn(answers, key) ? answers[key] : undefined;
}

/**
 * The answers kept in `directory`'s {@link BUILD_TIME_ANSWERS_FILE}, or none when it cannot be
 * read (an install missing the file): the full command line then prints the same page itself.
 */
export function buildTimeAnswersIn(directory: string): BuildTimeAnswers {
  let answers: unknown;
  try {
    answers = JSON.parse(readFileSync(join(directory, BUILD_TIME_ANSWERS_FILE), "utf8"));
  } catch {
    return {};
  }
  // Anything but an object of pages (a file damaged into other JSON) is no answer either.
  const pages =
    typeof answers === "object" &&
    answers !== null &&
    !Array.isArray(answers) &&
    Object.values(answers).every((page) => typeof page === "string");
  return pages ? (answers as BuildTimeAnswers) : {};
}
