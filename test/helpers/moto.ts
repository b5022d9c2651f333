// moto_server (moto 5, a widely used AWS emulator, preinstalled on these machines) for the EC2
// adapter's tests: one server per test file on 127.0.0.1, driven through the real AWS SDK. Without
// moto_server the tests skip with a note, unless CHAOSCAST_REQUIRE_SERVICES=1 (CI), where that fails.

import { execa, type ResultPromise } from "execa";
import { freePort } from "./processes.js";
import { pollUntil } from "./poll.js";

export interface Moto {
  url: string;
  /** The environment that points the SDK (and the CLI) at this moto, with throwaway credentials. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function motoAvailable(): Promise<boolean> {
  try {
    await execa("moto_server", ["--help"], { timeout: 30_000, stdin: "ignore" });
    return true;
  } catch (err) {
    const why = `moto_server does not run (${(err as Error).message.split("\n")[0]}); it is preinstalled on the CI machines (pip install "moto[server]")`;
    if (process.env.CHAOSCAST_REQUIRE_SERVICES === "1") throw new Error(`CHAOSCAST_REQUIRE_SERVICES=1 but ${why}`);
    process.stderr.write(`\n  skipped: EC2 adapter tests, ${why}.\n\n`);
    return false;
  }
}

export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const child: ResultPromise = execa("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { reject: false, stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  await pollUntil(async () => (await fetch(`${url}/moto-api/`).catch(() => undefined)) !== undefined, 30_000, "moto_server answering");
  return {
    url,
    env: {
      AWS_ENDPOINT_URL_EC2: url,
      AWS_ENDPOINT_URL_AUTO_SCALING: url,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_REGION: "us-east-1",
      // Never ask an instance metadata service: tests talk to 127.0.0.1 only.
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_CONFIG_FILE: "/nonexistent/chaoscast-test-aws-config",
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/chaoscast-test-aws-credentials",
    },
    async stop() {
      child.kill("SIGTERM");
      await child;
    },
  };
}
