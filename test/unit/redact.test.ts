import { describe, expect, it } from "vitest";
import { makeRedactor, protectSecrets, restoreSecrets, secretRefs } from "../../src/engine/redact.js";

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

describe("secrets in state files", () => {
  const env = { API_TOKEN: "s3cr3t-value", OTHER: "s3cr3t-value", CI: "1" };
  const data = { url: "http://127.0.0.1:8080/flags?token=s3cr3t-value", headers: { authorization: "Bearer s3cr3t-value" }, startTime: "1197948" };

  it("are written as placeholders naming the variable they came from, and restored by rollback", () => {
    const used = new Map<string, string>();
    const stored = protectSecrets({ "s3cr3t-value": "API_TOKEN", "1": "CI" })(data, used);
    expect(JSON.stringify(stored)).not.toContain("s3cr3t-value");
    expect(stored.headers.authorization).toBe("Bearer ${env:API_TOKEN}");
    // Too short to be scrubbed anywhere: rewriting "1" would corrupt unrelated numbers.
    expect(stored.startTime).toBe("1197948");
    const refs = secretRefs(used);
    expect(refs.map((r) => r.name)).toEqual(["API_TOKEN"]);
    expect(JSON.stringify(refs)).not.toContain("s3cr3t-value");
    expect(restoreSecrets(stored, refs, env)).toEqual(data);
  });

  it("make rollback refuse, naming the variable, when it is unset or holds another value", () => {
    const used = new Map<string, string>();
    const stored = protectSecrets({ "s3cr3t-value": "API_TOKEN" })(data, used);
    const refs = secretRefs(used);
    expect(() => restoreSecrets(stored, refs, {})).toThrow(/needs the environment variable API_TOKEN/);
    expect(() => restoreSecrets(stored, refs, { API_TOKEN: "rotated-value" })).toThrow(/API_TOKEN no longer holds the value the run used/);
  });
});
