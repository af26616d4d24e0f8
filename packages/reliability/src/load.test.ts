import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { createAppStoreConnectClient } from "@asc-kit/core";
import { startSandbox } from "@asc-kit/sandbox";
import { describe, expect, it } from "vitest";

const requests = Number(process.env.ASC_KIT_LOAD_REQUESTS ?? 10_000);
const concurrency = 64;

// A collector to measure retained memory, not garbage waiting to be swept.
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;
const retainedHeap = () => {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().heapUsed;
};

describe("load", () => {
  it(`${requests} requests at concurrency ${concurrency}: no failures, one token, flat memory`, async () => {
    const sandbox = await startSandbox({ hourlyRequestLimit: requests * 2 });
    try {
      const client = createAppStoreConnectClient({ ...sandbox.credentials, baseUrl: sandbox.url });
      let started = 0;
      let failures = 0;
      const heapAt: number[] = [];
      const checkpoint = Math.floor(requests / 4);
      const worker = async () => {
        while (started < requests) {
          const number = ++started;
          const { error, data } = await client.GET("/v1/alternativeDistributionKeys", {
            params: { query: { limit: 10 } },
          });
          if (error || !data) failures++;
          if (number % checkpoint === 0) heapAt.push(retainedHeap());
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      const growth = (heapAt.at(-1)! - heapAt[0]!) / 1024 / 1024;
      console.log(
        `load: ${requests} requests, concurrency ${concurrency}, ${failures} failures, ${sandbox.stats.tokens} token(s), retained heap ${heapAt
          .map((bytes) => (bytes / 1024 / 1024).toFixed(1))
          .join(" → ")} MB`,
      );
      expect(failures).toBe(0);
      expect(sandbox.stats.requests).toBe(requests);
      expect(sandbox.stats.tokens).toBe(1);
      // Client and sandbox share this process; the sandbox's rate-limit window holds one number
      // per request by design (about 0.1 MB here), so allow a few MB, not a leak per request.
      expect(growth).toBeLessThan(8);
    } finally {
      await sandbox.stop();
    }
  });
});
