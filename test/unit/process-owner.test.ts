// Which command lines own runs: `rollback --all` SIGKILLs a live run's process only when its
// command line is Node running chaoscast's run or demo, never a process that merely mentions it.

import { describe, expect, it } from "vitest";
import { isChaoscastRun } from "../../src/util/process-owner.js";
import { jsonNestsDeeperThan } from "../../src/util/json-depth.js";

describe("isChaoscastRun", () => {
  it.each([
    ["node running the launcher's run command", ["/usr/bin/node", "/srv/app/node_modules/chaoscast/bin/chaoscast.js", "run", "e.yaml", "--yes"]],
    ["an installed link with a global flag first", ["node", "/usr/local/bin/chaoscast", "--no-color", "run", "experiments/"]],
    ["Node's own options before the script", ["/opt/node24/bin/node", "--enable-source-maps", "/srv/chaoscast/dist/cli/main.js", "demo"]],
    ["a versioned node binary", ["node22", "/srv/bin/chaoscast.js", "run", "x.yaml"]],
  ])("accepts %s", (_name, argv) => {
    expect(isChaoscastRun(argv)).toBe(true);
  });

  it.each([
    ["a pager on a chaoscast log", ["tail", "-f", "/var/log/chaoscast-run.log"]],
    ["an editor on a chaoscast file", ["vim", "/srv/chaoscast/bin/chaoscast.js"]],
    ["node evaluating text that mentions chaoscast run", ["node", "-e", "setTimeout(() => {}, 1e5)", "/opt/chaoscast/bin/chaoscast.js", "run"]],
    ["chaoscast's fault proxy", ["node", "/srv/bin/chaoscast.js", "proxy", "--api", "127.0.0.1:8474"]],
    ["another chaoscast rollback", ["node", "/srv/bin/chaoscast.js", "rollback", "--all"]],
    ["the watchdog", ["node", "/srv/chaoscast/dist/watchdog/main.js", "chaoscast-watchdog", "123"]],
    ["a script named like chaoscast under another directory", ["node", "/tmp/not-chaoscast.js", "run"]],
    ["an empty command line (a zombie or kernel thread)", [""]],
  ])("refuses %s", (_name, argv) => {
    expect(isChaoscastRun(argv)).toBe(false);
  });
});

describe("jsonNestsDeeperThan", () => {
  it("counts arrays and objects, not brackets inside strings", () => {
    expect(jsonNestsDeeperThan('{"a": [[1]]}', 3)).toBe(false);
    expect(jsonNestsDeeperThan('{"a": [[[1]]]}', 3)).toBe(true);
    expect(jsonNestsDeeperThan('{"a": "[[[[[[\\"[[[["}', 1)).toBe(false);
  });

  it("answers a million levels in one pass", () => {
    expect(jsonNestsDeeperThan(`${"[".repeat(1_000_000)}${"]".repeat(1_000_000)}`, 64)).toBe(true);
  });
});
