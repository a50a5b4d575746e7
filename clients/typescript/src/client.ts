/**
 * The Storywink REST API, typed from the committed openapi.json (src/schema.d.ts, `npm run generate`).
 *
 * Errors are thrown: every helper resolves with the response body or throws a StorywinkError carrying
 * the one error shape the API answers with ({"error": {code, message, requestId, details?}}). `raw` is
 * the underlying openapi-fetch client for any other operation; turn its `{data, error, response}` into
 * the same data-or-throw with `unwrap`.
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";

import type { components, operations, paths } from "./schema.js";

type Schemas = components["schemas"];

export type Book = Schemas["BookOut"];
export type BookSummary = Schemas["BookSummary"];
export type BookCreate = Schemas["BookCreate"];
export type BookUpdate = Schemas["BookUpdate"];
export type BookProgress = Schemas["BookProgress"];
export type BookStatus = Schemas["BookStatus"];
export type Page = Schemas["PageOut"];
export type PhotoContentType = Schemas["PhotoUploadSpec"]["contentType"];
export type PhotoUploadTicket = Schemas["PhotoUploadTicket"];
export type GenerationStarted = Schemas["GenerationStarted"];
/** What generate answers: the started generation, or the scheduled start when `startAt` was given. */
export type GenerateAccepted = Schemas["GenerateAccepted"];
export type PdfLink = Schemas["PdfLink"];
export type Usage = Schemas["UsageOut"];
export type ErrorBody = Schemas["ErrorBody"];
export type ValidationIssue = Schemas["ValidationIssue"];
export type QuotaDetails = Schemas["QuotaDetails"];
export type StreamLimitDetails = Schemas["StreamLimitDetails"];
export type ListBooksQuery = NonNullable<operations["listBooks"]["parameters"]["query"]>;
export type BookPage = Schemas["BookPage"];

/** The statuses a book stays in once its generation is over. */
export const FINAL_STATUSES: ReadonlySet<BookStatus> = new Set<BookStatus>(["COMPLETED", "PARTIAL", "FAILED"]);

/** Any answer outside 2xx. `code` is stable (`BOOK_NOT_FOUND`, `VALIDATION_FAILED`, `QUOTA_EXCEEDED`, ...);
 * `message` is for people; quote `requestId` when reporting a problem. */
export class StorywinkError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string;
  readonly details: ErrorBody["details"];
  /** Seconds to wait before trying again, from `Retry-After` (429, 503). */
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, body: ErrorBody, retryAfterSeconds?: number) {
    super(body.message);
    this.name = "StorywinkError";
    this.status = status;
    this.code = body.code;
    this.requestId = body.requestId;
    this.details = body.details;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** The field-by-field problems of a 422 `VALIDATION_FAILED`, else an empty list. */
  get validationIssues(): ValidationIssue[] {
    return Array.isArray(this.details) ? this.details : [];
  }

  /** From any response that is not a 2xx; a body that is not the error shape (a proxy's page) still
   * becomes a StorywinkError, with code `HTTP_<status>`. */
  static fromResponse(response: Response, body: unknown): StorywinkError {
    const retryAfter = Number(response.headers.get("Retry-After"));
    const retry = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined;
    if (isErrorResponse(body)) return new StorywinkError(response.status, body.error, retry);
    const requestId = response.headers.get("X-Request-Id") ?? "";
    const message = `${response.status} ${response.statusText}`.trim();
    return new StorywinkError(response.status, { code: `HTTP_${response.status}`, message, requestId }, retry);
  }
}

function isErrorResponse(body: unknown): body is Schemas["ErrorResponse"] {
  if (typeof body !== "object" || body === null || !("error" in body)) return false;
  const error: unknown = body.error;
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string";
}

/** openapi-fetch's `{data, error, response}` as the data, or a thrown StorywinkError. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (!result.response.ok) throw StorywinkError.fromResponse(result.response, result.error);
  return result.data as T;
}

export interface StorywinkClientOptions {
  /** The API's origin, e.g. `http://127.0.0.1:8000` locally or the stage's API Gateway URL. */
  baseUrl: string;
  /** The caller's ID token (Cognito's, or `storywink token` locally); asked for before every request. */
  getToken: () => string | Promise<string>;
  /** A fetch of your own (tests, a polyfill); the global fetch by default. */
  fetch?: typeof globalThis.fetch;
}

/** A photo to upload: its bytes and their type. */
export interface PhotoFile {
  data: Blob | Uint8Array;
  contentType: PhotoContentType;
  filename?: string;
}

export interface StorywinkClient {
  /** The openapi-fetch client, typed for every operation, with the token added. */
  raw: Client<paths>;
  listBooks(query?: ListBooksQuery): Promise<BookPage>;
  createBook(body: BookCreate): Promise<Book>;
  getBook(bookId: string): Promise<Book>;
  updateBook(bookId: string, body: BookUpdate): Promise<Book>;
  deleteBook(bookId: string): Promise<void>;
  /** Ask for tickets, PUT each file to its ticket with the ticket's headers, confirm: the book with its
   * new pages. All or none: any failure throws, and nothing is added until the confirm succeeds. */
  uploadPhotos(bookId: string, files: PhotoFile[]): Promise<Book>;
  /** Start now, or at `startAt` (an RFC 3339 time with its offset, within 30 days). */
  generateBook(bookId: string, options?: { idempotencyKey?: string; startAt?: string }): Promise<GenerateAccepted>;
  getBookStatus(bookId: string): Promise<BookProgress>;
  /** A short-lived download link for the finished PDF. */
  getBookPdf(bookId: string): Promise<PdfLink>;
  getUsage(): Promise<Usage>;
}

export function createStorywinkClient(options: StorywinkClientOptions): StorywinkClient {
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const raw = createClient<paths>({ baseUrl: options.baseUrl.replace(/\/+$/, ""), fetch: fetchImpl });
  const auth: Middleware = {
    async onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${await options.getToken()}`);
      return request;
    },
  };
  // Read-your-writes: the token of the latest write goes with every later request, so the reads right
  // after a change are answered from the primary database, not a reader that may trail it.
  let consistency: string | null = null;
  const readYourWrites: Middleware = {
    async onRequest({ request }) {
      if (consistency !== null) request.headers.set("Storywink-Consistency", consistency);
      return request;
    },
    async onResponse({ response }) {
      const token = response.headers.get("Storywink-Consistency");
      if (token !== null) consistency = token;
      return response;
    },
  };
  raw.use(auth, readYourWrites);
  const book = (bookId: string) => ({ params: { path: { book_id: bookId } } });
  const idempotency = (key: string | undefined) => (key === undefined ? {} : { "Idempotency-Key": key });

  async function putPhoto(ticket: PhotoUploadTicket, file: PhotoFile): Promise<void> {
    const response = await fetchImpl(ticket.url, {
      method: ticket.method ?? "PUT",
      headers: ticket.headers,
      body: file.data as BodyInit,
    });
    if (!response.ok) {
      const text = await response.text().catch(() => "");
      throw new StorywinkError(response.status, {
        code: "UPLOAD_FAILED",
        message: `The upload of ${file.filename ?? ticket.uploadId} was refused: ${response.status} ${text.slice(0, 200)}`,
        requestId: response.headers.get("x-amz-request-id") ?? "",
      });
    }
  }

  return {
    raw,
    listBooks: async (query) => unwrap(await raw.GET("/v1/books", { params: { query: query ?? {} } })),
    createBook: async (body) => unwrap(await raw.POST("/v1/books", { body })),
    getBook: async (bookId) => unwrap(await raw.GET("/v1/books/{book_id}", book(bookId))),
    updateBook: async (bookId, body) => unwrap(await raw.PATCH("/v1/books/{book_id}", { ...book(bookId), body })),
    deleteBook: async (bookId) => {
      unwrap(await raw.DELETE("/v1/books/{book_id}", book(bookId)));
    },
    async uploadPhotos(bookId, files) {
      const photos = files.map((file) => ({
        contentType: file.contentType,
        size: file.data instanceof Uint8Array ? file.data.byteLength : file.data.size,
        ...(file.filename === undefined ? {} : { filename: file.filename }),
      }));
      const { uploads } = unwrap(
        await raw.POST("/v1/books/{book_id}/photos", { ...book(bookId), body: { photos } }),
      );
      await Promise.all(uploads.map((ticket, index) => putPhoto(ticket, files[index] as PhotoFile)));
      return unwrap(
        await raw.POST("/v1/books/{book_id}/photos/confirm", {
          ...book(bookId),
          body: { uploadIds: uploads.map((ticket) => ticket.uploadId) },
        }),
      );
    },
    generateBook: async (bookId, opts) =>
      unwrap(
        await raw.POST("/v1/books/{book_id}/generate", {
          params: { path: { book_id: bookId }, header: idempotency(opts?.idempotencyKey) },
          ...(opts?.startAt === undefined ? {} : { body: { startAt: opts.startAt } }),
        }),
      ),
    getBookStatus: async (bookId) => unwrap(await raw.GET("/v1/books/{book_id}/status", book(bookId))),
    getBookPdf: async (bookId) => unwrap(await raw.GET("/v1/books/{book_id}/pdf", book(bookId))),
    getUsage: async () => unwrap(await raw.GET("/v1/me/usage")),
  };
}
