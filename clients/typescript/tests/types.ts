/** Compile-time checks of the generated types (run by `npm run typecheck`; nothing here executes). */
import type { BookCreate, ListBooksQuery, PhotoContentType } from "../src/client.js";
import { createStorywinkClient, StorywinkError } from "../src/client.js";
import type { WebSocketConstructor } from "../src/live.js";
import NodeWebSocket from "ws";

// Defaulted fields are optional in request bodies: the API accepts {title, childName}.
const minimal: BookCreate = { title: "Our Day", childName: "Zoë" };
const full: BookCreate = { title: "Our Day", childName: "Zoë", artStyle: "pencil-sketch", autoIllustrate: false };
// @ts-expect-error childName is required
const missing: BookCreate = { title: "Our Day" };
// @ts-expect-error artStyle is an enum
const badStyle: BookCreate = { title: "Our Day", childName: "Zoë", artStyle: "oil" };
// @ts-expect-error a GIF is not an upload type
const gif: PhotoContentType = "image/gif";
const query: ListBooksQuery = { status: "COMPLETED", limit: 10 };

export async function usesTheClient(): Promise<string> {
  const client = createStorywinkClient({ baseUrl: "http://127.0.0.1:8000", getToken: () => "token" });
  const book = await client.createBook(minimal);
  const raw = await client.raw.POST("/v1/books", { body: { title: "t", childName: "c" } });
  if (raw.error) {
    // The one error shape is typed on every status.
    const code: string = raw.error.error.code;
    const requestId: string = raw.error.error.requestId;
    return code + requestId;
  }
  try {
    await client.getBook(book.id);
  } catch (error) {
    if (error instanceof StorywinkError && error.code === "BOOK_NOT_FOUND") return error.requestId;
  }
  return [full, missing, badStyle, gif, query].length.toString();
}

// Both the browser's WebSocket and node's `ws` fit the subscription helper.
export const implementations: WebSocketConstructor[] = [NodeWebSocket, globalThis.WebSocket];
