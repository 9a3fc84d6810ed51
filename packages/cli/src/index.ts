export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./exit-codes.js";
