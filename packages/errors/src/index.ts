export { type Fault, type FaultTable, IrsaAnywhereError } from "./irsa-anywhere-error.js";
export { quoteInput } from "./quote-input.js";
