// `sr2se serve` under hostile or careless clients: an API key compared in constant time, one bad
// request failing alone in its batch, requests in progress bounded with 503 + Retry-After, and the
// warning when it listens beyond loopback without a key.
import type { GenerateRequest } from "@sr2se/core";
import { ScriptedPolicy } from "@sr2se/ipr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPolicyServer, type PolicyServer } from "../src/serve/server.js";
import { runToEnd } from "./chaos.js";

const textOf = (r: GenerateRequest) => r.messages.map((m) => m.content).join("|");

/** A policy error of the kind a broken image gives (data's ImageError). */
class ImageError extends Error {
  override name = "ImageError";
}

describe("sr2se serve hardening", () => {
  let release: () => void = () => {};
  let gate: Promise<void> = Promise.resolve();
  const policy = new ScriptedPolicy(async ({ request }) => {
    const text = textOf(request);
    if (text.includes("broken image")) throw new ImageError('image "<bytes>" fails to decode: bad PNG');
    if (text.includes("slow")) await gate;
    return { text: `ok ${text}`, tokens: 2 };
  });
  let served: PolicyServer;
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${served.url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer s3cret-key", ...headers },
      body: JSON.stringify(body),
    });
  const ask = (text: string, headers?: Record<string, string>) =>
    post({ messages: [{ role: "user", content: text }] }, headers);

  beforeAll(async () => {
    served = await createPolicyServer(policy, "127.0.0.1", 0, {
      model: "scripted",
      batchWindowMs: 30,
      apiKey: "s3cret-key",
      maxConcurrent: 3,
      validate: (r) => (textOf(r).includes("<image>") ? 'the prompt holds the text "<image>"' : undefined),
    });
  });
  afterAll(() => served.close());

  it("answers 401 without the bearer key or with a wrong one, of any length; /health stays open", async () => {
    for (const authorization of [
      "",
      "Bearer ",
      "Bearer s3cret",
      "Bearer s3cret-key-and-more",
      "s3cret-key",
    ]) {
      const r = await ask("hi", { authorization });
      expect(r.status, authorization).toBe(401);
      const { error } = await r.json();
      expect(error.code).toBe("invalid_api_key");
      expect(error.message).not.toContain("s3cret");
    }
    expect((await ask("hi")).status).toBe(200);
    expect((await fetch(`${served.url.replace(/\/v1$/, "")}/health`)).status).toBe(200);
  });

  it("fails one bad request of a batch with its own 400 and answers the others", async () => {
    const replies = await Promise.all(["one", "a broken image", "three"].map((t) => ask(t)));
    replies.push(await ask("an <image> here"));
    expect(replies.map((r) => r.status)).toEqual([200, 400, 200, 400]);
    const bodies = await Promise.all(replies.map((r) => r.json()));
    expect(bodies[0].choices[0].message.content).toBe("ok one");
    expect(bodies[1].error).toMatchObject({ type: "invalid_request_error", param: "messages" });
    expect(bodies[1].error.message).toContain("fails to decode");
    expect(bodies[3].error.message).toContain('"<image>"');
  });

  it("bounds the requests in progress: past maxConcurrent, 503 with Retry-After", async () => {
    gate = new Promise<void>((r) => {
      release = r;
    });
    const slow = [ask("slow 1"), ask("slow 2"), ask("slow 3")];
    try {
      await new Promise((r) => setTimeout(r, 100));
      const refused = await ask("one more");
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("1");
      expect((await refused.json()).error.type).toBe("server_error");
    } finally {
      release();
    }
    expect((await Promise.all(slow)).map((r) => r.status)).toEqual([200, 200, 200]);
    expect((await ask("after")).status).toBe(200);
  });
});

describe("sr2se serve's key and address", () => {
  it("warns when it listens beyond loopback without a key, and never prints the key", async () => {
    const open = await runToEnd(["serve", "--ckpt", "/nonexistent-ckpt", "--host", "0.0.0.0", "--port", "0"]);
    expect(open.stderr).toContain(
      "serve: WARNING: listening on 0.0.0.0, beyond this machine, without an API key",
    );
    const keyed = await runToEnd(
      ["serve", "--ckpt", "/nonexistent-ckpt", "--host", "0.0.0.0", "--port", "0"],
      {
        SR2SE_API_KEY: "very-secret-key",
      },
    );
    expect(keyed.stderr).not.toContain("WARNING");
    expect(keyed.stderr + keyed.stdout).not.toContain("very-secret-key");
    const loopback = await runToEnd(["serve", "--ckpt", "/nonexistent-ckpt", "--port", "0"]);
    expect(loopback.stderr).not.toContain("WARNING");
  }, 60_000);
});
