import { describe, expect, it } from "vitest";
import { judge, parseExpectation, type JudgeOptions } from "../../src/contract/expect.js";
import { compileSafeRegex, INLINE_WORK_LIMIT, MAX_PATTERN_LENGTH } from "../../src/util/safe-regex.js";
import { regexThreadsStarted } from "../../src/util/regex-thread.js";

const check = (expectation: unknown, fields: Record<string, unknown>, options?: JudgeOptions) => judge(parseExpectation(expectation), fields, "value", options);
const passes = async (expectation: unknown, value: unknown) => (await check(expectation, { value })).ok;
const refusal = (expectation: string) => {
  try {
    parseExpectation(expectation);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`${expectation} was accepted`);
};

let ab: string | undefined;
/** 1 MiB of a and b in a fixed pseudo-random order: no literal prefilter can skip any of it. */
function abText(): string {
  if (ab !== undefined) return ab;
  let seed = 7;
  const chars: string[] = [];
  for (let i = 0; i < 1 << 20; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    chars.push(seed & 0x100 ? "a" : "b");
  }
  ab = chars.join("");
  return ab;
}

/** Seconds of work for re2js on abText() (hundreds of NFA threads alive at every position): far past every deadline used here. */
const FOREVER = "/(a[ab]{100}){5}$/";

/** Resolves the promise while counting main-thread timer ticks until it settles. */
async function ticksWhile<T>(work: Promise<T>): Promise<{ result: T; ticks: number }> {
  let ticks = 0;
  const interval = setInterval(() => ticks++, 5);
  try {
    const result = await work;
    return { result, ticks };
  } finally {
    clearInterval(interval);
  }
}

describe("regexes in expect are refused when RE2 cannot run them", () => {
  it.each([
    ["/a(?=b)/", ["a lookahead (?=…) at character 2 is not supported", "exponential time", "/foo(?=bar)/ becomes /foobar/"]],
    ["/a(?!b)/", ["a negative lookahead (?!…)", "exponential time", "/a(?:[^b]|$)/"]],
    ["/(?<=id=)\\d+/", ["a lookbehind (?<=…) at character 1", "exponential time", "/id=\\d+/"]],
    ["/(?<!x)y/", ["a negative lookbehind (?<!…)", "/(?:^|[^x])y/"]],
    ["/(a)\\1/", ["a backreference \\1 at character 4", "exponential time", "write out the text"]],
    ["/(?<n>a)\\k<n>/", ["a named backreference \\k<…>", "exponential time"]],
    ["/(?>a+)b/", ["an atomic group (?>…)", "exponential time", "(?:…)"]],
    ["/a++b/", ["the possessive quantifier ++", "exponential time", "write +"]],
    ["/caf\\u00e9/", ["\\u00e9 at character 4 is JavaScript syntax", "write \\x{00e9}"]],
    ["/\\u{1F600}/", ["write \\x{1F600}"]],
    ["/a[^]b/", ["[^] (JavaScript for any character)", "write (?s:.) instead"]],
    ["/a[]b/", ["the empty class []", "write \\] for a literal ]"]],
    ["/\\cJ/", ["the control escape \\cJ", "write \\x{0a}"]],
    ["/end\\Z/", ["\\Z at character 4 is not supported", "write \\z"]],
    ["/x/v", ["the v flag", "remove it"]],
    ["/x/ii", ["the flag i is given twice"]],
    ["/\\p{Letter}/", ["RE2 has no Unicode class \\p{Letter}", "\\p{L}"]],
    ["/x{1001}/", ["the repeat count {1001} is too large"]],
  ])("%s is refused with what is not supported and what to write instead", (expectation, phrases) => {
    const message = refusal(expectation);
    expect(message).toMatch(/^(unsupported|invalid) regular expression /);
    for (const phrase of phrases) expect(message).toContain(phrase);
  });

  it(`refuses patterns longer than ${MAX_PATTERN_LENGTH} characters, and shortens them in the message`, () => {
    expect(() => compileSafeRegex("a".repeat(MAX_PATTERN_LENGTH), "")).not.toThrow();
    const message = refusal(`/${"a".repeat(MAX_PATTERN_LENGTH + 1)}/`);
    expect(message).toContain(`the pattern is ${MAX_PATTERN_LENGTH + 1} characters long, the limit is ${MAX_PATTERN_LENGTH}`);
    expect(message.length).toBeLessThan(300);
  });

  it("still calls a broken pattern invalid", () => {
    expect(refusal("/^#EXTM3U[/")).toMatch(/^invalid regular expression \/\^#EXTM3U\[\/: a character class opened with \[ is not closed/);
  });
});

describe("regexes in expect match with RE2", () => {
  it("applies the flags i, m and s", async () => {
    expect(await passes("/^#extm3u/", "#EXTM3U")).toBe(false);
    expect(await passes("/^#extm3u/i", "#EXTM3U")).toBe(true);
    expect(await passes("/^ok$/", "status\nok\ndone")).toBe(false);
    expect(await passes("/^ok$/m", "status\nok\ndone")).toBe(true);
    expect(await passes("/start.end/", "start\nend")).toBe(false);
    expect(await passes("/start.end/s", "start\nend")).toBe(true);
  });

  it("accepts u, g, y and d without changing what matches", async () => {
    for (const flags of ["u", "g", "y", "d", "gimsuyd"]) expect(await passes(`/caf\\x{e9}/${flags}`, "un café")).toBe(true);
    expect(await passes("/^.$/", "😀")).toBe(true);
  });

  it("matches a regex inside a field mapping, nested paths included", async () => {
    const fields = { status: 200, headers: { "content-type": "application/JSON" }, json: { data: { items: [{ id: "abc-1" }] } } };
    const expectation = { status: "2xx", headers: { "content-type": "/json/i" }, json: { "data.items[0].id": "/^[a-z0-9-]+$/" } };
    expect((await judge(parseExpectation(expectation), fields, "status")).ok).toBe(true);
    const verdict = await judge(parseExpectation({ json: { "data.items[0].id": "/^\\d+$/" } }), fields, "status");
    expect(verdict.failures).toEqual(['json.data.items[0].id "abc-1" does not match /^\\d+$/']);
  });

  it("finishes a catastrophic pattern against 100k characters, not matching", async () => {
    const verdict = await check("/^(a+)+$/", { value: `${"a".repeat(100_000)}!` }, { deadlineMs: 30_000 });
    expect(verdict.ok).toBe(false);
    expect(verdict.failures[0]).toMatch(/^value "a+\.\.\." does not match \/\^\(a\+\)\+\$\/$/);
  });

  it("matches large texts on the worker thread and gives the same answers", async () => {
    const body = `#EXTM3U\n${"x".repeat(1 << 20)}`;
    expect(compileSafeRegex("^#EXTM3U", "").size * body.length).toBeGreaterThan(INLINE_WORK_LIMIT);
    const results = await Promise.all([passes("/^#EXTM3U/", body), passes("/^#EXTINF/", body), passes("/x{1000}$/", body)]);
    expect(results).toEqual([true, false, true]);
  });
});

describe("regex matching never blocks the event loop", () => {
  it("keeps main-thread timers ticking while a large match runs, and fails it with a message when its deadline passes", async () => {
    const text = abText();
    const { result, ticks } = await ticksWhile(check(FOREVER, { value: text }, { deadlineMs: 300 }));
    expect(ticks).toBeGreaterThanOrEqual(3);
    expect(result.ok).toBe(false);
    expect(result.failures).toEqual([
      `value: the regex /(a[ab]{100}){5}$/ did not finish matching within 300ms (text of ${text.length} characters); counted as not matching`,
    ]);
  });

  it("replaces the worker after a timeout, and the next match works", async () => {
    const text = abText();
    await check(FOREVER, { value: text }, { deadlineMs: 100 });
    const before = regexThreadsStarted();
    expect(await passes("/^[ab]+$/", text)).toBe(true);
    expect(regexThreadsStarted()).toBe(before + 1);
    expect(await passes("/c/", text)).toBe(false);
    expect(regexThreadsStarted()).toBe(before + 1);
  });

  it("lets a match queued behind a slow one finish once the slow one is cut off", async () => {
    const text = abText();
    const [slow, quick] = await Promise.all([check(FOREVER, { value: text }, { deadlineMs: 200 }), check("/^[ab]+$/", { value: text }, { deadlineMs: 20_000 })]);
    expect(slow.failures[0]).toMatch(/did not finish matching within 200ms/);
    expect(quick.ok).toBe(true);
  });

  it("stops matching when the run is cancelled", async () => {
    const controller = new AbortController();
    const verdict = check(FOREVER, { value: abText() }, { deadlineMs: 20_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect((await verdict).failures).toEqual(["value: matching the regex /(a[ab]{100}){5}$/ was cancelled; counted as not matching"]);
  });
});
