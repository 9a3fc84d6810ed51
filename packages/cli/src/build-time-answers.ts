/**
 * What the CLI prints for the arguments whose output is fixed when the CLI is built: `--help` and
 * `-h` at the top and for each command, and `--version`. The bundler runs the full command line
 * once for each and keeps what it printed (scripts/bundle-cli.mjs), so that a user reading the
 * help does not wait for yargs to load and lay out the same page again (bench/cold-start.mjs).
 * The pages have no colour and are not wrapped to the terminal (`.wrap(null)`), so they are the
 * same on every run.
 */
export type BuildTimeAnswers = Readonly<Record<string, string>>;

/** The key of an argument list in {@link BuildTimeAnswers}: NUL cannot occur inside an argument. */
export function answerKey(argv: readonly string[]): string {
  return argv.join("\0");
}

/** The stdout kept for exactly these arguments, or undefined when they need the real command line. */
export function buildTimeAnswer(argv: readonly string[], answers: BuildTimeAnswers): string | undefined {
  const key = answerKey(argv);
  return Object.hasOwn(answers, key) ? answers[key] : undefined;
}
