import { describe, expect, it } from "vitest";
import { wireResponse } from "./prepared-response.js";

describe("wireResponse", () => {
  it("keeps an ASCII body also as a string of the very same bytes, to send with the head in one write", () => {
    const body = Buffer.from('{"keys": []}\n');
    const response = wireResponse(200, [], body);
    expect(response.asciiBody).toBe('{"keys": []}\n');
    expect(Buffer.from(response.asciiBody ?? "", "latin1")).toEqual(body);
  });

  it("sends any other body as its bytes", () => {
    expect(wireResponse(200, [], Buffer.from('{"name": "é"}')).asciiBody).toBeUndefined();
    expect(wireResponse(304, [], undefined).asciiBody).toBeUndefined();
  });
});
