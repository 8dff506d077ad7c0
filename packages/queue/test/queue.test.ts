// The queue on a real Redis: results come back in chunk order, a worker refuses kinds it does not
// run and arguments its schema refuses, and a URL's password never shows.
import path from "node:path";
import { Queue } from "bullmq";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { expectPacksOnlyDist } from "../../../test-support/package.js";
import { expectExamplePrintsWhatItSays } from "../../../test-support/readme.js";
import { type TestRedis, testRedis } from "../../../test-support/redis.js";
import {
  defineJobKind,
  jobIdOf,
  QUEUE_NAME,
  redactRedisUrl,
  redisConnection,
  runChunks,
  startWorker,
} from "../src/index.js";

const redis: TestRedis | null = await testRedis(2);

describe("redis URLs", () => {
  it("redacts the password and user name", () => {
    expect(redactRedisUrl("redis://alice:s3cret@db.example:6380/2")).toBe(
      "redis://***:***@db.example:6380/2",
    );
    expect(redactRedisUrl("not a url s3cret")).not.toContain("s3cret");
  });

  it("parses host, port, password and database, and refuses other schemes without echoing the password", () => {
    expect(redisConnection("redis://:pw@127.0.0.1:6390/3")).toMatchObject({
      host: "127.0.0.1",
      port: 6390,
      password: "pw",
      db: 3,
    });
    expect(() => redisConnection("http://:s3cret@host")).toThrow(/redis:\/\/ or rediss:\/\//);
    expect(() => redisConnection("http://:s3cret@host")).not.toThrow(/s3cret/);
  });

  it("gives the same work the same job id", () => {
    expect(jobIdOf("square", { n: [1] })).toBe(jobIdOf("square", { n: [1] }));
    expect(jobIdOf("square", { n: [1] })).not.toBe(jobIdOf("square", { n: [2] }));
  });
});

describe.skipIf(!redis)("the queue on Redis", () => {
  const url = redis?.url ?? "";
  afterAll(() => redis?.stop());

  it("runs the README's example", async () => {
    process.env.SR2SE_REDIS_URL = url;
    await expectExamplePrintsWhatItSays(
      import.meta.dirname,
      "@sr2se/queue",
      path.resolve(import.meta.dirname, "../src/index.ts"),
    );
  });

  it("refuses a job of a kind it does not run, and arguments its schema refuses, without retrying", async () => {
    const echo = defineJobKind({
      name: "echo",
      args: z.object({ text: z.string() }).strict(),
      run: async ({ text }) => text,
    });
    const worker = await startWorker({ url, kinds: [echo] });
    const queue = new Queue(QUEUE_NAME, { connection: redisConnection(url) });
    try {
      await expect(
        runChunks({ url, kind: "shell", chunks: [{ cmd: "rm -rf /" }], onResult: async () => {} }),
      ).rejects.toThrow(/kind "shell" is not one this worker runs \(echo\)/);
      await expect(
        runChunks({ url, kind: "echo", chunks: [{ text: 3 }], onResult: async () => {} }),
      ).rejects.toThrow(/invalid arguments: text:/);
      const failed = await queue.getFailed();
      expect(failed.map((j) => j.attemptsMade)).toEqual([1, 1]);
    } finally {
      await queue.close();
      await worker.close();
    }
  });
});

it("packs only its build, README and LICENSE", () => {
  expectPacksOnlyDist(path.resolve(import.meta.dirname, ".."));
});
