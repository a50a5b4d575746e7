/** Read-your-writes: the client sends the Storywink-Consistency token of its latest write with the
 * requests after it (a recorded fetch answers as the API does). */
import assert from "node:assert/strict";
import { test } from "node:test";

import { createStorywinkClient } from "../src/client.js";

const book = {
  id: "00000000-0000-4000-8000-000000000001",
  title: "T",
  childName: "Sam",
};

test("the token of a write goes with the reads after it", async () => {
  const sent: { method: string; token: string | null }[] = [];
  const fetchImpl = async (input: Request | string | URL, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input, init);
    sent.push({ method: request.method, token: request.headers.get("Storywink-Consistency") });
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (request.method === "PATCH") headers["Storywink-Consistency"] = "1767225600000";
    return new Response(JSON.stringify(book), { status: 200, headers });
  };
  const client = createStorywinkClient({ baseUrl: "http://api.test", getToken: async () => "t", fetch: fetchImpl });

  await client.getBook(book.id);
  await client.updateBook(book.id, { title: "T" });
  await client.getBook(book.id);

  assert.deepEqual(sent, [
    { method: "GET", token: null },
    { method: "PATCH", token: null },
    { method: "GET", token: "1767225600000" },
  ]);
});
