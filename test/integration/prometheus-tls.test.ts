// The Prometheus client over TLS: a private CA trusted through caFile, an untrusted certificate
// refused unless insecureSkipVerify says otherwise, and a client certificate for a server that asks
// for one. The server is node:https on 127.0.0.1 with certificates made by openssl for the test.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PrometheusConnectionSchema } from "../../src/contract/prometheus-connection.js";
import { PrometheusClient, PrometheusError } from "../../src/prometheus/client.js";
import { tempDir } from "../helpers/temp.js";

const dir = tempDir();
const file = (name: string) => path.join(dir, name);
const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });

beforeAll(() => {
  // A CA, a server certificate for 127.0.0.1 signed by it, and a client certificate signed by it.
  openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", file("ca.key"), "-out", file("ca.pem"), "-days", "2", "-subj", "/CN=test-ca");
  for (const [name, subject, ext] of [
    ["server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1"],
    ["client", "/CN=chaoscast", "extendedKeyUsage=clientAuth"],
  ] as const) {
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", file(`${name}.key`), "-out", file(`${name}.csr`), "-subj", subject);
    execFileSync("sh", ["-c", 'printf "%s\\n" "$1" > "$2"', "sh", ext, file(`${name}.ext`)]);
    openssl("x509", "-req", "-in", file(`${name}.csr`), "-CA", file("ca.pem"), "-CAkey", file("ca.key"), "-CAcreateserial", "-out", file(`${name}.pem`), "-days", "2", "-extfile", file(`${name}.ext`));
  }
});

const ANSWER = JSON.stringify({ status: "success", data: { resultType: "vector", result: [{ metric: { job: "api" }, value: [1, "0.5"] }] } });

async function serve(requireClientCert: boolean): Promise<{ url: string; close: () => Promise<void>; clients: string[] }> {
  const clients: string[] = [];
  const server = https.createServer(
    { key: readFileSync(file("server.key")), cert: readFileSync(file("server.pem")), ca: readFileSync(file("ca.pem")), requestCert: requireClientCert, rejectUnauthorized: requireClientCert },
    (req, res) => {
      const peer = (req.socket as import("node:tls").TLSSocket).getPeerCertificate();
      if (peer?.subject?.CN) clients.push(String(peer.subject.CN));
      res.writeHead(200, { "content-type": "application/json" }).end(ANSWER);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `https://127.0.0.1:${port}`, clients, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const client = (connection: Record<string, unknown>) => new PrometheusClient(PrometheusConnectionSchema.parse({ timeout: "3s", ...connection }));
const ask = (c: PrometheusClient) => c.query("up", { signal: new AbortController().signal });

describe("the Prometheus client over TLS", () => {
  let plain: Awaited<ReturnType<typeof serve>>;
  let mutual: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    plain = await serve(false);
    mutual = await serve(true);
  });
  afterAll(async () => {
    await plain?.close();
    await mutual?.close();
  });

  it("trusts a server whose certificate a caFile's CA signed", async () => {
    const result = await ask(client({ url: plain.url, tls: { caFile: file("ca.pem") } }));
    expect(result).toEqual({ kind: "vector", series: [{ labels: { job: "api" }, value: 0.5 }] });
  });

  it("refuses a certificate it cannot verify, saying why, unless insecureSkipVerify says otherwise", async () => {
    const refused = await ask(client({ url: plain.url })).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(PrometheusError);
    expect((refused as PrometheusError).failure).toBe("unreachable");
    expect((refused as Error).message).toMatch(/certificate/i);
    expect((await ask(client({ url: plain.url, tls: { insecureSkipVerify: true } }))).kind).toBe("vector");
  });

  it("presents a client certificate to a server that asks for one, and is refused without it", async () => {
    const withCert = await ask(client({ url: mutual.url, tls: { caFile: file("ca.pem"), certFile: file("client.pem"), keyFile: file("client.key") } }));
    expect(withCert.kind).toBe("vector");
    expect(mutual.clients).toContain("chaoscast");
    const without = await ask(client({ url: mutual.url, tls: { caFile: file("ca.pem") } })).catch((err: unknown) => err);
    expect(without).toBeInstanceOf(PrometheusError);
  });

  it("says which TLS file it cannot read", async () => {
    const missing = await ask(client({ url: plain.url, tls: { caFile: file("nope.pem") } })).catch((err: unknown) => err);
    expect((missing as Error).message).toMatch(/cannot read the CA file .*nope\.pem: ENOENT/);
  });

  it("is refused a client certificate without its key, at validation", () => {
    expect(PrometheusConnectionSchema.safeParse({ url: plain.url, tls: { certFile: file("client.pem") } }).success).toBe(false);
  });
});
