/** The `error` member of an ssehub error body: `{"error":{"code","message","field","index"}}`. */
export interface ErrorBody {
  code?: string;
  message?: string;
  field?: string;
  index?: number;
}

/**
 * A publish that failed: the server refused it (`status` is the HTTP status)
 * or it could not be delivered (`status` 0, `code` `network_error` or
 * `timeout`, the last failure in `cause`).
 *
 * Branch on `code`, never on `message`: `unprocessable_event` (422: unknown
 * event or payload not matching its schema; `field` says where),
 * `invalid_request` and `malformed_request` (400), `unauthorized` and
 * `token_expired` (401), `forbidden` (403), `payload_too_large` (413),
 * `rate_limited` (429), `shutting_down` and `broker_unavailable` (503).
 */
export class SSEHubError extends Error {
  override name = 'SSEHubError';
  /** The HTTP status, or 0 when no response was received. */
  readonly status: number;
  /** The server's `error.code`, `http_<status>` when the body had none, or `network_error` / `timeout`. */
  readonly code: string;
  /** The part of the request at fault (`data`, `data/message/text`, `target`, …), if the server said. */
  readonly field: string | undefined;
  /** The index of the event at fault in a batch, if the server said. */
  readonly index: number | undefined;
  /** The delay the server asked for (`Retry-After`), in ms. */
  readonly retryAfterMs: number | undefined;
  /** How many requests were made. */
  readonly attempts: number;

  constructor(
    init: {
      status: number;
      code: string;
      message: string;
      field?: string | undefined;
      index?: number | undefined;
      retryAfterMs?: number | undefined;
      attempts: number;
    },
    options?: { cause?: unknown },
  ) {
    super(init.message, options);
    this.status = init.status;
    this.code = init.code;
    this.field = init.field;
    this.index = init.index;
    this.retryAfterMs = init.retryAfterMs;
    this.attempts = init.attempts;
  }
}

/** Reads an error response into an {@link SSEHubError}. */
export async function errorFromResponse(res: Response, attempts: number, retryAfterMs: number | undefined): Promise<SSEHubError> {
  let body: ErrorBody = {};
  try {
    const parsed = (await res.json()) as { error?: unknown } | null;
    if (parsed && typeof parsed.error === 'object' && parsed.error !== null) body = parsed.error as ErrorBody;
  } catch {
    // Not JSON (a proxy's page): keep the status alone.
  }
  const code = typeof body.code === 'string' && body.code ? body.code : `http_${res.status}`;
  const detail = typeof body.message === 'string' ? body.message : res.statusText;
  return new SSEHubError({
    status: res.status,
    code,
    message: `ssehub: ${res.status} ${code}${detail ? `: ${detail}` : ''}`,
    field: typeof body.field === 'string' ? body.field : undefined,
    index: typeof body.index === 'number' ? body.index : undefined,
    retryAfterMs,
    attempts,
  });
}
