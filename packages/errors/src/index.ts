export { type Fault, type FaultTable, IrsaAnywhereError } from "./irsa-anywhere-error.js";
export { QUOTED_INPUT_MAX, quoteInput } from "./quote-input.js";
