// @vitest-environment node
import { renderToString } from 'react-dom/server';
import { describe, expect, it, vi } from 'vitest';
import { SSEProvider, useSSE, useSSEEvent } from './index.js';

describe('server-side rendering', () => {
  it('renders without location, network or errors', () => {
    const fetch = vi.fn();
    function Status() {
      const { connected, connecting } = useSSE();
      useSSEEvent('chat:message', () => {});
      return <p>{connected ? 'connected' : connecting ? 'connecting' : 'idle'}</p>;
    }
    const html = renderToString(
      <SSEProvider options={{ url: '/api/sse', fetch }}>
        <Status />
      </SSEProvider>,
    );
    expect(html).toBe('<p>idle</p>');
    expect(fetch).not.toHaveBeenCalled();
  });
});
