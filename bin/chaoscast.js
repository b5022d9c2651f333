#!/usr/bin/env node
// Thin launcher into the compiled CLI (dist/ is built by `npm ci` / `npm run build`).
import module from "node:module";

// Who started us, read before anything slow: a run notices when this process goes away.
const launchedBy = process.ppid;

// Node >= 22.1 caches compiled code between runs: a faster start for every command.
module.enableCompileCache?.();

const { main } = await import("../dist/cli/main.js");
const code = await main(process.argv.slice(2), launchedBy);
// Let stdout/stderr drain (they are asynchronous on pipes) before leaving.
process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
