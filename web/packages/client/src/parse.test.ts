import { describe, expect, it } from 'vitest';
import { getLines, getMessages, type EventSourceMessage } from './parse.js';

const enc = new TextEncoder();

/** Parses `chunks` with the two stages and returns what they reported. */
function parse(chunks: Uint8Array[], initialId = '') {
  const messages: EventSourceMessage[] = [];
  const ids: string[] = [];
  const retries: number[] = [];
  const comments: string[] = [];
  const feed = getLines(
    getMessages(
      {
        onMessage: (m) => messages.push(m),
        onId: (id) => ids.push(id),
        onRetry: (ms) => retries.push(ms),
        onComment: (c) => comments.push(c),
      },
      initialId,
    ),
  );
  for (const c of chunks) feed(c);
  return { messages, ids, retries, comments };
}

const whole = (s: string) => parse([enc.encode(s)]);

/** Every way to cut `bytes` into two chunks, plus one byte per chunk. */
function splits(bytes: Uint8Array): Uint8Array[][] {
  const out: Uint8Array[][] = [[bytes], Array.from(bytes, (b) => Uint8Array.of(b))];
  for (let cut = 0; cut <= bytes.length; cut++) out.push([bytes.subarray(0, cut), bytes.subarray(cut)]);
  return out;
}

describe('getLines', () => {
  it('ends lines at LF, CR and CRLF', () => {
    const lines: string[] = [];
    getLines((l) => lines.push(l))(enc.encode('a\nb\rc\r\nd\n\re'));
    // 'e' has no terminator yet, so it is not a line.
    expect(lines).toEqual(['a', 'b', 'c', 'd', '']);
  });

  it('treats a CRLF split across chunks as one line end', () => {
    const lines: string[] = [];
    const feed = getLines((l) => lines.push(l));
    feed(enc.encode('a\r'));
    feed(enc.encode('\nb\r'));
    feed(enc.encode('\r\n'));
    expect(lines).toEqual(['a', 'b', '']);
  });

  it('drops one leading BOM, even split across chunks, and only at stream start', () => {
    const lines: string[] = [];
    const feed = getLines((l) => lines.push(l));
    const bytes = enc.encode('\uFEFFdata: x\n\uFEFFy\n');
    feed(bytes.subarray(0, 1));
    feed(bytes.subarray(1, 2));
    feed(bytes.subarray(2));
    expect(lines).toEqual(['data: x', '\uFEFFy']);
  });

  it('decodes a UTF-8 character split across chunks', () => {
    const bytes = enc.encode('data: é€😀\n\n');
    for (const chunks of splits(bytes)) {
      expect(parse(chunks).messages.map((m) => m.data)).toEqual(['é€😀']);
    }
  });

  it('replaces a broken UTF-8 sequence inside its own line', () => {
    const lines: string[] = [];
    getLines((l) => lines.push(l))(Uint8Array.of(0x61, 0xc3, 0x0a, 0x62, 0x0a));
    expect(lines).toEqual(['a\uFFFD', 'b']);
  });
});

describe('getMessages', () => {
  it('dispatches on a blank line with event, data and id', () => {
    expect(whole('id: 7\nevent: chat:message\ndata: {"a":1}\n\n').messages).toEqual([
      { id: '7', event: 'chat:message', data: '{"a":1}' },
    ]);
  });

  it("defaults the type to 'message' and resets it after dispatch", () => {
    expect(whole('event: x\ndata: 1\n\ndata: 2\n\n').messages.map((m) => m.event)).toEqual(['x', 'message']);
  });

  it('joins data lines with LF', () => {
    expect(whole('data: a\ndata:\ndata: b\n\n').messages[0]?.data).toBe('a\n\nb');
  });

  it('strips exactly one leading space', () => {
    expect(whole('data:  two\n\ndata:none\n\n').messages.map((m) => m.data)).toEqual([' two', 'none']);
  });

  it('treats a line without a colon as a field with an empty value', () => {
    expect(whole('data\n\n').messages).toEqual([{ id: '', event: 'message', data: '' }]);
  });

  it('does not dispatch a block without data, but resets its event type', () => {
    const r = whole('event: x\n\ndata: 1\n\n');
    expect(r.messages).toEqual([{ id: '', event: 'message', data: '1' }]);
  });

  it('ignores comments, and reports them', () => {
    const r = whole(':heartbeat\n\n: hi\ndata: 1\n\n');
    expect(r.messages.map((m) => m.data)).toEqual(['1']);
    expect(r.comments).toEqual(['heartbeat', ' hi']);
  });

  it('ignores an id containing NUL and keeps the last id across events', () => {
    const r = whole('id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\ndata: c\n\n');
    expect(r.messages.map((m) => m.id)).toEqual(['1', '1', '1']);
  });

  it('lets an empty id reset the last id', () => {
    expect(whole('id: 1\ndata: a\n\nid\ndata: b\n\n').messages.map((m) => m.id)).toEqual(['1', '']);
  });

  it('reports an id change without data through onId only', () => {
    const r = whole('id: 5\n\nid: 5\n\ndata: x\n\n');
    expect(r.ids).toEqual(['5']);
    expect(r.messages).toEqual([{ id: '5', event: 'message', data: 'x' }]);
  });

  it('starts from the id it resumes from', () => {
    expect(parse([enc.encode('data: x\n\n')], '41').messages[0]?.id).toBe('41');
  });

  it('accepts retry only when it is all ASCII digits', () => {
    expect(whole('retry: 1500\nretry: 12a\nretry: -1\nretry: 1.5\nretry:\nretry: 0\n').retries).toEqual([1500, 0]);
  });

  it('ignores unknown fields', () => {
    expect(whole('foo: bar\ndata: 1\n\n').messages.map((m) => m.data)).toEqual(['1']);
  });

  it('discards an event that the stream ends before dispatching', () => {
    expect(whole('data: 1\n\ndata: 2\n').messages.map((m) => m.data)).toEqual(['1']);
  });

  it('parses the same at every cut and with every line ending', () => {
    const stream = [
      '\uFEFFretry: 1000',
      'event: sse:ready',
      'data: {"connectionId":"c1","heartbeatMs":1000}',
      '',
      ':heartbeat',
      '',
      'id: 17',
      'event: chat:message',
      'data: {"text":"é',
      'data: line two"}',
      '',
      'id: 18',
      '',
    ];
    const want = [
      { id: '', event: 'sse:ready', data: '{"connectionId":"c1","heartbeatMs":1000}' },
      { id: '17', event: 'chat:message', data: '{"text":"é\nline two"}' },
    ];
    for (const eol of ['\n', '\r', '\r\n']) {
      for (const chunks of splits(enc.encode(stream.join(eol) + eol))) {
        const r = parse(chunks);
        expect(r.messages).toEqual(want);
        expect(r.ids).toEqual(['18']);
        expect(r.retries).toEqual([1000]);
      }
    }
  });
});
