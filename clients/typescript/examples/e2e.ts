/**
 * The whole flow through the client, as a frontend would run it: create a book, upload photos, generate,
 * follow the progress over the WebSocket until the book is final, download the PDF.
 *
 *   STORYWINK_API_URL=http://127.0.0.1:8000 STORYWINK_WS_URL=ws://127.0.0.1:8001 \
 *   STORYWINK_TOKEN="$(storywink token)" STORYWINK_PHOTOS=a.jpg,b.jpg node dist-examples/examples/e2e.js
 *
 * Prints one JSON line per frame and a final JSON summary; exits non-zero on any failure.
 */
import { readFile } from "node:fs/promises";
import { basename } from "node:path";

import WebSocket from "ws";

import { createStorywinkClient, FINAL_STATUSES, type LiveFrame, subscribeToBook } from "../src/index.js";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

async function main(): Promise<void> {
  const baseUrl = required("STORYWINK_API_URL");
  const wsUrl = required("STORYWINK_WS_URL");
  const token = required("STORYWINK_TOKEN");
  const photos = required("STORYWINK_PHOTOS").split(",");
  const timeoutMs = Number(process.env.STORYWINK_TIMEOUT_MS ?? 180_000);

  const client = createStorywinkClient({ baseUrl, getToken: () => token });
  const created = await client.createBook({ title: "Our Day Out", childName: "Zoë" });
  const files = await Promise.all(
    photos.map(async (path) => ({
      data: new Uint8Array(await readFile(path)),
      contentType: "image/jpeg" as const,
      filename: basename(path),
    })),
  );
  const withPages = await client.uploadPhotos(created.id, files);
  if (withPages.pages.length !== files.length) {
    throw new Error(`expected ${files.length} pages, got ${withPages.pages.length}`);
  }
  const library = await client.listBooks({ limit: 10 });
  if (!library.items.some((book) => book.id === created.id)) throw new Error("the new book is not in the library");

  const frames: LiveFrame[] = [];
  // Subscribe before generating, so every event of the generation arrives over the WebSocket.
  let snapshotSeen!: () => void;
  const snapshot = new Promise<void>((resolve) => {
    snapshotSeen = resolve;
  });
  const subscription = subscribeToBook(
    wsUrl,
    token,
    created.id,
    (frame) => {
      frames.push(frame);
      console.log(JSON.stringify({ frame }));
      if (frame.type === "snapshot") snapshotSeen();
    },
    { WebSocket, pingIntervalMs: 1_000 },
  );
  const timeout = setTimeout(() => subscription.close(), timeoutMs);
  await snapshot;
  await client.generateBook(created.id);
  await subscription.done;
  clearTimeout(timeout);

  const last = frames.at(-1);
  if (last === undefined || last.type === "error" || !FINAL_STATUSES.has(last.status)) {
    throw new Error(`the book did not reach a final status over the WebSocket: ${JSON.stringify(last)}`);
  }
  const seqs = frames.flatMap((frame) => (frame.type === "event" ? [frame.seq] : []));
  if (seqs.some((seq, index) => index > 0 && seq !== (seqs[index - 1] as number) + 1)) {
    throw new Error(`events out of order or missing: ${seqs.join(",")}`);
  }

  const link = await client.getBookPdf(created.id);
  const pdf = new Uint8Array(await (await fetch(link.url)).arrayBuffer());
  const magic = new TextDecoder().decode(pdf.slice(0, 4));
  if (magic !== "%PDF") throw new Error(`the download is not a PDF: ${JSON.stringify(magic)}`);

  let notFound = "";
  try {
    await client.getBook("00000000-0000-4000-8000-000000000000");
  } catch (error) {
    if (error instanceof Error && "code" in error) notFound = String(error.code);
  }
  console.log(
    JSON.stringify({
      summary: { bookId: created.id, status: last.status, events: seqs, pdfBytes: pdf.length, notFound },
    }),
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
