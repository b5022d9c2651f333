// EC2 throttles busy accounts with RequestLimitExceeded; chaoscast's client must retry with backoff
// rather than fail a preflight or, worse, a revert. A local server answers as EC2 does: throttled
// twice, then the real answer.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import type { AddressInfo } from "node:net";

let server: http.Server;
let calls = 0;
let throttleFirst = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      calls += 1;
      res.setHeader("content-type", "text/xml");
      if (calls <= throttleFirst) {
        res.statusCode = 503;
        res.end('<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>t</RequestID></Response>');
        return;
      }
      expect(body).toContain("Action=DescribeInstances");
      res.end('<?xml version="1.0" encoding="UTF-8"?><DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>ok</requestId><reservationSet/></DescribeInstancesResponse>');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_EC2: `http://127.0.0.1:${port}`,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: "/nonexistent/chaoscast-test-aws-config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/chaoscast-test-aws-credentials",
  });
});
afterAll(() => {
  server.close();
});

describe("EC2 throttling", () => {
  it("is retried with backoff until EC2 answers", async () => {
    const { ec2For } = await import("../../src/adapters/ec2/connection.js");
    const { describeInstances } = await import("../../src/adapters/ec2/targets.js");
    calls = 0;
    throttleFirst = 2;
    const ec2 = await ec2For("us-east-1", undefined);
    expect(await describeInstances(ec2, { filters: { "tag:role": "x" } })).toEqual([]);
    expect(calls).toBe(3);
  });
});
