// The model and judge endpoints this worker's jobs may call. A worker sends its own API key
// (OPENAI_API_KEY) with every request, so the queue must not be able to name any other server.
import { JobRefusedError } from "@sr2se/queue";

/** Normalizes an endpoint URL for comparison (no trailing slash). */
const endpointKey = (url: string) => url.replace(/\/+$/, "");

let allowed: string[] = [];

/** Sets the endpoints this process's jobs may call (`sr2se worker --endpoint`). */
export function allowEndpoints(urls: readonly string[]): void {
  allowed = urls.map(endpointKey);
}

/** Refuses a job (no retry) whose endpoint this worker was not given. */
export function checkEndpoint(kind: string, url: string): void {
  if (!allowed.includes(endpointKey(url)))
    throw new JobRefusedError(
      `${kind}: ${url} is not an endpoint this worker may call (start it with \`sr2se worker --endpoint ${url}\`); refusing the job`,
    );
}
