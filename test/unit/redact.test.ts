import { describe, expect, it } from "vitest";
import { makeRedactor } from "../../src/engine/redact.js";

describe("secret scrubbing", () => {
  it("replaces every occurrence of a secret in nested strings and keys", () => {
    const redact = makeRedactor(["tok-12345"]);
    expect(redact({ a: "Bearer tok-12345", b: ["x tok-12345 y"], "tok-12345": 1 })).toEqual({ a: "Bearer ***", b: ["x *** y"], "***": 1 });
  });

  it("leaves text alone when there are no secrets or they are too short to scrub safely", () => {
    expect(makeRedactor([])({ a: "1" })).toEqual({ a: "1" });
    expect(makeRedactor(["1"])({ a: "port 18080" })).toEqual({ a: "port 18080" });
  });

  it("scrubs the longer secret first when one contains another", () => {
    expect(makeRedactor(["abcd", "abcdefgh"])("x abcdefgh y")).toBe("x *** y");
  });
});
