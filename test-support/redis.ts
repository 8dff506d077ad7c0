// A Redis for the queue tests: CI's (SR2SE_TEST_REDIS_URL, started by .ci/run), else a private
// redis-server started here on a free loopback port. With neither, a test in CI fails saying so and
// a local run skips (never a silent pass).
import { spawn, spawnSync } from "node:child_process";
import { createServer, Socket } from "node:net";

/** A Redis the tests may use: its URL (with the database a test file owns) and how to let it go. */
export interface TestRedis {
  url: string;
  stop(): Promise<void>;
}

/** Returns a free TCP port on loopback. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Sends commands to the Redis at `url` and resolves to its raw replies (RESP), for setup only. */
export function redisCommands(url: string, commands: string[][]): Promise<string> {
  const u = new URL(url);
  const encode = (args: string[]) =>
    `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
  const all = [
    ...(u.password ? [["AUTH", decodeURIComponent(u.password)]] : []),
    ...(u.pathname.length > 1 ? [["SELECT", u.pathname.slice(1)]] : []),
    ...commands,
  ];
  return new Promise((resolve, reject) => {
    const sock = new Socket();
    let reply = "";
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`redis at ${u.host}: no reply`));
    }, 5000);
    sock.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on("data", (d) => {
      reply += d;
      if (reply.split("\r\n").filter((l) => /^[+\-:]/.test(l)).length >= all.length) {
        clearTimeout(timer);
        sock.end();
        resolve(reply);
      }
    });
    sock.connect(Number(u.port || 6379), u.hostname, () => sock.write(all.map(encode).join("")));
  });
}

/**
 * Returns a Redis for a test file, its database `db` emptied first (test files running at once use
 * different ones); null where there is none and this is not CI (the caller skips). Throws in CI.
 */
export async function testRedis(db: number): Promise<TestRedis | null> {
  const fromEnv = process.env.SR2SE_TEST_REDIS_URL;
  if (fromEnv) {
    const url = `${fromEnv.replace(/\/\d*$/, "")}/${db}`;
    await redisCommands(url, [["FLUSHDB"]]);
    return { url, stop: async () => {} };
  }
  if (spawnSync("redis-server", ["--version"]).status !== 0) {
    if (process.env.CI)
      throw new Error(
        "the queue tests need Redis: set SR2SE_TEST_REDIS_URL or install redis-server (.ci/run does both)",
      );
    process.stderr.write("queue tests skipped: no SR2SE_TEST_REDIS_URL and no redis-server here\n");
    return null;
  }
  const port = await freePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  const url = `redis://127.0.0.1:${port}/${db}`;
  for (let i = 0; ; i++) {
    try {
      await redisCommands(url, [["PING"]]);
      break;
    } catch (err) {
      if (i > 100 || child.exitCode !== null) {
        child.kill("SIGKILL");
        throw new Error(`redis-server on port ${port} did not start: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** A private redis-server that a test may stop and start again on the same port, its data kept on disk. */
export interface RestartableRedis extends TestRedis {
  /** Stops the server (it writes its append-only file), waits `downMs`, and starts it again. */
  restart(downMs?: number): Promise<void>;
}

/**
 * Starts a private redis-server with an append-only file (every write synced), as a deployment that
 * must survive a restart runs it; null where redis-server is not installed (outside CI: skip).
 */
export async function restartableRedis(dir: string): Promise<RestartableRedis | null> {
  if (spawnSync("redis-server", ["--version"]).status !== 0) {
    if (process.env.CI) throw new Error("the Redis restart test needs redis-server (.ci/run installs it)");
    return null;
  }
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}/0`;
  let child: ReturnType<typeof spawn>;
  const start = async () => {
    child = spawn(
      "redis-server",
      [
        ...["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ""],
        ...["--appendonly", "yes", "--appendfsync", "always"],
      ],
      { stdio: "ignore" },
    );
    for (let i = 0; ; i++) {
      try {
        await redisCommands(url, [["PING"]]);
        return;
      } catch (err) {
        if (i > 200 || child.exitCode !== null) {
          child.kill("SIGKILL");
          throw new Error(`redis-server on port ${port} did not start: ${(err as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  await start();
  return {
    url,
    stop,
    async restart(downMs = 1000) {
      await stop();
      await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
  };
}
