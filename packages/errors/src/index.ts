export { InputError, type InputErrorCode } from "./input-error.js";
export { type Fault, type FaultTable, IrsaAnywhereError } from "./irsa-anywhere-error.js";
export { isDnsLabel, isDnsSubdomain } from "./kubernetes-names.js";
export { firstLine, formatMs } from "./message-parts.js";
export { measureNesting } from "./nesting-depth.js";
export { pemCertificateBlocks } from "./pem-certificates.js";
export { quoteInput } from "./quote-input.js";
export { INPUT_LIMITS, type ReadInputOptions, readInput } from "./read-input.js";
export { type RequestInFlight, requestsInFlight, trackRequest } from "./requests-in-flight.js";
