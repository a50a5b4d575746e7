/**
 * Live progress over the WebSocket API (the README's "The WebSocket protocol"): subscribe to a book,
 * get a snapshot then every event in `seq` order; ping to keep the connection alive; reconnect with
 * full-jitter backoff and resume with `lastSeq`, dropping repeats.
 */
import type { components } from "./schema.js";

export type SnapshotFrame = components["schemas"]["SnapshotFrame"];
export type EventFrame = components["schemas"]["EventFrame"];
/** `BOOK_NOT_FOUND` (someone else's book or a missing one) or `BAD_MESSAGE`. */
export interface ErrorFrame {
  type: "error";
  code: string;
  message: string;
  bookId?: string;
}
export type ProgressFrame = SnapshotFrame | EventFrame;
export type LiveFrame = ProgressFrame | ErrorFrame;

/** What the helper needs of a WebSocket: the browser's, or `ws`'s in node 20. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: never) => void) | null;
  // Handlers take `never` so that any implementation's event types fit; the helper reads only `data`.
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface SubscribeOptions {
  /** The WebSocket class to use; `globalThis.WebSocket` by default (browsers, node 22+). In node 20 pass
   * `ws`'s: `import WebSocket from "ws"`. */
  WebSocket?: WebSocketConstructor;
  /** Resume after this `seq` instead of starting with a snapshot. */
  lastSeq?: number;
  /** How often to ping (API Gateway closes a connection idle for 10 minutes). Default 5 minutes. */
  pingIntervalMs?: number;
  /** A ping with no pong within this is a dead connection: it is closed and reopened. Default 10 s. */
  pongTimeoutMs?: number;
  /** Reconnect after a random wait of up to `backoffBaseMs` × 2^failures, at most `backoffMaxMs`. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Close the subscription once a frame says the book is COMPLETED, PARTIAL or FAILED. Default true. */
  stopWhenFinal?: boolean;
  /** Told of each connection state change, e.g. for a "reconnecting…" banner. */
  onStateChange?: (state: "connecting" | "open" | "reconnecting" | "closed", failures: number) => void;
}

export interface Subscription {
  /** The highest `seq` received so far (-1 before the first frame). */
  readonly lastSeq: number;
  /** Settles when the subscription ends: closed by you, the book final, or an error frame. */
  readonly done: Promise<void>;
  close(): void;
}

const FINAL = new Set(["COMPLETED", "PARTIAL", "FAILED"]);
const OPEN = 1;

/**
 * Follow a book's progress. `onFrame` gets the snapshot and each later event exactly once, in `seq`
 * order, across reconnects; an error frame ends the subscription. `token` may be a function, asked
 * again on every reconnect, so an expiring ID token can be refreshed.
 */
export function subscribeToBook(
  wsUrl: string,
  token: string | (() => string | Promise<string>),
  bookId: string,
  onFrame: (frame: LiveFrame) => void,
  options: SubscribeOptions = {},
): Subscription {
  const Socket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (Socket === undefined) {
    throw new Error("No WebSocket implementation: pass options.WebSocket (in node 20, the `ws` package's).");
  }
  const pingIntervalMs = options.pingIntervalMs ?? 5 * 60_000;
  const pongTimeoutMs = options.pongTimeoutMs ?? 10_000;
  const backoffBaseMs = options.backoffBaseMs ?? 500;
  const backoffMaxMs = options.backoffMaxMs ?? 30_000;
  const stopWhenFinal = options.stopWhenFinal ?? true;

  let lastSeq = options.lastSeq ?? -1;
  let failures = 0;
  let stopped = false;
  let socket: WebSocketLike | undefined;
  let pingTimer: ReturnType<typeof setInterval> | undefined;
  let pongTimer: ReturnType<typeof setTimeout> | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });

  const clearTimers = () => {
    clearInterval(pingTimer);
    clearTimeout(pongTimer);
    pingTimer = pongTimer = undefined;
  };

  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearTimers();
    clearTimeout(retryTimer);
    socket?.close(1000, "done");
    options.onStateChange?.("closed", failures);
    finish();
  };

  const deliver = (frame: LiveFrame) => {
    if (frame.type === "error") {
      onFrame(frame);
      stop();
      return;
    }
    // Repeats are dropped: an event at or below the highest seq, a snapshot older than it.
    if (frame.type === "event" ? frame.seq <= lastSeq : frame.seq < lastSeq) return;
    lastSeq = frame.seq;
    onFrame(frame);
    if (stopWhenFinal && FINAL.has(frame.status)) stop();
  };

  const onMessage = (data: unknown) => {
    let frame: { type?: unknown };
    try {
      frame = JSON.parse(typeof data === "string" ? data : String(data)) as { type?: unknown };
    } catch {
      return;
    }
    if (frame.type === "pong") {
      clearTimeout(pongTimer);
      pongTimer = undefined;
    } else if (frame.type === "snapshot" || frame.type === "event" || frame.type === "error") {
      deliver(frame as LiveFrame);
    }
  };

  const ping = (current: WebSocketLike) => {
    if (current.readyState !== OPEN) return;
    current.send(JSON.stringify({ action: "ping" }));
    pongTimer ??= setTimeout(() => current.close(4000, "no pong"), pongTimeoutMs);
  };

  const scheduleReconnect = () => {
    if (stopped) return;
    failures += 1;
    options.onStateChange?.("reconnecting", failures);
    const ceiling = Math.min(backoffMaxMs, backoffBaseMs * 2 ** failures);
    retryTimer = setTimeout(() => void connect(), Math.random() * ceiling);
  };

  const connect = async () => {
    if (stopped) return;
    options.onStateChange?.("connecting", failures);
    let url: URL;
    try {
      url = new URL(wsUrl);
      url.searchParams.set("token", typeof token === "function" ? await token() : token);
    } catch {
      scheduleReconnect();
      return;
    }
    if (stopped) return;
    const current = new Socket(url.toString());
    socket = current;
    current.onopen = () => {
      failures = 0;
      options.onStateChange?.("open", failures);
      const subscribe: Record<string, unknown> = { action: "subscribe", bookId };
      if (lastSeq >= 0) subscribe.lastSeq = lastSeq;
      current.send(JSON.stringify(subscribe));
      pingTimer = setInterval(() => ping(current), pingIntervalMs);
    };
    current.onmessage = (event: { data: unknown }) => onMessage(event.data);
    current.onerror = () => {
      // A close always follows; reconnecting happens there.
    };
    current.onclose = () => {
      if (socket !== current) return;
      clearTimers();
      socket = undefined;
      scheduleReconnect();
    };
  };

  void connect();
  return {
    get lastSeq() {
      return lastSeq;
    },
    done,
    close: stop,
  };
}
