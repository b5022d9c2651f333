import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { makeRedactor, protectSecrets, restoreSecrets, secretRefs } from "../../src/contract/redact.js";
import { describeValue } from "../../src/util/describe.js";

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

describe("secrets in every encoding a service may echo them back in", () => {
  // A secret with a quote, a backslash, a slash, a space, a plus and a non-ASCII letter: each is
  // escaped differently by JSON, URLs and forms.
  const secret = 'p@ss "w\\rd"/+ é-tok';
  const redact = makeRedactor([secret]);
  const scrubbed = (text: string) => {
    const out = redact(text);
    expect(out).toContain("***");
    return out;
  };

  it("scrubs the raw value", () => {
    expect(scrubbed(`token=${secret};`)).toBe("token=***;");
  });

  it("scrubs it JSON-escaped, as a service's JSON body holds it, with either case of \\u escapes", () => {
    const inner = JSON.stringify(secret).slice(1, -1);
    expect(inner).toContain('\\"');
    expect(scrubbed(`{"echo":"${inner}"}`)).toBe('{"echo":"***"}');
    // Python (ensure_ascii) and PHP (escaped slashes) write the same string differently.
    const python = inner.replace("é", "\\u00e9");
    const php = inner.replace("/", "\\/").replace("é", "\\u00E9");
    expect(scrubbed(`{"echo":"${python}"}`)).toBe('{"echo":"***"}');
    expect(scrubbed(`{"echo":"${php}"}`)).toBe('{"echo":"***"}');
  });

  it("scrubs it doubly JSON-escaped, as in JSON inside a JSON string", () => {
    const inner = JSON.stringify(JSON.stringify({ token: secret }));
    const out = scrubbed(JSON.stringify({ body: JSON.parse(inner) as string }));
    expect(out).not.toContain("w\\\\\\\\rd");
    expect(out).toContain("***");
    expect(JSON.parse(JSON.parse(out).body as string)).toEqual({ token: "***" });
  });

  it("scrubs it URL-encoded, with upper or lower-case hex", () => {
    const upper = encodeURIComponent(secret);
    expect(scrubbed(`GET /x?token=${upper}&a=1`)).toBe("GET /x?token=***&a=1");
    expect(scrubbed(`GET /x?token=${upper.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase())}&a=1`)).toBe("GET /x?token=***&a=1");
  });

  it("scrubs it form-encoded, with + for spaces", () => {
    const form = new URLSearchParams({ token: secret }).toString();
    expect(form).toContain("+");
    expect(scrubbed(`body: ${form}&next=1`)).toBe("body: token=***&next=1");
  });

  it("scrubs it URL-encoded twice, as in a redirect URL inside a query", () => {
    const twice = encodeURIComponent(`https://cdn/?token=${encodeURIComponent(secret)}`);
    expect(scrubbed(`/login?next=${twice}`)).not.toContain(encodeURIComponent(encodeURIComponent(secret)));
  });

  it("scrubs it base64- and base64url-encoded inside longer data, whatever its alignment", () => {
    for (const encoding of ["base64", "base64url"] as const) {
      for (const before of ["", "a", "ab", "abc", "abcd"]) {
        const encoded = Buffer.from(`user:${before}${secret}:rest of it`).toString(encoding);
        const out = scrubbed(`Authorization: Basic ${encoded} end`);
        expect(out.startsWith("Authorization: Basic ")).toBe(true);
        expect(out.endsWith(" end")).toBe(true);
        // Whatever is left of the base64 text, read at any alignment, no longer holds the secret.
        for (const run of out.match(/[A-Za-z0-9+/_-]+/g) ?? []) {
          for (const pad of ["", "A", "AA", "AAA"]) {
            expect(Buffer.from(pad + run, encoding).toString("latin1")).not.toContain(Buffer.from(secret).toString("latin1"));
          }
        }
      }
    }
  });

  it("scrubs it hex-encoded, in either case", () => {
    const hex = Buffer.from(secret).toString("hex");
    expect(scrubbed(`dump 00ff${hex}00`)).toBe("dump 00ff***00");
    expect(scrubbed(`DUMP 00FF${hex.toUpperCase()}00`)).toBe("DUMP 00FF***00");
  });

  it("scrubs base64 inside a JSON body and a JSON body inside a query parameter", () => {
    const b64 = Buffer.from(secret).toString("base64");
    expect(scrubbed(JSON.stringify({ auth: b64.replaceAll("/", "\\/") }))).not.toContain(b64.slice(4, -4));
    const query = `q=${encodeURIComponent(JSON.stringify({ token: secret }))}`;
    expect(scrubbed(query)).not.toContain(encodeURIComponent(JSON.stringify(secret).slice(1, -1)));
  });

  it("scrubs any secret in any of these encodings, wherever it stands in ordinary text", () => {
    const encodings: [string, (v: string) => string][] = [
      ["raw", (v) => v],
      ["json", (v) => JSON.stringify(v).slice(1, -1)],
      ["json twice", (v) => JSON.stringify(JSON.stringify(v)).slice(1, -1)],
      ["url", encodeURIComponent],
      ["url, lower-case hex", (v) => encodeURIComponent(v).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase())],
      ["form", (v) => new URLSearchParams([["", v]]).toString().slice(1)],
      ["hex", (v) => Buffer.from(v).toString("hex")],
    ];
    const secrets = fc.string({ unit: fc.constantFrom(...Array.from('ab9 "\\/+%&=é\n🔥')), minLength: 4, maxLength: 16 });
    const around = fc.string({ unit: fc.constantFrom(...Array.from("xyz019 ,;:")), maxLength: 8 });
    fc.assert(
      fc.property(secrets, fc.constantFrom(...encodings), around, around, (value, [, encode], before, after) => {
        const out = makeRedactor([value])(`${before}${encode(value)}${after}`);
        expect(out).toContain("***");
        expect(out).not.toContain(encode(value));
      }),
      { seed: 20261124, numRuns: 500 },
    );
  });

  it("keeps the 4-character rule: shorter secrets are scrubbed in no encoding", () => {
    const short = makeRedactor(["a b"]);
    expect(short("a+b a%20b YSBi 612062")).toBe("a+b a%20b YSBi 612062");
  });

  it("answers large text with many escapes in linear time", () => {
    const text = "\\\\%41+".repeat(100_000);
    const started = performance.now();
    redact(text);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe("secrets in state files, encoded", () => {
  const secret = 'tok "x"/y+z é';
  const env = { API_TOKEN: secret };

  it("are written as placeholders naming the encoding, and restored to exactly the same text", () => {
    const data = {
      body: JSON.stringify({ token: secret }),
      nested: JSON.stringify({ body: JSON.stringify({ token: secret }) }),
      url: `http://127.0.0.1/flags?token=${encodeURIComponent(secret)}`,
      form: new URLSearchParams({ token: secret }).toString(),
      basic: `Basic ${Buffer.from(`admin:${secret}`).toString("base64")}`,
      hex: Buffer.from(`x${secret}`).toString("hex"),
    };
    const used = new Map<string, string>();
    const stored = protectSecrets({ [secret]: "API_TOKEN" })(data, used);
    const text = JSON.stringify(stored);
    for (const encoded of [JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret), new URLSearchParams({ t: secret }).toString().slice(2), Buffer.from(secret).toString("hex")]) {
      expect(text).not.toContain(encoded);
    }
    expect(stored.url).toBe("http://127.0.0.1/flags?token=${env:API_TOKEN|url}");
    expect(makeRedactor([secret])(stored)).toEqual(stored);
    const refs = secretRefs(used);
    expect(refs.map((r) => r.name)).toEqual(["API_TOKEN"]);
    expect(restoreSecrets(stored, refs, env)).toEqual(data);
  });
});

describe("a secret cut short in an error message", () => {
  it("is masked from its first character up to the cut", () => {
    const secret = "tok-9f8e7d6c5b4a3210";
    const quoted = describeValue(`${"x".repeat(50)}${secret}`);
    const redacted = makeRedactor([secret])(`expected a duration, found ${quoted}`);
    expect(redacted).not.toContain("tok-9f8");
    expect(redacted).toMatch(/x{50}\*\*\*\.\.\."$/);
  });
});
