import { readFile } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { freePort } from './ports.js';

/** A request to /api/sse as the proxy saw it. */
export interface StreamRequest {
  url: URL;
  /** The token's `sub`, from the Authorization header or access_token. */
  user: string;
  lastEventId: string | undefined;
  at: number;
}

/** Mints a token for `GET /test/token?sub=…&tenant=…&channels=…`. */
export type TokenMinter = (params: URLSearchParams) => Promise<string>;

/**
 * WebServer serves the bundled test pages and reverse-proxies /api to ssehub,
 * so a page and the API share one origin (ssehub sends no CORS headers). It
 * can also play a failing network: `cut()` drops every open event stream and
 * `down` answers 502 as a proxy does while its backend is away.
 */
export class WebServer {
  readonly #pagesDir: string;
  readonly #upstream: () => number;
  readonly #mint: TokenMinter;
  readonly #streams = new Map<ServerResponse, IncomingMessage>(); // open event streams → their upstream
  #server: Server | undefined;
  port = 0;
  /** While true, /api answers 502 without asking ssehub. */
  down = false;
  /** Requests to /api/sse, newest last, for assertions on headers. */
  readonly streamRequests: StreamRequest[] = [];

  constructor(pagesDir: string, upstreamPort: () => number, mint: TokenMinter) {
    this.#pagesDir = pagesDir;
    this.#upstream = upstreamPort;
    this.#mint = mint;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The URL of page `name` (client, react, react18) with `cfg` for the page script. */
  page(name: string, cfg: object = {}): string {
    return `${this.origin}/${name}.html?cfg=${encodeURIComponent(JSON.stringify(cfg))}`;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server?.listen(this.port, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    this.cut();
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  /** Drops every open event stream, as a network failure would. */
  cut(): void {
    for (const res of this.#streams.keys()) res.destroy();
    this.#streams.clear();
  }

  /** Stops forwarding bytes on every open event stream but keeps it open: a silent, half-dead connection. */
  freeze(): void {
    for (const [res, upRes] of this.#streams) {
      upRes.unpipe(res);
      upRes.pause();
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    try {
      if (url.pathname.startsWith('/api/')) return this.#proxy(req, res, url);
      if (url.pathname === '/test/token') {
        const token = await this.#mint(url.searchParams);
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' });
        res.end(token);
        return;
      }
      const html = /^\/(\w+)\.html$/.exec(url.pathname);
      if (html) {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(`<!doctype html><meta charset="utf-8"><title>${html[1]}</title><div id="root"></div><script type="module" src="/${html[1]}.js"></script>`);
        return;
      }
      const js = /^\/(\w+)\.js$/.exec(url.pathname);
      if (js) {
        const body = await readFile(join(this.#pagesDir, `${js[1]}.js`));
        res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' });
        res.end(body);
        return;
      }
      res.writeHead(404).end();
    } catch (e) {
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(e));
    }
  }

  #proxy(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (url.pathname === '/api/sse') {
      const h = req.headers['last-event-id'];
      const token = req.headers.authorization?.replace(/^Bearer /, '') ?? url.searchParams.get('access_token') ?? '';
      this.streamRequests.push({ url, user: subOf(token), lastEventId: Array.isArray(h) ? h[0] : h, at: Date.now() });
    }
    if (this.down) {
      res.writeHead(502, { 'Content-Type': 'text/plain' }).end('bad gateway');
      return;
    }
    const up = request(
      { host: '127.0.0.1', port: this.#upstream(), method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        if (String(upRes.headers['content-type']).startsWith('text/event-stream')) {
          res.flushHeaders();
          this.#streams.set(res, upRes);
        }
        upRes.pipe(res);
        upRes.on('error', () => res.destroy());
      },
    );
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' }).end('bad gateway');
      else res.destroy();
    });
    req.pipe(up);
    res.on('close', () => {
      this.#streams.delete(res);
      up.destroy();
    });
  }
}

/** The `sub` claim of a JWT, without checking it ('' if unreadable). */
function subOf(jwt: string): string {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as { sub?: unknown };
    return typeof payload.sub === 'string' ? payload.sub : '';
  } catch {
    return '';
  }
}
