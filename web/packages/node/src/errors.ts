import { readErrorBody } from '@ssehub/client';

export type { ErrorBody } from '@ssehub/client';

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
  /** The part of the request at fault (`data/message/text`: `data` plus the JSON pointer of the failing value; `event` for an unknown event; `target`, …), if the server said. */
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
  const body = await readErrorBody(res); // the client's reader: one parser of ssehub's error bodies
  const code = body.code || `http_${res.status}`;
  const detail = body.message ?? res.statusText;
  return new SSEHubError({
    status: res.status,
    code,
    message: `ssehub: ${res.status} ${code}${detail ? `: ${detail}` : ''}`,
    field: body.field,
    index: body.index,
    retryAfterMs,
    attempts,
  });
}
