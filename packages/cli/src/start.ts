// The CLI's entry point. What is quick runs straight away: the help pages and --version, kept
// when the CLI was built, and the everyday forms of `keys`, `discovery` and `publish` (to a
// directory or a bucket).
// Everything else, including every mistake, goes to the full command line in main.ts, which loads
// yargs.
//
// The bundler turns this file into CommonJS (scripts/bundle-cli.mjs), so no top-level await.
import {
  type BuildTimeAnswers,
  buildTimeAnswer,
  buildTimeAnswersIn,
  mayHaveBuildTimeAnswer,
} from "./build-time-answers.js";
import { reportError, reportOutputErrors, writeStandardOutput } from "./failure.js";
import { parsePlainCommand } from "./plain-commands.js";

/**
 * Set by the bundler from the output of the full command line: the answers themselves in the
 * standalone file, null in the npm package's bundle, which reads them from the file beside it.
 */
declare const IRSA_ANYWHERE_ANSWERS: BuildTimeAnswers | null;

const argv = process.argv.slice(2);
const answer = mayHaveBuildTimeAnswer(argv)
  ? buildTimeAnswer(argv, IRSA_ANYWHERE_ANSWERS ?? buildTimeAnswersIn(__dirname))
  : undefined;
const plain = parsePlainCommand(argv);
// The pages, keys and discovery print without the stream, which would cost them its load (emit.ts).
if (answer === undefined && plain?.command !== "keys" && plain?.command !== "discovery") reportOutputErrors();
if (answer !== undefined) {
  writeStandardOutput(answer);
} else if (plain?.command === "keys") {
  // Imported here, not at the top, so that --help and --version never load node:crypto.
  import("./commands/keys.js").then(({ runKeys }) => runKeys(plain.args)).catch(reportError);
} else if (plain?.command === "discovery") {
  import("./commands/discovery.js").then(({ runDiscovery }) => runDiscovery(plain.args)).catch(reportError);
} else if (plain?.command === "publish") {
  // A chunk of its own (scripts/bundle-cli.mjs), loaded with require: import() would start the
  // ES module loader, and the chunk reports its own failures.
  const { publishIntoDirectory } =
    require("./publish-directory.js") as typeof import("./publish-directory.js");
  publishIntoDirectory(plain.args);
} else if (plain?.command === "publish-bucket") {
  // Its own chunk too: a directory's publish never parses the code for S3, CloudFront and IAM.
  const { publishIntoBucket } = require("./publish-bucket.js") as typeof import("./publish-bucket.js");
  publishIntoBucket(plain.args);
} else {
  import("./main.js").catch(reportError);
}
