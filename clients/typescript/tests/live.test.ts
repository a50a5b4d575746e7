/** subscribeToBook against a scripted WebSocket: repeats dropped, resume with lastSeq after a drop,
 * a missing pong reopens the connection, an error frame or a final status ends the subscription. */
import assert from "node:assert/strict";
import { test } from "node:test";

import { type LiveFrame, subscribeToBook, type WebSocketLike } from "../src/live.js";

class FakeSocket implements WebSocketLike {
  static opened: FakeSocket[] = [];
  /** Answer each ping with a pong, as the server does. */
  static answerPings = true;
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  closedWith: number | undefined;
  onopen: ((event: never) => void) | null = null;
  onmessage: ((event: never) => void) | null = null;
  onclose: ((event: never) => void) | null = null;
  onerror: ((event: never) => void) | null = null;

  constructor(readonly url: string) {
    FakeSocket.opened.push(this);
    setTimeout(() => this.open(), 0);
  }
  open(): void {
    this.readyState = 1;
    (this.onopen as ((event: unknown) => void) | null)?.({});
  }
  send(data: string): void {
    const message = JSON.parse(data) as Record<string, unknown>;
    this.sent.push(message);
    if (message.action === "ping" && FakeSocket.answerPings) setTimeout(() => this.receive({ type: "pong" }), 0);
  }
  receive(frame: Record<string, unknown>): void {
    (this.onmessage as ((event: { data: unknown }) => void) | null)?.({ data: JSON.stringify(frame) });
  }
  close(code = 1000): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.closedWith = code;
    setTimeout(() => (this.onclose as ((event: unknown) => void) | null)?.({}), 0);
  }
}

const BOOK = "6a3c1b52-4f1e-4b0e-9f53-7b1d2c7f0a11";
const progress = { status: "GENERATING" } as unknown;
const event = (seq: number, status = "GENERATING") => ({ type: "event", event: "page.illustrated", seq, bookId: BOOK, status, progress });
const until = async (check: () => boolean) => {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 2));
  assert.ok(check(), "timed out");
};
const options = { WebSocket: FakeSocket, backoffBaseMs: 1, backoffMaxMs: 5 };

test("snapshot then events once each, resuming with lastSeq after a drop, until final", async () => {
  FakeSocket.opened = [];
  const frames: LiveFrame[] = [];
  const subscription = subscribeToBook("ws://127.0.0.1:9/", async () => "tok en", BOOK, (f) => frames.push(f), options);
  await until(() => FakeSocket.opened[0]?.sent.length === 1);
  const first = FakeSocket.opened[0] as FakeSocket;
  assert.equal(new URL(first.url).searchParams.get("token"), "tok en");
  assert.deepEqual(first.sent[0], { action: "subscribe", bookId: BOOK });
  first.receive({ type: "snapshot", bookId: BOOK, seq: 2, status: "GENERATING", progress });
  first.receive(event(3));
  first.receive(event(3)); // a repeat
  first.receive(event(2)); // older still
  first.close(1006); // the connection drops
  await until(() => FakeSocket.opened[1]?.sent.length === 1);
  const second = FakeSocket.opened[1] as FakeSocket;
  assert.deepEqual(second.sent[0], { action: "subscribe", bookId: BOOK, lastSeq: 3 });
  second.receive(event(3)); // sent again by the server: dropped
  second.receive(event(4));
  second.receive(event(5, "COMPLETED"));
  await subscription.done;
  assert.deepEqual(
    frames.map((f) => (f.type === "error" ? f.code : f.seq)),
    [2, 3, 4, 5],
  );
  assert.equal(subscription.lastSeq, 5);
  assert.equal(second.closedWith, 1000);
  assert.equal(FakeSocket.opened.length, 2);
});

test("a ping without a pong closes the connection and the next one resumes", async () => {
  FakeSocket.opened = [];
  FakeSocket.answerPings = false;
  const subscription = subscribeToBook("ws://127.0.0.1:9", "t", BOOK, () => {}, {
    ...options,
    lastSeq: 7,
    pingIntervalMs: 5,
    pongTimeoutMs: 20,
  });
  await until(() => (FakeSocket.opened[0]?.sent.length ?? 0) >= 2);
  const first = FakeSocket.opened[0] as FakeSocket;
  assert.deepEqual(first.sent[0], { action: "subscribe", bookId: BOOK, lastSeq: 7 });
  assert.deepEqual(first.sent[1], { action: "ping" });
  await until(() => FakeSocket.opened.length === 2);
  assert.equal(first.closedWith, 4000);
  FakeSocket.answerPings = true; // from now on answered: the connection stays
  const second = FakeSocket.opened[1] as FakeSocket;
  await until(() => second.sent.length >= 1);
  assert.deepEqual(second.sent[0], { action: "subscribe", bookId: BOOK, lastSeq: 7 });
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.ok(second.sent.filter((m) => m.action === "ping").length >= 3);
  assert.equal(second.closedWith, undefined);
  subscription.close();
  await subscription.done;
  assert.equal(second.closedWith, 1000);
});

test("an error frame ends the subscription", async () => {
  FakeSocket.opened = [];
  const frames: LiveFrame[] = [];
  const subscription = subscribeToBook("ws://127.0.0.1:9", "t", BOOK, (f) => frames.push(f), options);
  await until(() => FakeSocket.opened[0]?.sent.length === 1);
  (FakeSocket.opened[0] as FakeSocket).receive({ type: "error", code: "BOOK_NOT_FOUND", message: "Book not found.", bookId: BOOK });
  await subscription.done;
  assert.deepEqual(frames, [{ type: "error", code: "BOOK_NOT_FOUND", message: "Book not found.", bookId: BOOK }]);
  assert.equal(FakeSocket.opened.length, 1);
});
