// The hostile corpus of what chaoscast finds on disk and in its environment: planted state files,
// links, FIFOs, devices, foreign owners, loose permissions, escape sequences. Each case is one file
// in test/fixtures/hostile/ that says what to plant, what to run (the built CLI), and what must come
// of it. Whatever the case, the CLI must answer within a deadline, with a documented exit code, no
// stack trace and nothing raw on the terminal, and must never signal a process it was not meant to.

import { spawnSync, type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { execa } from "execa";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { CLI, ROOT } from "../helpers/processes.js";
import { tempDir } from "../helpers/temp.js";

const CORPUS = path.join(ROOT, "test", "fixtures", "hostile");
const DEADLINE_MS = 30_000;
const STACK_LINE = /^\s+at .+(:\d+:\d+\)?|\(native\)|<anonymous>\)?)$/m;
// NO_COLOR is set, so any control character but a newline is something that was not escaped.
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

const Planted = z
  .object({
    path: z.string(),
    /** A state file: these fields over a valid one whose run id is the file name's. */
    state: z.record(z.string(), z.unknown()).optional(),
    json: z.unknown().optional(),
    text: z.string().optional(),
    /** Written one byte per character (bytes that are not UTF-8). */
    latin1: z.string().optional(),
    /** `bytes` copies of `fill` (a file larger than any chaoscast should read). */
    fill: z.string().optional(),
    bytes: z.number().int().optional(),
    /** Added to the end of the file (made if missing), `times` times. */
    append: z.string().optional(),
    times: z.number().int().optional(),
    fifo: z.boolean().optional(),
    dir: z.boolean().optional(),
    symlink: z.string().optional(),
    mode: z.string().regex(/^0[0-7]{3,4}$/).optional(),
    uid: z.number().int().optional(),
  })
  .strict();

const Case = z
  .object({
    says: z.string(),
    plant: z.array(Planted).default([]),
    /**
     * Start a `sleep` (or this command, {node} being Node) that the case may name as {sleeper} /
     * {sleeperStart}; it must still be running, not stopped, after.
     */
    sleeper: z.union([z.boolean(), z.array(z.string()).min(1)]).default(false),
    env: z.record(z.string(), z.string()).default({}),
    argv: z.array(z.string()),
    exit: z.number().int(),
    output: z.array(z.string()).default([]),
    never: z.array(z.string()).default([]),
    /** Not in the output nor in any file the case's directory holds after, in any encoding. */
    nowhere: z.array(z.string()).default([]),
    unchanged: z.array(z.string()).default([]),
    exists: z.array(z.string()).default([]),
    gone: z.array(z.string()).default([]),
  })
  .strict();
type Case = z.output<typeof Case>;

function startTimeOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]!;
}

function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

/** A pid that belonged to a process which has exited: the owner of a run that died. */
const deadPid = spawnSync("true").pid;

type Tokens = Record<string, string>;

function fill(text: string, tokens: Tokens): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => tokens[name] ?? whole);
}

const PID_TOKENS = new Set(["parent", "sleeper"]);

/** Tokens in JSON values; a string that is only a pid token becomes a number, as a run writes pids. */
function fillValue(value: unknown, tokens: Tokens): unknown {
  if (typeof value === "string") {
    const whole = /^\{(\w+)\}$/.exec(value);
    if (whole && PID_TOKENS.has(whole[1]!) && tokens[whole[1]!] !== undefined) return Number(tokens[whole[1]!]);
    return fill(value, tokens);
  }
  if (Array.isArray(value)) return value.map((v) => fillValue(v, tokens));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillValue(v, tokens)]));
  return value;
}

/** A state file chaoscast would have written for a run of `runId` that died with one fault injected. */
function stateOf(runId: string, overrides: Record<string, unknown>): unknown {
  const now = new Date().toISOString();
  const base: Record<string, unknown> = {
    version: 1,
    runId,
    owner: { pid: deadPid, startTime: "1", host: hostname() },
    experiment: { file: "/srv/experiments/planted.yaml", title: "planted run" },
    startedAt: now,
    updatedAt: now,
    status: "running",
    faults: [],
  };
  return { ...base, ...overrides };
}

function plant(entry: z.output<typeof Planted>, tokens: Tokens): string {
  const file = fill(entry.path, tokens);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  if (entry.append !== undefined) appendFileSync(file, fill(entry.append, tokens).repeat(entry.times ?? 1), { mode: 0o600 });
  else if (entry.dir) mkdirSync(file, { recursive: true });
  else if (entry.fifo) spawnSync("mkfifo", [file]);
  else if (entry.symlink !== undefined) symlinkSync(fill(entry.symlink, tokens), file);
  else if (entry.state) writeFileSync(file, `${JSON.stringify(stateOf(path.basename(file, ".json"), fillValue(entry.state, tokens) as Record<string, unknown>), null, 2)}\n`, { mode: 0o600 });
  else if (entry.json !== undefined) writeFileSync(file, `${JSON.stringify(fillValue(entry.json, tokens), null, 2)}\n`, { mode: 0o600 });
  else if (entry.fill !== undefined) writeFileSync(file, entry.fill.repeat(Math.ceil((entry.bytes ?? 0) / Math.max(1, entry.fill.length))), { mode: 0o600 });
  else if (entry.latin1 !== undefined) writeFileSync(file, Buffer.from(entry.latin1, "latin1"), { mode: 0o600 });
  else writeFileSync(file, fill(entry.text ?? "", tokens), { mode: 0o600 });
  if (entry.mode) chmodSync(file, Number.parseInt(entry.mode, 8));
  if (entry.uid !== undefined) chownSync(file, entry.uid, entry.uid);
  return file;
}

/** Every regular file under `dir`, with its bytes (FIFOs and devices are not read). */
function filesUnder(dir: string): { file: string; text: string }[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((name) => path.join(dir, name))
    .filter((file) => lstatSync(file).isFile())
    .map((file) => ({ file, text: readFileSync(file, "latin1") }));
}

/** The forms a secret can take on its way out: raw, JSON-escaped, URL-encoded, base64. */
function encodings(secret: string): string[] {
  return [...new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret), Buffer.from(secret).toString("base64")])];
}

/** What a path is now, to tell whether a command changed it (content, type, mode, link target). */
function snapshot(file: string): string {
  try {
    const info = lstatSync(file);
    if (info.isSymbolicLink()) return `link ${readlinkSync(file)}`;
    if (info.isFIFO()) return `fifo ${info.mode}`;
    if (info.isDirectory()) return `dir ${info.mode} ${readdirSync(file).sort().join(",")}`;
    return `file ${info.mode} ${info.uid} ${readFileSync(file, "latin1")}`;
  } catch (err) {
    return `missing (${(err as NodeJS.ErrnoException).code})`;
  }
}

const cases = readdirSync(CORPUS)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map((f) => ({ name: f.replace(/\.yaml$/, ""), spec: Case.parse(parseYaml(readFileSync(path.join(CORPUS, f), "utf8"))) }));

const sleepers: ChildProcess[] = [];
afterEach(() => {
  for (const child of sleepers.splice(0)) {
    child.kill("SIGCONT");
    child.kill("SIGKILL");
  }
});

async function runCase(spec: Case): Promise<void> {
  const dir = tempDir("chaoscast-hostile-");
  const tokens: Tokens = { dir, cc: path.join(dir, "cc"), home: path.join(dir, "home"), parent: String(process.pid), parentStart: startTimeOf(process.pid), host: hostname() };
  mkdirSync(tokens.home!, { recursive: true });
  let sleeper: ChildProcess | undefined;
  if (spec.sleeper) {
    const [command, ...args] = spec.sleeper === true ? ["sleep", "120"] : spec.sleeper.map((a) => a.replaceAll("{node}", process.execPath));
    sleeper = spawn(command!, args, { stdio: "ignore" });
    sleepers.push(sleeper);
    tokens.sleeper = String(sleeper.pid);
    tokens.sleeperStart = startTimeOf(sleeper.pid!);
  }
  for (const entry of spec.plant) plant(entry, tokens);
  const before = new Map(spec.unchanged.map((p) => [fill(p, tokens), snapshot(fill(p, tokens))]));

  const result = await execa(process.execPath, [CLI, ...spec.argv.map((a) => fill(a, tokens))], {
    cwd: dir,
    env: { CI: "1", NO_COLOR: "1", HOME: tokens.home, CHAOSCAST_DIR: tokens.cc, ...Object.fromEntries(Object.entries(spec.env).map(([k, v]) => [k, fill(v, tokens)])) },
    extendEnv: true,
    all: true,
    reject: false,
    stdin: "ignore",
    timeout: DEADLINE_MS,
  });
  const shown = `exit ${result.exitCode}${result.timedOut ? " (timed out)" : ""}:\n${result.all}`;
  expect(result.timedOut, shown).toBe(false);
  expect(result.exitCode, shown).toBe(spec.exit);
  expect(result.all, shown).not.toMatch(STACK_LINE);
  expect(result.all, shown).not.toMatch(RAW_CONTROL);
  expect(result.all, shown).not.toContain("a bug in chaoscast");
  for (const text of spec.output) expect(result.all, shown).toContain(fill(text, tokens));
  for (const text of spec.never) expect(result.all, shown).not.toContain(fill(text, tokens));
  for (const [file, was] of before) expect(snapshot(file), `${file} changed`).toBe(was);
  for (const file of spec.exists) expect(existsSync(fill(file, tokens)), `${fill(file, tokens)} should exist`).toBe(true);
  for (const file of spec.gone) expect(existsSync(fill(file, tokens)), `${fill(file, tokens)} should be gone`).toBe(false);
  for (const secret of spec.nowhere.map((text) => fill(text, tokens))) {
    for (const form of encodings(secret)) {
      expect(result.all, shown).not.toContain(form);
      for (const { file, text } of filesUnder(dir)) expect(text, `${file} holds the secret (${form})`).not.toContain(form);
    }
  }
  if (sleeper) expect(processState(sleeper.pid!), "the sleeper was signalled").toMatch(/^[RS]$/);
  // The case's own files go (CHAOSCAST_DIR included), also those planted with another owner.
  rmSync(dir, { recursive: true, force: true });
}

describe("the hostile corpus of files, state and environment", () => {
  it.for(cases)("$name: $spec.says", async ({ spec }, { skip }) => {
    // Planting a file of another owner takes root (CI runs as root; a laptop may not).
    if (spec.plant.some((p) => p.uid !== undefined) && process.geteuid?.() !== 0) skip("needs root to plant a file of another owner");
    await runCase(spec);
  });
});
