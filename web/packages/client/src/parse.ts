/**
 * The event-stream parser, as pure stages that accept chunks of any size:
 * `getLines` turns bytes into lines and `getMessages` turns lines into
 * messages, following the WHATWG rules ("Interpreting an event stream").
 *
 * ```ts
 * const feed = getLines(getMessages(msg => console.log(msg.event, msg.data)));
 * for await (const chunk of body) feed(chunk);
 * ```
 *
 * @module
 */

/** One dispatched event. */
export interface EventSourceMessage {
  /** The last event ID at dispatch time ('' when the server never sent one). */
  id: string;
  /** The event type; 'message' when the block had no `event:` field. */
  event: string;
  /** The data lines joined with '\n'. Never empty: blocks without data are not dispatched. */
  data: string;
}

/** Callbacks of {@link getMessages}; only `onMessage` is required. */
export interface MessageCallbacks {
  /** Called once per dispatched event, in stream order. */
  onMessage: (msg: EventSourceMessage) => void;
  /** Called with the value of each valid `retry:` field (ASCII digits only). */
  onRetry?: (ms: number) => void;
  /**
   * Called when a blank line changes the last event ID without dispatching a
   * message (a block with `id:` but no data). Messages carry their own id.
   */
  onId?: (id: string) => void;
  /** Called with the text of each comment line (`:heartbeat` gives 'heartbeat'). */
  onComment?: (text: string) => void;
}

const LF = 10;
const CR = 13;

/**
 * Returns a function that takes the stream's bytes in chunks of any size and
 * calls `onLine` once per complete line, without its terminator.
 *
 * It decodes UTF-8 (a character may be split across chunks), drops one leading
 * byte order mark, and ends lines at CRLF, LF or CR, including a CRLF whose CR
 * ends one chunk and whose LF starts the next. A last line without a
 * terminator is never reported: the WHATWG rules discard it at end of stream.
 */
export function getLines(onLine: (line: string) => void): (chunk: Uint8Array) => void {
  // The BOM is dropped by hand so that only the stream's first line loses it.
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let pending = ''; // decoded text of the unfinished line
  let skipLF = false; // the previous chunk ended in CR; a leading LF belongs to it
  let first = true;

  return (chunk) => {
    let from = 0;
    if (skipLF && chunk.length > 0) {
      if (chunk[0] === LF) from = 1;
      skipLF = false;
    }
    // Line ends are ASCII, so they are found on bytes. Text inside a line is
    // decoded in streaming mode so a character split across chunks survives;
    // at a line end the decoder is flushed, so a broken sequence becomes
    // U+FFFD in the line it belongs to.
    for (let i = from; i < chunk.length; i++) {
      const b = chunk[i];
      if (b !== LF && b !== CR) continue;
      let line = pending + decoder.decode(chunk.subarray(from, i));
      pending = '';
      if (first) {
        first = false;
        if (line.charCodeAt(0) === 0xfeff) line = line.slice(1);
      }
      if (b === CR) {
        if (i + 1 === chunk.length) skipLF = true;
        else if (chunk[i + 1] === LF) i++;
      }
      from = i + 1;
      onLine(line);
    }
    if (from < chunk.length) pending += decoder.decode(chunk.subarray(from), { stream: true });
  };
}

/**
 * Returns a function that takes lines (from {@link getLines}) and dispatches
 * messages: fields `event`, `data`, `id` and `retry`, one leading space
 * stripped from a value, comments ignored, `id` values containing NUL
 * ignored, `retry` taken only when it is all ASCII digits, dispatch on a blank
 * line and none when the data buffer is empty.
 *
 * `initialId` seeds the last event ID buffer, as browsers do when they
 * reconnect, so events without an `id:` field keep the id the stream resumed
 * from.
 */
export function getMessages(callbacks: MessageCallbacks, initialId = ''): (line: string) => void {
  const { onMessage, onRetry, onId, onComment } = callbacks;
  let data: string[] = [];
  let event = '';
  let id = initialId;
  let dispatchedId = initialId;

  return (line) => {
    if (line === '') {
      if (data.length > 0) {
        const msg = { id, event: event || 'message', data: data.join('\n') };
        data = [];
        event = '';
        dispatchedId = id;
        onMessage(msg);
      } else {
        event = '';
        if (id !== dispatchedId) {
          dispatchedId = id;
          onId?.(id);
        }
      }
      return;
    }
    const colon = line.indexOf(':');
    if (colon === 0) {
      onComment?.(line.slice(1));
      return;
    }
    let field = line;
    let value = '';
    if (colon > 0) {
      field = line.slice(0, colon);
      value = line.charCodeAt(colon + 1) === 32 ? line.slice(colon + 2) : line.slice(colon + 1);
    }
    switch (field) {
      case 'event':
        event = value;
        break;
      case 'data':
        data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) id = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) onRetry?.(parseInt(value, 10));
        break;
      default:
        // Unknown fields are ignored.
        break;
    }
  };
}
