// How to reach a Prometheus-compatible query API (Prometheus, Thanos, Mimir, VictoriaMetrics): the
// same block in a `prometheus` probe, an experiment's `budget:` gate and `chaoscast budget`.

import { z } from "zod";
import { DurationSchema, HttpHeadersSchema } from "./common-schemas.js";

const AuthSchema = z.union(
  [
    z.object({ bearer: z.string().min(1).meta({ description: 'A bearer token; write it as "${env:PROM_TOKEN}" so it stays out of the file.' }) }).strict(),
    z
      .object({
        basic: z.object({ username: z.string().min(1), password: z.string().meta({ description: 'Write it as "${env:PROM_PASSWORD}".' }) }).strict(),
      })
      .strict(),
  ],
  { error: 'expected { bearer: "${env:TOKEN}" } or { basic: { username: …, password: "${env:PASSWORD}" } }' },
);

const TlsSchema = z
  .object({
    caFile: z.string().min(1).optional().meta({ description: "PEM file of the CA that signed the server's certificate." }),
    certFile: z.string().min(1).optional().meta({ description: "PEM client certificate, for servers that ask for one (with keyFile)." }),
    keyFile: z.string().min(1).optional().meta({ description: "PEM private key of the client certificate." }),
    insecureSkipVerify: z.boolean().default(false).meta({ description: "Accept any server certificate (test servers only)." }),
  })
  .strict()
  .refine((tls) => (tls.certFile === undefined) === (tls.keyFile === undefined), { message: "give certFile and keyFile together" });

export const PrometheusConnectionSchema = z
  .object({
    url: z.url({ protocol: /^https?$/, error: "expected the http(s) URL of a Prometheus-compatible API, e.g. http://127.0.0.1:9090" }).meta({
      description: "Base URL of the Prometheus-compatible API (the part before /api/v1/query), e.g. http://127.0.0.1:9090.",
    }),
    auth: AuthSchema.optional().meta({ description: "Bearer token or basic auth; take the secret from the environment with ${env:NAME}." }),
    headers: HttpHeadersSchema.default({}).meta({ description: "Extra request headers, e.g. X-Scope-OrgID for a multi-tenant Mimir or Cortex." }),
    tls: TlsSchema.optional(),
    timeout: DurationSchema.prefault("10s").meta({ description: "Give up on one query after this long." }),
  })
  .strict();

export type PrometheusConnection = z.output<typeof PrometheusConnectionSchema>;
