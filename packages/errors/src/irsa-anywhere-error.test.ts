import { describe, expect, it } from "vitest";
import { type FaultTable, IrsaAnywhereError } from "./index.js";

type GreetingErrorCode = "ERR_NAME_INVALID" | "ERR_GREETER_UNREACHABLE";

const faults: FaultTable<GreetingErrorCode> = {
  ERR_NAME_INVALID: "input",
  ERR_GREETER_UNREACHABLE: "environment",
};

class GreetingError extends IrsaAnywhereError<GreetingErrorCode> {
  override readonly name = "GreetingError";
  constructor(code: GreetingErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, faults[code], message, options);
  }
}

describe("IrsaAnywhereError", () => {
  it("carries a package's code, the fault its table gives the code, and the cause", () => {
    const cause = new Error("ECONNREFUSED");
    const error = new GreetingError("ERR_GREETER_UNREACHABLE", "cannot reach the greeter", { cause });
    expect(error).toBeInstanceOf(IrsaAnywhereError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: "GreetingError",
      code: "ERR_GREETER_UNREACHABLE",
      fault: "environment",
      isInputError: false,
      message: "cannot reach the greeter",
      cause,
    });
    expect(String(error)).toBe("GreetingError: cannot reach the greeter");
  });

  it("says the input is at fault for an input code", () => {
    const error = new GreetingError("ERR_NAME_INVALID", "name is empty");
    expect(error.fault).toBe("input");
    expect(error.isInputError).toBe(true);
  });
});
