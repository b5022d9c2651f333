// Runs before every test file: a private CHAOSCAST_DIR for the file (the CLI's state, locks and
// journals, also of child processes, which inherit it), and removal of every temporary directory
// the file made.

import { afterAll } from "vitest";
import path from "node:path";
import { removeTempDirs, tempPath } from "./temp.js";

// Not created here: a file whose tests are all skipped never runs afterAll, and must leave nothing.
process.env.CHAOSCAST_DIR = path.join(tempPath("chaoscast-home-"), "chaoscast");

afterAll(() => removeTempDirs());
