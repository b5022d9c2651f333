// Runs before every test file: a private CHAOSCAST_DIR for the file (the CLI's state, locks and
// journals, also of child processes, which inherit it), removal of every temporary directory the
// file made, and the demo's media made once if it is not yet.

import { afterAll } from "vitest";
import path from "node:path";
import { removeTempDirs, tempPath } from "./temp.js";
import { ensureDemoMedia, onPath } from "../../src/demo/origin.js";

// Not created here: a file whose tests are all skipped never runs afterAll, and must leave nothing.
process.env.CHAOSCAST_DIR = path.join(tempPath("chaoscast-home-"), "chaoscast");

afterAll(() => removeTempDirs());

// The demo's media ladder is made with ffmpeg on first use (src/demo/origin.ts, about 15 s): made
// here, before the first file that needs it (the other workers wait for it), it stays out of
// tests' own timeouts, the CLI's and the demo's containers' included. Without ffmpeg, the tests
// that need the media fail with the origin's advice to install it.
if (onPath("ffmpeg")) await ensureDemoMedia();
