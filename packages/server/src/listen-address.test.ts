import { describe, expect, it } from "vitest";
import { ServeError } from "./errors.js";
import { isLoopbackHost, parseListenAddress } from "./listen-address.js";

describe("parseListenAddress", () => {
  it.each([
    ["127.0.0.1:8443", { host: "127.0.0.1", port: 8443 }],
    ["0.0.0.0:80", { host: "0.0.0.0", port: 80 }],
    [":8443", { host: "", port: 8443 }],
    ["[::1]:8443", { host: "::1", port: 8443 }],
    ["[::]:0", { host: "::", port: 0 }],
    ["localhost:65535", { host: "localhost", port: 65535 }],
    ["oidc.internal:443", { host: "oidc.internal", port: 443 }],
  ])("reads %s", (text, expected) => {
    expect(parseListenAddress(text)).toEqual(expected);
  });

  it.each([
    "8443",
    "127.0.0.1",
    "127.0.0.1:",
    "127.0.0.1:65536",
    "::1:8443",
    "[localhost]:80",
    "a b:80",
    "host:80x",
  ])("refuses %j", (text) => {
    expect(() => parseListenAddress(text)).toThrow(ServeError);
    try {
      parseListenAddress(text);
    } catch (error) {
      expect((error as ServeError).code).toBe("ERR_LISTEN_ADDRESS_INVALID");
    }
  });
});

describe("isLoopbackHost", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["::1", true],
    ["::ffff:127.0.0.1", true],
    ["localhost", true],
    ["LOCALHOST", true],
    ["", false],
    ["0.0.0.0", false],
    ["::", false],
    ["10.0.0.1", false],
    ["128.0.0.1", false],
    ["localhost.example.com", false],
  ])("%j: %s", (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});
