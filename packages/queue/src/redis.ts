// Where the queue lives: a redis:// or rediss:// URL, which may carry a password that is never printed.
import type { ConnectionOptions } from "bullmq";

/** Returns the URL with its password (and user name) replaced by `***`, safe to print or log. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    if (u.username) u.username = "***";
    return u.toString();
  } catch {
    return "<unparseable redis URL>";
  }
}

/**
 * Returns the connection options of a `redis://[user:password@]host[:port][/db]` (or `rediss://`,
 * TLS) URL; throws naming the redacted URL where it is not one.
 */
export function redisConnection(url: string): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`queue URL ${redactRedisUrl(url)}: not a URL (expected redis://host:port)`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:")
    throw new Error(`queue URL ${redactRedisUrl(url)}: the scheme must be redis:// or rediss://`);
  const db = u.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d+$/.test(db))
    throw new Error(`queue URL ${redactRedisUrl(url)}: the path must be a database number`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db !== "" ? { db: Number(db) } : {}),
    ...(u.protocol === "rediss:" ? { tls: {} } : {}),
    // BullMQ's workers block on Redis; they must wait for a reconnect rather than fail a command.
    maxRetriesPerRequest: null,
  };
}
