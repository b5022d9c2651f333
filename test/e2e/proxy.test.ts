import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { execa } from "execa";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { CLI, freePort, startServer, waitForOutput, workdir, type TestServer } from "../helpers/processes.js";

let upstream: TestServer;
beforeEach(async () => {
  upstream = await startServer();
});
afterEach(async () => {
  await upstream.stop();
});

describe("chaoscast proxy", () => {
  it("serves the proxies from --config, takes toxics over its API, and removes them all on SIGTERM", async () => {
    const dir = workdir();
    const [apiPort, linkPort] = [await freePort(), await freePort()];
    const config = path.join(dir, "proxies.yaml");
    writeFileSync(config, `- { name: edge, listen: "127.0.0.1:${linkPort}", upstream: "127.0.0.1:${upstream.port}" }\n`);
    const child = execa(process.execPath, [CLI, "proxy", "--api", `127.0.0.1:${apiPort}`, "--config", config], { reject: false, all: true });
    await waitForOutput(child, "edge:");
    expect((await fetch(`http://127.0.0.1:${linkPort}/health`)).status).toBe(200);
    const created = await fetch(`http://127.0.0.1:${apiPort}/proxies/edge/toxics`, { method: "POST", body: JSON.stringify({ type: "timeout", attributes: { timeout: 0 } }) });
    expect(created.status).toBe(200);
    await expect(fetch(`http://127.0.0.1:${linkPort}/health`, { signal: AbortSignal.timeout(300) })).rejects.toThrow();
    child.kill("SIGTERM");
    const result = await child;
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toMatch(/SIGTERM: removing every toxic and closing every link/);
  });

  it("explains a config file it cannot use, with exit 4", async () => {
    const dir = workdir();
    const config = path.join(dir, "bad.yaml");
    writeFileSync(config, "proxies: nope\n");
    const result = await execa(process.execPath, [CLI, "proxy", "--api", "127.0.0.1:0", "--config", config], { reject: false });
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toMatch(/expected a list of proxies/);
  });
});
