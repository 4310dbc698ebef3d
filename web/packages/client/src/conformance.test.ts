import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { getLines, getMessages, type EventSourceMessage } from './parse.js';

/**
 * The parser vectors from peers' public test suites, recorded with their
 * repository, path and commit; the Go `sse` decoder runs the same file
 * (sse/conformance_test.go).
 */
const file = new URL('../../../../sse/testdata/conformance/vectors.json', import.meta.url);

interface Vector {
  name: string;
  source: { repo: string; path: string; commit: string; test?: string };
  input?: string;
  inputHex?: string;
  events: EventSourceMessage[];
  lastId: string;
  retry: number | null;
}

const { vectors } = JSON.parse(readFileSync(file, 'utf8')) as { vectors: Vector[] };

function bytesOf(v: Vector): Uint8Array {
  if (v.input !== undefined) return new TextEncoder().encode(v.input);
  return Uint8Array.from((v.inputHex ?? '').match(/../g) ?? [], (h) => parseInt(h, 16));
}

/** Parses `chunks` and reports what a browser would: the events, the last event ID and the reconnection time. */
function parse(chunks: Uint8Array[]) {
  const events: EventSourceMessage[] = [];
  let lastId = '';
  let retry: number | null = null;
  const feed = getLines(
    getMessages({
      onMessage: (m) => {
        events.push(m);
        lastId = m.id;
      },
      onId: (id) => {
        lastId = id;
      },
      onRetry: (ms) => {
        retry = ms;
      },
    }),
  );
  for (const c of chunks) feed(c);
  return { events, lastId, retry };
}

describe('peer vectors', () => {
  it('has vectors', () => expect(vectors.length).toBeGreaterThan(40));

  for (const v of vectors) {
    it(`${v.name} (${v.source.repo} ${v.source.path})`, () => {
      const bytes = bytesOf(v);
      const want = { events: v.events, lastId: v.lastId, retry: v.retry };
      expect(parse([bytes]), 'whole').toEqual(want);
      expect(parse(Array.from(bytes, (b) => Uint8Array.of(b))), 'one byte per chunk').toEqual(want);
      for (let cut = 0; cut <= bytes.length; cut++) {
        const got = parse([bytes.subarray(0, cut), bytes.subarray(cut)]);
        if (JSON.stringify(got) !== JSON.stringify(want)) expect(got, `cut at ${cut}`).toEqual(want);
      }
    });
  }
});
