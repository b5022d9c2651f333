import { describe, expect, it } from "vitest";
import { interpolateDocument, parseVarFlag, variableNames } from "../../src/experiment/vars.js";

const run = (doc: unknown, cli: Record<string, string> = {}, env: Record<string, string> = {}) => interpolateDocument(doc, { cli, env });

describe("variables", () => {
  it("substitutes file defaults, keeping the type of a whole-value placeholder", () => {
    const out = run({ vars: { port: 8080, host: "127.0.0.1" }, url: "http://${vars.host}:${vars.port}/", port: "${vars.port}" });
    expect(out.problems).toEqual([]);
    expect(out.value).toMatchObject({ url: "http://127.0.0.1:8080/", port: 8080 });
  });

  it("lets CHAOSCAST_VAR_ override the file and --var override both", () => {
    const doc = { vars: { port: 1 }, a: "${vars.port}" };
    expect((run(doc, {}, { CHAOSCAST_VAR_port: "2" }).value as { a: unknown }).a).toBe(2);
    expect((run(doc, { port: "3" }, { CHAOSCAST_VAR_port: "2" }).value as { a: unknown }).a).toBe(3);
  });

  it("keeps ${env:…} values out of the display copy and records them as secrets", () => {
    const out = run({ headers: { authorization: "Bearer ${env:TOKEN}" } }, {}, { TOKEN: "s3cr3t-value" });
    expect(out.value).toEqual({ headers: { authorization: "Bearer s3cr3t-value" } });
    expect(out.display).toEqual({ headers: { authorization: "Bearer ${env:TOKEN}" } });
    expect(out.secrets).toEqual(["s3cr3t-value"]);
  });

  it("treats vars whose default reads the environment as secret too", () => {
    const out = run({ vars: { token: "${env:TOKEN}" }, h: "${vars.token}" }, {}, { TOKEN: "abcdef123" });
    expect(out.value).toMatchObject({ h: "abcdef123" });
    expect(out.display).toMatchObject({ h: "${vars.token}", vars: { token: "<secret>" } });
    expect(JSON.stringify(out.display)).not.toContain("abcdef123");
  });

  it("reports unknown variables with a suggestion and where they are", () => {
    const out = run({ vars: { port: 1 }, faults: [{ with: { p: "${vars.prot}" } }] });
    expect(out.problems).toHaveLength(1);
    expect(out.problems[0]!.path).toEqual(["faults", 0, "with", "p"]);
    expect(out.problems[0]!.message).toMatch(/unknown variable \$\{vars\.prot\} \(did you mean "port"\?\)/);
  });

  it("reports a missing environment variable by name", () => {
    const out = run({ a: "${env:NOPE_NOT_SET}" });
    expect(out.problems[0]!.message).toBe("environment variable NOPE_NOT_SET is not set (needed by ${env:NOPE_NOT_SET})");
  });

  it("rejects unknown placeholder kinds and lets $${ escape a literal", () => {
    expect(run({ a: "${foo}" }).problems[0]!.message).toMatch(/unknown placeholder/);
    expect(run({ a: "cost $${price}" }).value).toEqual({ a: "cost ${price}" });
  });

  it("parses --var flags and refuses ones without a name", () => {
    expect(parseVarFlag("a=b=c")).toEqual(["a", "b=c"]);
    expect(() => parseVarFlag("=x")).toThrow(/name=value/);
    expect(() => parseVarFlag("novalue")).toThrow(/name=value/);
  });

  it("does not mistake an escaped $${ in a default for a secret", () => {
    const out = run({ vars: { price: "$${amount}" }, a: "${vars.price}" });
    expect(out.display).toMatchObject({ vars: { price: "${amount}" }, a: "${amount}" });
  });

  it("keeps an override as text when the declared default is text", () => {
    const doc = { vars: { n: "x", port: 1, on: false }, a: "${vars.n}", b: "${vars.port}", c: "${vars.on}" };
    expect(run(doc, { n: "1", port: "9090", on: "true" }).value).toMatchObject({ a: "1", b: 9090, c: true });
  });

  it("lists the variables a document declares or uses", () => {
    expect(variableNames({ vars: { a: 1 }, x: ["${vars.b}", { y: "p ${vars.c} q" }] }).sort()).toEqual(["a", "b", "c"]);
  });

  it("explains an empty environment variable name", () => {
    expect(run({ a: "${env:}" }).problems[0]!.message).toMatch(/names no environment variable/);
  });

  it("keeps a secret's placeholder, not its value, in the title, description, tags and names, in the run copy too", () => {
    const doc = {
      vars: { region: "eu" },
      title: "Edge in ${vars.region} with ${env:TOKEN}",
      description: "Uses ${vars.token}",
      tags: ["${env:TOKEN}", "plain"],
      faults: [{ name: "break ${env:TOKEN}", with: { header: "Bearer ${env:TOKEN}" } }],
      steadyState: [{ name: "${vars.token} probe" }],
      rollbacks: [{ name: "undo $${literal} ${env:TOKEN}" }],
    };
    const out = run(doc, {}, { TOKEN: "s3cr3t-value", CHAOSCAST_VAR_token: "from-the-env" });
    expect(out.problems).toEqual([]);
    expect(out.value).toMatchObject({
      title: "Edge in eu with ${env:TOKEN}",
      description: "Uses ${vars.token}",
      tags: ["${env:TOKEN}", "plain"],
      faults: [{ name: "break ${env:TOKEN}", with: { header: "Bearer s3cr3t-value" } }],
      steadyState: [{ name: "${vars.token} probe" }],
      rollbacks: [{ name: "undo ${literal} ${env:TOKEN}" }],
    });
    const { vars: _vars, faults, ...shown } = out.value as { vars: unknown; faults: { name: string }[] };
    const names = JSON.stringify([shown, faults.map((f) => f.name)]);
    expect(names).not.toContain("s3cr3t-value");
    expect(names).not.toContain("from-the-env");
  });

  it("refuses a secret in lock:, where the scope is an identifier, at the lock key", () => {
    for (const [lock, env] of [
      ["edge-${env:SCOPE}", { SCOPE: "team-a" }],
      ["${vars.scope}", { CHAOSCAST_VAR_scope: "team-a" }],
    ] as const) {
      const out = run({ vars: { scope: "x" }, lock }, {}, env);
      expect(out.problems).toHaveLength(1);
      expect(out.problems[0]!.path).toEqual(["lock"]);
      expect(out.problems[0]!.message).toMatch(/^secrets cannot be used in lock: /);
      expect(JSON.stringify(out)).not.toMatch(/"lock":"[^"]*team-a/);
    }
    expect(run({ lock: "edge-${vars.scope}" }, { scope: "team-a" }).value).toEqual({ lock: "edge-team-a" });
  });
});

describe("a variable used many times", () => {
  it("is refused, located, once its substitutions pass the size bound, instead of growing the document without limit", () => {
    const big = "x".repeat(512 * 1024);
    const doc = { vars: { big }, faults: Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, with: { body: "${vars.big}" } })) };
    const result = interpolateDocument(doc, { cli: {}, env: {} });
    expect(result.problems).toEqual([expect.objectContaining({ path: ["faults", 8, "with", "body"], message: expect.stringMatching(/past 4 MiB of substituted text/) })]);
  });
});
