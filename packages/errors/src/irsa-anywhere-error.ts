/**
 * Whose fault a failure is: the caller's `input` (a malformed key, an invalid issuer, a file that
 * is too large; the CLI exits 2), or the `environment` (the network, permissions, a server's
 * answer; the CLI exits 1). As smithy's `$fault`, which says `client` or `server`.
 *
 * @example
 * const fault: Fault = "input";
 */
export type Fault = "input" | "environment";

/**
 * Each code of a package's code union with its fault, declared once beside the union. Being a
 * mapped type over the union, a code added to the union without its fault does not compile.
 *
 * @example
 * type GreetingErrorCode = "ERR_NAME_INVALID" | "ERR_GREETER_UNREACHABLE";
 * const faults: FaultTable<GreetingErrorCode> = {
 *   ERR_NAME_INVALID: "input",
 *   ERR_GREETER_UNREACHABLE: "environment",
 * };
 */
export type FaultTable<Code extends string> = { readonly [C in Code]: Fault };

/**
 * The base of every error irsa-anywhere throws, as jose's `JOSEError`: each package has its own
 * subclass (`KeysError`, `PublishError`, ...) and union of codes. `code` is stable: assert on it,
 * not on the message. The message is one line that says what was wrong and what to do; it never
 * holds key material, credentials or a token.
 *
 * @example
 * const keys = publicKeysFromPem(await readFile("sa.pub", "utf8"), "sa.pub");
 * try {
 *   await publish({ keys, outDir: "site", issuer: "https://oidc.example.com/prod" });
 * } catch (error) {
 *   if (!(error instanceof IrsaAnywhereError)) throw error; // a bug: show it in full
 *   console.error(`${error.code}: ${error.message}`);
 *   process.exitCode = error.fault === "input" ? 2 : 1;
 * }
 */
export class IrsaAnywhereError<Code extends string = string> extends Error {
  override readonly name: string = "IrsaAnywhereError";
  /** Stable, such as `ERR_KEY_TOO_SMALL`. */
  readonly code: Code;
  /** Whose fault the failure is; see {@link Fault}. */
  readonly fault: Fault;

  /**
   * @example
   * type GreetingErrorCode = "ERR_NAME_INVALID";
   * const faults: FaultTable<GreetingErrorCode> = { ERR_NAME_INVALID: "input" };
   * class GreetingError extends IrsaAnywhereError<GreetingErrorCode> {
   *   override readonly name = "GreetingError";
   *   constructor(code: GreetingErrorCode, message: string, options?: { cause?: unknown }) {
   *     super(code, faults[code], message, options);
   *   }
   * }
   */
  constructor(code: Code, fault: Fault, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.fault = fault;
  }

  /**
   * `true` when the caller's input is at fault: the same as `fault === "input"`, for callers
   * written before `fault`.
   *
   * @example
   * try {
   *   validateIssuer("http://oidc.example.com/prod");
   * } catch (error) {
   *   if (error instanceof IrsaAnywhereError && error.isInputError) console.error(`usage: ${error.message}`);
   *   else throw error;
   * }
   */
  get isInputError(): boolean {
    return this.fault === "input";
  }
}
