// Storywink's live book page for the local stack: plain DOM, no framework, no external resources.
// Every string from the API or the user reaches the page through textContent or a checked URL.
(() => {
  "use strict";

  const FINAL = new Set(["COMPLETED", "PARTIAL", "FAILED"]);
  const GENERATABLE = new Set(["DRAFT", "FAILED"]);
  const PHOTOS_EDITABLE = new Set(["DRAFT", "FAILED"]);
  // Events after which the book's pages (and their presigned image URLs) are fetched again.
  const PAGE_EVENTS = new Set([
    "story.completed", "page.illustrated", "page.flagged", "page.failed", "page.reset", "page.retry",
    "book.finished", "book.failed",
  ]);
  const CONTENT_TYPES = {
    jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", webp: "image/webp", heic: "image/heic", heif: "image/heif",
  };
  // The browser sets these itself from the body; fetch refuses them.
  const FORBIDDEN_HEADERS = new Set(["content-length", "host"]);
  const TOKEN_KEY = "storywink.token";
  const LIBRARY_PAGE = 24;
  const SSE_RETRY_MAX_MS = 30000;
  // WebSocket: reconnect after a drop with exponential backoff and full jitter; after this many
  // connections in a row that never opened, the event stream takes over.
  const WS_RETRY_BASE_MS = 500;
  const WS_RETRY_MAX_MS = 30000;
  const WS_FAILURES_BEFORE_SSE = 3;
  // API Gateway closes a connection idle for 10 minutes: ping well before (the page's config may say
  // otherwise), and treat a ping left unanswered this long as a dead connection.
  const PING_SECONDS = 300;
  const PONG_TIMEOUT_MS = 10000;

  // Set once per document load: the live view never reloads the page (and a test can check that).
  window.storywinkLoadId = `${Date.now()}-${Math.random().toString(36).slice(2)}`;

  const $ = (id) => document.getElementById(id);

  const state = {
    config: null,
    token: null,
    view: 0, // bumps whenever the book view changes, so late answers for an old view are dropped
    book: null,
    status: null, // the newest status seen, from a live frame when there is one
    live: null,
    refresh: null,
    libraryCursor: null,
    pdfExpiresAt: 0,
    pdfRequest: null,
  };

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  // ------------------------------------------------------------------ helpers
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (name === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  // Only http(s) URLs become a src or an href.
  function safeUrl(value) {
    try {
      const url = new URL(value, window.location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch {
      return null;
    }
  }

  // Presigned URLs change with every signature; the object they name is the path.
  function objectPath(value) {
    try {
      return new URL(value, window.location.href).pathname;
    } catch {
      return "";
    }
  }

  function randomKey() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function contentTypeOf(file) {
    if (file.type) return file.type;
    const extension = (file.name.split(".").pop() || "").toLowerCase();
    return CONTENT_TYPES[extension] || "application/octet-stream";
  }

  function tokenSubject(token) {
    try {
      const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(payload)).sub || "?";
    } catch {
      return "?";
    }
  }

  function showNotice(message, kind = "error") {
    const notice = $("notice");
    notice.textContent = message;
    notice.dataset.kind = kind;
    notice.hidden = false;
  }

  function clearNotice() {
    $("notice").hidden = true;
  }

  function reportError(error) {
    if (error instanceof ApiError && error.status === 401) {
      signOut();
      showNotice("That token was not accepted. Please sign in again.");
      return;
    }
    showNotice(error && error.message ? error.message : String(error));
  }

  function showView(name) {
    for (const view of ["signin", "library", "book"]) $(`${view}-view`).hidden = view !== name;
    $("session").hidden = name === "signin";
  }

  function statusLabel(status) {
    return (status || "").replace(/_/g, " ").toLowerCase();
  }

  function setBadge(node, status) {
    node.textContent = status || "";
    node.dataset.status = status || "";
    node.title = statusLabel(status);
  }

  // ------------------------------------------------------------------ API
  async function api(method, path, body, headers = {}) {
    const init = { method, headers: { Authorization: `Bearer ${state.token}`, ...headers } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(`${state.config.apiUrl}${path}`, init);
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      const error = (data && data.error) || {};
      throw new ApiError(response.status, error.code || `HTTP_${response.status}`, error.message || response.statusText);
    }
    return data;
  }

  async function uploadPhotos(bookId, files, report) {
    const specs = files.map((file) => ({ contentType: contentTypeOf(file), size: file.size, filename: file.name.slice(0, 255) }));
    report(`Preparing ${files.length} upload${files.length === 1 ? "" : "s"}…`);
    const { uploads } = await api("POST", `/v1/books/${bookId}/photos`, { photos: specs });
    let done = 0;
    await Promise.all(
      uploads.map(async (ticket, index) => {
        const headers = {};
        for (const [name, value] of Object.entries(ticket.headers || {})) {
          if (!FORBIDDEN_HEADERS.has(name.toLowerCase())) headers[name] = value;
        }
        const response = await fetch(ticket.url, { method: ticket.method || "PUT", headers, body: files[index] });
        if (!response.ok) throw new Error(`Uploading ${files[index].name} failed (HTTP ${response.status}).`);
        done += 1;
        report(`Uploaded ${done} of ${uploads.length}…`);
      }),
    );
    report("Checking the photos…");
    const book = await api("POST", `/v1/books/${bookId}/photos/confirm`, { uploadIds: uploads.map((u) => u.uploadId) });
    report("");
    return book;
  }

  // ------------------------------------------------------------------ sign in
  function signIn(token) {
    state.token = token;
    sessionStorage.setItem(TOKEN_KEY, token);
    $("signed-in-user").textContent = tokenSubject(token);
    clearNotice();
    openLibrary();
  }

  function signOut() {
    closeBook();
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    $("book-list").replaceChildren();
    showView("signin");
  }

  async function signInAs(event) {
    event.preventDefault();
    const query = new URLSearchParams({ user: $("signin-user").value.trim(), plan: $("signin-plan").value });
    try {
      const response = await fetch(`/local/token?${query}`);
      const data = await response.json().catch(() => null);
      if (!response.ok || !data || !data.token) {
        const message = data && data.error ? data.error.message : `HTTP ${response.status}`;
        throw new Error(`Could not sign in: ${message}`);
      }
      signIn(data.token);
    } catch (error) {
      reportError(error);
    }
  }

  function useToken(event) {
    event.preventDefault();
    const token = $("token-input").value.trim().replace(/^Bearer\s+/i, "");
    if (token.split(".").length !== 3) {
      showNotice("That does not look like a token (three dot-separated parts).");
      return;
    }
    $("token-input").value = "";
    signIn(token);
  }

  // ------------------------------------------------------------------ library
  function openLibrary() {
    closeBook();
    showView("library");
    loadLibrary(false).catch(reportError);
  }

  function bookCard(book) {
    const cover = safeUrl(book.coverThumbnailUrl);
    const picture = cover
      ? el("img", { class: "cover-thumb", src: cover, alt: `Cover of ${book.title}`, loading: "lazy" })
      : el("div", { class: "cover-thumb empty", text: "No photos yet" });
    const badge = el("span", { class: "badge" });
    setBadge(badge, book.status);
    const pages = `${book.pageLength} page${book.pageLength === 1 ? "" : "s"}`;
    const open = el(
      "button",
      { type: "button", class: "book-open", dataset: { testid: "open-book" } },
      picture,
      el("span", { class: "book-title", text: book.title }),
      el("span", { class: "book-meta", text: `For ${book.childName} · ${pages}` }),
      badge,
    );
    open.addEventListener("click", () => openBook(book.id));
    return el("li", { class: "book-card", dataset: { bookId: book.id, testid: "book-card" } }, open);
  }

  async function loadLibrary(more) {
    const query = new URLSearchParams({ limit: String(LIBRARY_PAGE) });
    if (more && state.libraryCursor) query.set("cursor", state.libraryCursor);
    const page = await api("GET", `/v1/books?${query}`);
    const cards = page.items.map(bookCard);
    if (more) $("book-list").append(...cards);
    else $("book-list").replaceChildren(...cards);
    state.libraryCursor = page.nextCursor;
    $("library-more").hidden = !page.nextCursor;
    $("library-empty").hidden = $("book-list").children.length > 0;
  }

  async function createBook(event) {
    event.preventDefault();
    const button = $("create-book");
    const report = (text) => { $("create-progress").textContent = text; };
    const files = Array.from($("new-book-photos").files);
    const body = {
      title: $("new-book-title").value,
      childName: $("new-book-child").value,
      artStyle: $("new-book-style").value,
    };
    if ($("new-book-theme").value.trim()) body.theme = $("new-book-theme").value;
    button.disabled = true;
    try {
      report("Creating the book…");
      const book = await api("POST", "/v1/books", body);
      if (files.length) await uploadPhotos(book.id, files, report);
      $("new-book-form").reset();
      report("");
      await openBook(book.id);
    } catch (error) {
      report("");
      reportError(error);
    } finally {
      button.disabled = false;
    }
  }

  // ------------------------------------------------------------------ one book
  async function openBook(bookId) {
    closeBook();
    const view = state.view;
    clearNotice();
    state.status = null;
    $("book-title").textContent = "";
    $("book-subtitle").textContent = "";
    setBadge($("book-status"), "");
    $("pages").replaceChildren();
    $("event-log").replaceChildren();
    hidePdfLink();
    renderProgress(null);
    showView("book");
    try {
      const book = await api("GET", `/v1/books/${bookId}`);
      if (view !== state.view) return;
      renderBook(book);
      startLive(bookId);
    } catch (error) {
      reportError(error);
    }
  }

  function closeBook() {
    state.view += 1;
    state.book = null;
    state.refresh = null;
    if (state.live) {
      state.live.closed = true;
      stopPings(state.live);
      if (state.live.socket) state.live.socket.close();
      if (state.live.abort) state.live.abort.abort();
      clearTimeout(state.live.timer);
      state.live = null;
    }
    setChannel("none");
  }

  function renderBook(book) {
    state.book = book;
    $("book-title").textContent = book.title;
    const pages = `${book.pageLength} of ${book.maxPages} pages`;
    $("book-subtitle").textContent = `A story for ${book.childName} · ${book.artStyle} · ${pages}`;
    const reason = $("book-reason");
    reason.textContent = book.statusReason || "";
    reason.hidden = !book.statusReason;
    if (!state.status) setStatus(book.status);
    else renderActions();
    renderPages(book.pages);
    if (book.hasPdf && FINAL.has(state.status)) showPdfLink();
  }

  function setStatus(status) {
    state.status = status;
    setBadge($("book-status"), status);
    renderActions();
    if (state.book) renderPages(state.book.pages);
  }

  function renderActions() {
    const status = state.status;
    const book = state.book;
    const hasPages = Boolean(book && book.pages.length);
    $("generate").disabled = !GENERATABLE.has(status) || !hasPages;
    $("generate").title = hasPages ? "" : "Add photos first";
    $("illustrate").hidden = status !== "STORY_READY";
    $("add-photos-form").hidden = !PHOTOS_EDITABLE.has(status);
    $("progress").dataset.running = String(!FINAL.has(status) && status !== "DRAFT");
  }

  function renderProgress(progress) {
    const story = progress ? progress.storyGeneration : { started: false, completed: false };
    const counts = progress ? progress.illustrations : { total: 0, completed: 0, failed: 0, inProgress: 0 };
    let storyText = "not started";
    if (story.error) storyText = `failed: ${story.error}`;
    else if (story.completed) storyText = "written";
    else if (story.started) storyText = "being written…";
    const queue = progress && progress.queue;
    $("queue-line").hidden = !queue;
    if (queue) {
      const minutes = Math.max(1, Math.round(queue.estimatedStartSeconds / 60));
      $("queue-state").textContent = `number ${queue.position} in line, starts in about ${minutes} min`;
    }
    $("story-state").textContent = storyText;
    $("story-state").dataset.state = story.error ? "failed" : story.completed ? "completed" : story.started ? "started" : "none";
    $("illustrations-completed").textContent = String(counts.completed);
    $("illustrations-failed").textContent = String(counts.failed);
    $("illustrations-in-progress").textContent = String(counts.inProgress);
    $("illustrations-total").textContent = String(counts.total);
    const share = counts.total ? (counts.completed + counts.failed) / counts.total : 0;
    $("illustrations-bar").style.width = `${Math.round(share * 100)}%`;
  }

  function pageCard(page) {
    const img = el("img", { class: "page-image", alt: "" });
    const card = el(
      "li",
      { class: "page-thumb", dataset: { pageId: page.id, testid: "page-thumb" } },
      el("div", { class: "frame" }, img),
      el("div", { class: "page-caption" },
        el("span", { class: "page-number" }),
        el("span", { class: "page-state" })),
      el("p", { class: "page-text" }),
    );
    return card;
  }

  function updatePageCard(card, page) {
    const img = card.querySelector("img");
    const kind = page.illustrationUrl ? "illustration" : "photo";
    const url = safeUrl(page.illustrationUrl || page.thumbnailUrl);
    // A new signature for the same object would only reload the same picture.
    if (url && (img.dataset.kind !== kind || objectPath(img.src) !== objectPath(url))) {
      img.src = url;
      img.dataset.kind = kind;
    }
    img.alt = `${kind === "illustration" ? "Illustration" : "Photo"} for page ${page.pageNumber}`;
    const running = !FINAL.has(state.status) && state.status !== "DRAFT" && state.status !== "STORY_READY";
    card.dataset.status = page.moderationStatus;
    card.classList.toggle("working", running && page.moderationStatus === "PENDING");
    card.querySelector(".page-number").textContent = page.isTitlePage ? `Page ${page.pageNumber} · cover` : `Page ${page.pageNumber}`;
    card.querySelector(".page-state").textContent = kind === "illustration" ? "illustrated" : statusLabel(page.moderationStatus);
    card.querySelector(".page-text").textContent = page.text || "";
  }

  function renderPages(pages) {
    const grid = $("pages");
    const existing = new Map(Array.from(grid.children, (card) => [card.dataset.pageId, card]));
    const cards = pages.map((page) => {
      const card = existing.get(page.id) || pageCard(page);
      updatePageCard(card, page);
      return card;
    });
    grid.replaceChildren(...cards);
  }

  // Coalesces page events: one request in flight, at most one more after it.
  function refreshBook() {
    if (!state.book) return;
    if (state.refresh) {
      state.refresh.again = true;
      return;
    }
    const view = state.view;
    const bookId = state.book.id;
    const refresh = { again: false };
    state.refresh = refresh;
    (async () => {
      do {
        refresh.again = false;
        const book = await api("GET", `/v1/books/${bookId}`);
        if (view !== state.view) return;
        renderBook(book);
      } while (refresh.again);
    })()
      .catch(reportError)
      .finally(() => {
        if (state.refresh === refresh) state.refresh = null;
      });
  }

  function hidePdfLink() {
    const link = $("pdf-link");
    link.hidden = true;
    link.removeAttribute("href");
    state.pdfExpiresAt = 0;
    state.pdfRequest = null;
  }

  function showPdfLink() {
    if (!$("pdf-link").hidden || state.pdfRequest) return;
    const request = loadPdfLink().finally(() => {
      if (state.pdfRequest === request) state.pdfRequest = null;
    });
    state.pdfRequest = request;
  }

  async function loadPdfLink() {
    if (!state.book) return;
    const view = state.view;
    try {
      const pdf = await api("GET", `/v1/books/${state.book.id}/pdf`);
      const url = safeUrl(pdf.url);
      if (view !== state.view || !url) return;
      const link = $("pdf-link");
      link.href = url;
      link.hidden = false;
      state.pdfExpiresAt = Date.now() + pdf.expiresIn * 1000;
    } catch (error) {
      if (!(error instanceof ApiError && error.code === "PDF_NOT_READY")) reportError(error);
    }
  }

  // The link is short-lived: a click after it expired fetches a fresh one first.
  async function pdfClicked(event) {
    if (Date.now() < state.pdfExpiresAt - 5000) return;
    event.preventDefault();
    await loadPdfLink();
    if (!$("pdf-link").hidden) window.location.assign($("pdf-link").href);
  }

  async function startStep(step) {
    if (!state.book) return;
    const button = $(step === "generate" ? "generate" : "illustrate");
    const view = state.view;
    button.disabled = true;
    clearNotice();
    try {
      const started = await api("POST", `/v1/books/${state.book.id}/${step}`, undefined, { "Idempotency-Key": randomKey() });
      if (view !== state.view) return;
      if (step === "generate") hidePdfLink();
      setStatus(started.status);
      resumeLive();
    } catch (error) {
      reportError(error);
      renderActions();
    }
  }

  async function addPhotos(event) {
    event.preventDefault();
    const files = Array.from($("add-photos").files);
    if (!files.length || !state.book) return;
    const view = state.view;
    const button = $("upload-photos");
    button.disabled = true;
    try {
      const book = await uploadPhotos(state.book.id, files, (text) => { $("upload-progress").textContent = text; });
      $("add-photos-form").reset();
      if (view === state.view) renderBook(book);
    } catch (error) {
      $("upload-progress").textContent = "";
      reportError(error);
    } finally {
      button.disabled = false;
    }
  }

  // ------------------------------------------------------------------ live progress
  function setChannel(channel) {
    const node = $("live-channel");
    node.dataset.channel = channel;
    node.textContent = { websocket: "live · WebSocket", sse: "live · event stream", offline: "offline, reconnecting…" }[channel] || "";
  }

  function startLive(bookId) {
    state.live = {
      bookId,
      lastSeq: 0,
      synced: false, // true once a snapshot or an event said where the book is: lastSeq is then meaningful
      socket: null,
      everOpened: false,
      wsFailures: 0,
      wsPending: false,
      pingTimer: 0,
      pongTimer: 0,
      abort: null,
      streaming: false,
      timer: 0,
      retryMs: 2000,
      closed: false,
    };
    connectWebSocket(state.live);
  }

  // The event stream ends once its book is final; a new generation needs it again.
  function resumeLive() {
    const live = state.live;
    if (live && !live.closed && !live.socket && !live.streaming && !live.wsPending) {
      clearTimeout(live.timer);
      connectSse(live);
    }
  }

  function connectWebSocket(live) {
    const base = state.config.websocketUrl;
    if (!base || !("WebSocket" in window)) {
      connectSse(live);
      return;
    }
    let socket;
    try {
      socket = new WebSocket(`${base}/?token=${encodeURIComponent(state.token)}`);
    } catch {
      connectSse(live);
      return;
    }
    live.socket = socket;
    let opened = false;
    socket.addEventListener("open", () => {
      opened = true;
      live.everOpened = true;
      live.wsFailures = 0;
      setChannel("websocket");
      const subscribe = { action: "subscribe", bookId: live.bookId };
      if (live.synced) subscribe.lastSeq = live.lastSeq; // resuming: the server sends exactly what was missed
      socket.send(JSON.stringify(subscribe));
      startPings(live, socket);
    });
    socket.addEventListener("message", (message) => {
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      if (frame.type === "pong") {
        clearTimeout(live.pongTimer);
        return;
      }
      if (!live.closed) handleFrame(live, frame);
    });
    socket.addEventListener("close", () => {
      stopPings(live);
      if (live.socket === socket) live.socket = null;
      if (live.closed) return;
      if (!opened) live.wsFailures += 1;
      // Never reachable, or refused again and again: the event stream takes over from the last event seen.
      if (!live.everOpened || live.wsFailures >= WS_FAILURES_BEFORE_SSE) {
        connectSse(live);
        return;
      }
      // Dropped (an idle or a 2-hour limit, a network change): reconnect and resume.
      setChannel("offline");
      const ceiling = Math.min(WS_RETRY_MAX_MS, retryBaseMs() * 2 ** live.wsFailures);
      live.wsPending = true;
      live.timer = setTimeout(() => {
        live.wsPending = false;
        if (!live.closed) connectWebSocket(live);
      }, Math.random() * ceiling);
    });
  }

  function retryBaseMs() {
    return Number(state.config.reconnectBaseMs) || WS_RETRY_BASE_MS;
  }

  function startPings(live, socket) {
    stopPings(live);
    const every = (Number(state.config.pingSeconds) || PING_SECONDS) * 1000;
    live.pingTimer = setInterval(() => {
      if (socket.readyState !== WebSocket.OPEN) return;
      socket.send(JSON.stringify({ action: "ping" }));
      clearTimeout(live.pongTimer);
      live.pongTimer = setTimeout(() => socket.close(), PONG_TIMEOUT_MS);
    }, every);
  }

  function stopPings(live) {
    clearInterval(live.pingTimer);
    clearTimeout(live.pongTimer);
  }

  async function connectSse(live) {
    if (live.closed || live.streaming) return;
    live.streaming = true;
    const controller = new AbortController();
    live.abort = controller;
    const headers = { Authorization: `Bearer ${state.token}`, Accept: "text/event-stream" };
    if (live.synced) headers["Last-Event-ID"] = String(live.lastSeq);
    let retry = true;
    try {
      const response = await fetch(`${state.config.apiUrl}/v1/books/${live.bookId}/status/stream`, {
        headers, signal: controller.signal, cache: "no-store",
      });
      if (!response.ok || !response.body) {
        // Too many streams open for this user: try again when the server says a slot is free.
        const retryAfter = Number(response.headers.get("Retry-After"));
        if (response.status === 429 && retryAfter > 0) live.retryMs = retryAfter * 1000;
        const data = await response.json().catch(() => null);
        const error = (data && data.error) || {};
        throw new ApiError(response.status, error.code || `HTTP_${response.status}`, error.message || "The event stream failed.");
      }
      setChannel("sse");
      live.retryMs = 2000;
      await readEventStream(response.body, live, (data) => handleFrame(live, data));
    } catch (error) {
      if (live.closed) return;
      if (error instanceof ApiError && error.status < 500 && error.status !== 429) {
        retry = false;
        reportError(error);
      } else {
        setChannel("offline");
        if (!(error instanceof ApiError && error.status === 429)) live.retryMs = Math.min(live.retryMs * 2, SSE_RETRY_MAX_MS);
      }
    } finally {
      live.streaming = false;
      live.abort = null;
    }
    if (live.closed || !retry) return;
    if (FINAL.has(state.status)) {
      setChannel("none");
      return;
    }
    // The server ended the window (as under Lambda): resume with Last-Event-ID after its retry hint.
    live.timer = setTimeout(() => connectSse(live), live.retryMs);
  }

  async function readEventStream(body, live, onData) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let data = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop();
      for (const line of lines) {
        if (line === "") {
          if (data.length) {
            try {
              onData(JSON.parse(data.join("\n")));
            } catch (error) {
              if (!(error instanceof SyntaxError)) throw error;
            }
          }
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "data") data.push(value);
        else if (field === "retry" && /^\d+$/.test(value)) live.retryMs = Number(value);
      }
    }
  }

  function handleFrame(live, frame) {
    if (frame.type === "error") {
      showNotice(frame.message || "The live channel reported an error.");
      return;
    }
    if (frame.type === "snapshot") {
      if (live.synced && frame.seq < live.lastSeq) return; // older than what this page already shows
      live.lastSeq = frame.seq;
      live.synced = true;
      setStatus(frame.status);
      renderProgress(frame.progress);
      refreshBook(); // anything that happened between opening the book and subscribing
      return;
    }
    if (frame.type !== "event" || (live.synced && frame.seq <= live.lastSeq)) return; // a repeat: dropped by seq
    live.lastSeq = frame.seq;
    live.synced = true;
    logEvent(frame);
    if (frame.status) setStatus(frame.status);
    if (frame.progress) renderProgress(frame.progress);
    if (PAGE_EVENTS.has(frame.event) || frame.pageId) refreshBook();
    if (frame.event === "book.finished" || frame.pdfReady) showPdfLink();
  }

  function logEvent(frame) {
    const time = new Date().toLocaleTimeString();
    const detail = frame.reason ? ` — ${frame.reason}` : "";
    const item = el("li", {}, el("span", { class: "seq", text: `#${frame.seq}` }), ` ${time} ${frame.event} → ${frame.status}${detail}`);
    $("event-log").prepend(item);
  }

  // ------------------------------------------------------------------ start
  async function start() {
    $("signin-as-form").addEventListener("submit", signInAs);
    $("token-form").addEventListener("submit", useToken);
    $("sign-out").addEventListener("click", signOut);
    $("refresh-library").addEventListener("click", () => loadLibrary(false).catch(reportError));
    $("library-more").addEventListener("click", () => loadLibrary(true).catch(reportError));
    $("new-book-form").addEventListener("submit", createBook);
    $("back-to-library").addEventListener("click", openLibrary);
    $("generate").addEventListener("click", () => startStep("generate"));
    $("illustrate").addEventListener("click", () => startStep("illustrate"));
    $("add-photos-form").addEventListener("submit", addPhotos);
    $("pdf-link").addEventListener("click", pdfClicked);
    try {
      const response = await fetch("/local/config.json", { cache: "no-store" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      state.config = await response.json();
    } catch (error) {
      showNotice(`Could not read /local/config.json (${error.message}). Is the local stack running?`);
      return;
    }
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) signIn(token);
    else showView("signin");
    document.body.dataset.ready = "true";
  }

  start();
})();
