// `chaoscast proxy`: run the fault proxy standalone (a drop-in for Toxiproxy's server) until
// SIGINT/SIGTERM, then remove every toxic and close every link.

import os from "node:os";
import { LineCounter, parseDocument } from "yaml";
import { expansionProblem, firstAliasOffset, versionDirectiveProblem } from "../../experiment/yaml-guards.js";
import { FileReadError, readRegularText } from "../../util/safe-read.js";
import { forTerminal } from "../../util/terminal-text.js";
import { UsageError } from "../../errors.js";
import type { ProxyInput } from "../../proxy/collection.js";
import { ProxyApiError } from "../../proxy/errors.js";
import { startProxyServer } from "../../proxy/server.js";
import type { CommonOptions } from "../shared.js";

export interface ProxyCommandOptions extends CommonOptions {
  api: string;
  config?: string;
  workers?: string;
}

/** Most relay processes `auto` starts, and that a number may ask for. */
const MAX_WORKERS = 64;

/**
 * How many relay processes: auto leaves one core to the main process on machines of more than two
 * cores, up to 8, and starts none on two (there the client and the server being tested already keep
 * both busy, and a second relay only competes with them).
 */
export function relayProcesses(value: string | undefined, cores = os.availableParallelism()): number {
  if (value === undefined || value === "auto") return cores > 2 ? Math.min(cores - 1, 8) : 0;
  if (!/^\d{1,2}$/.test(value) || Number(value) > MAX_WORKERS) throw new UsageError(`--workers ${forTerminal(value)}: expected auto or a whole number from 0 to ${MAX_WORKERS}`);
  return Number(value);
}

export async function proxyCommand(options: ProxyCommandOptions): Promise<number> {
  const workers = relayProcesses(options.workers);
  const proxies = options.config ? await readConfig(options.config) : [];
  const log = (message: string) => process.stderr.write(`${new Date().toISOString()} ${message}\n`);
  let server;
  try {
    server = await startProxyServer({
      api: options.api,
      proxies,
      relayProcesses: workers,
      events: {
        onRelayExit: (message) => log(message),
        onToxicExpired: (proxy, toxic) => log(toxic === "(down)" ? `lease expired: proxy ${proxy} is up again` : `lease expired: removed toxic ${toxic} from ${proxy}`),
        onLeaseError: (proxy, message) => log(`lease on ${proxy} not honoured yet (${message}); retrying every second`),
      },
    });
  } catch (err) {
    if (err instanceof ProxyApiError) throw new UsageError(forTerminal(`--config ${options.config}: ${err.message}`));
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot serve the API on ${options.api}: ${code === "EADDRINUSE" ? "the address is in use (is Toxiproxy or another chaoscast proxy running?)" : (err as Error).message}`);
  }
  process.stdout.write(`chaoscast proxy: API on ${server.url} (Toxiproxy-compatible)${workers > 0 ? `, TCP links relayed by ${workers} worker process(es)` : ""}\n`);
  if (!/^(127\.|\[::1\]|localhost)/.test(options.api)) {
    log(`warning: the API on ${options.api} is reachable from other hosts; anyone who can reach it can inject faults`);
  }
  // One connection's unforeseen error must not take every link down with it: log and keep serving.
  const report = (err: unknown) => log(`unexpected error, still serving: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.on("uncaughtException", report);
  process.on("unhandledRejection", report);
  for (const proxy of server.collection.all()) process.stdout.write(`  ${proxy.name}: ${proxy.listen} → ${proxy.upstream}${proxy.enabled ? "" : " (disabled)"}\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(s, () => resolve(s));
  });
  log(`${signal}: removing every toxic and closing every link`);
  await server.close();
  return 0;
}

/** Proxy configs list a few links; a larger file is not one. */
const MAX_CONFIG_BYTES = 1024 * 1024;

async function readConfig(file: string): Promise<ProxyInput[]> {
  const shown = forTerminal(file);
  let text: string;
  try {
    text = await readRegularText(file, { maxBytes: MAX_CONFIG_BYTES, kind: "proxy configs" });
  } catch (err) {
    if (!(err instanceof FileReadError)) throw err;
    throw new UsageError(`--config ${shown}: ${err.reason}`);
  }
  const lines = new LineCounter();
  const at = (offset: number, message: string) => {
    const { line, col } = lines.linePos(offset);
    return new UsageError(`--config ${shown}:${line}:${col}: ${forTerminal(message)}`);
  };
  let doc;
  try {
    doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, strict: true, uniqueKeys: true });
  } catch (err) {
    throw at(0, `not valid YAML/JSON: ${/call stack/i.test((err as Error).message) ? "nested too deeply" : (err as Error).message}`);
  }
  const [error] = [...doc.errors, ...doc.warnings];
  if (error) throw at(error.pos[0], `not valid YAML/JSON: ${error.message.split("\n")[0]}`);
  const version = versionDirectiveProblem(doc, text);
  if (version) throw at(version.offset, version.message);
  const firstAlias = firstAliasOffset(doc);
  const expansion = expansionProblem(doc, MAX_CONFIG_BYTES, firstAlias);
  if (expansion) throw at(expansion.offset, expansion.message);
  let parsed: unknown;
  try {
    parsed = doc.toJS({ maxAliasCount: 50 });
  } catch (err) {
    throw at(firstAlias ?? 0, `cannot read it: ${(err as Error).message}`);
  }
  // Toxiproxy's config is a JSON list of proxies; a mapping with a `proxies:` list is accepted too.
  const list = Array.isArray(parsed) ? parsed : (parsed as { proxies?: unknown } | null)?.proxies;
  if (!Array.isArray(list)) throw new UsageError(`--config ${shown}: expected a list of proxies ({ name, listen, upstream })`);
  return list as ProxyInput[];
}
