// A loopback OpenAI-compatible chat endpoint for tests: each reply is decided by the test from the
// request's body (the content, or an HTTP error), after an optional delay.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** What the stub answers one request with: a reply's content, or an HTTP error status. */
export interface StubReply {
  content?: string;
  status?: number;
  delayMs?: number;
}

/** A running stub: its base URL (…/v1) and how to stop it. */
export interface StubEndpoint {
  url: string;
  close(): Promise<void>;
}

/** Starts a stub on a free loopback port; `reply` sees each request's raw body. */
export async function stubEndpoint(
  reply: (body: string) => StubReply,
  model = "stub",
): Promise<StubEndpoint> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const r = reply(body);
      const send = () => {
        res.writeHead(r.status ?? 200, { "content-type": "application/json" });
        res.end(
          JSON.stringify(
            r.status && r.status !== 200
              ? { error: { message: r.content ?? `HTTP ${r.status}` } }
              : {
                  model,
                  choices: [
                    {
                      index: 0,
                      message: { role: "assistant", content: r.content ?? "" },
                      finish_reason: "stop",
                    },
                  ],
                },
          ),
        );
      };
      if (r.delayMs) setTimeout(send, r.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The IPR tests' policy for "How many circles are there?": two circles (wrong) in round 0 unless
 * `lucky`, one (right) after the refinement turn, and a text-only self-reward answer of 1.
 */
export function countCirclesReply(body: string, lucky = false): string {
  const text = JSON.stringify((JSON.parse(body) as { messages: unknown }).messages);
  if (!text.includes("image_url")) return "<think>The description lists one circle.</think>\\boxed{1}";
  return text.includes("re-examine") || lucky
    ? "<description>One red circle.</description>\n<think>Count the circles: one.</think>\n\\boxed{1}"
    : "<description>A red circle and a blue circle.</description>\n<think>Count the circles: two.</think>\n\\boxed{2}";
}
