package client

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Config configures a [Client]. Only URL is required.
type Config struct {
	// URL is the stream endpoint, such as http://127.0.0.1:8080/api/sse.
	// Its query is kept; the client sets the channels parameter.
	URL string
	// Token returns the bearer token to send. It is called before every
	// connection attempt, so after a 401 or sse:token-expired the next
	// attempt asks for a new one; it may cache a token as long as the
	// token is valid. An error is reported to OnError and retried with
	// backoff. Nil means no Authorization header (a cookie or no auth);
	// a 401 then ends Run.
	Token func(ctx context.Context) (string, error)
	// Channels are subscribed to at connect time. Nil means none.
	Channels []string
	// LastEventID is the id to resume from on the first connection, for
	// example one saved by an earlier process from [Client.LastEventID].
	// Empty means a fresh start.
	LastEventID string
	// HTTPClient sends the requests. Nil means a client without a timeout
	// (streams are long) on http.DefaultTransport. A Timeout on it would cut
	// every stream.
	HTTPClient *http.Client
	// Backoff returns the wait before reconnect attempt attempt, 0 for the
	// first retry after a failure; the count restarts at each sse:ready.
	// The wait is at least a 429 or 5xx response's Retry-After. Nil means
	// min(base·2^attempt, 30 s) ±10 %, where base is the reconnection time
	// of the last retry field the server sent, on any connection, and 1 s
	// ([DefaultBackoff]) before one. A base under 100 ms counts as 100 ms,
	// and "retry: 0" is ignored, so that a stream cannot make the client
	// reconnect in a tight loop. A non-nil Backoff ignores retry fields.
	Backoff func(attempt int) time.Duration
	// OnReady is called when a connection is established (its sse:ready).
	// Nil means no-op.
	OnReady func(Ready)
	// OnReset is called on sse:reset: the server could not resume from
	// [Client.LastEventID] because its history no longer reaches back, so
	// events may have been missed and the application should refetch its
	// state. reason is the server's ("history_too_short", "log_lost",
	// "unknown_last_event_id"). Live events follow. Nil means no-op.
	OnReset func(reason string)
	// OnError receives each error that does not end Run: a failed attempt
	// (an [*HTTPError], a network error, [ErrHeartbeatTimeout]), a Token
	// error, or a [*DecodeError]. Nil means no-op.
	OnError func(error)
	// Logger receives the client's logs. Nil means silent.
	Logger *slog.Logger
}

// Ready is the content of sse:ready, which starts every connection.
type Ready struct {
	ConnectionID string
	UserID       string
	TenantID     string
	Channels     []string
	// Heartbeat is the server's heartbeat interval; the client reconnects
	// after 2.5 intervals of silence.
	Heartbeat time.Duration
}

// Client is a Go client of an ssehub stream. Create it with [New],
// register handlers with [On] and [Client.OnRaw], then call [Client.Run].
//
// A Client is safe for concurrent use: handlers may be added and removed
// and its accessors called from any goroutine while Run runs.
type Client struct {
	cfg     Config
	url     *url.URL
	hc      *http.Client
	backoff func(int) time.Duration
	log     *slog.Logger

	mu       sync.Mutex
	handlers map[string][]*handler
	lastID   string
	connID   string
	running  bool

	// retry is the last retry field's reconnection time, 0 before one. Only
	// the goroutine of Run uses it.
	retry time.Duration
}

// New returns a Client for cfg. It returns an error if cfg.URL is not an
// absolute http or https URL. It connects to nothing until [Client.Run].
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, errors.New("client: bad URL: " + err.Error())
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, errors.New("client: URL must be an absolute http or https URL")
	}
	if len(cfg.Channels) > 0 {
		q := u.Query()
		q.Set("channels", strings.Join(cfg.Channels, ","))
		u.RawQuery = q.Encode()
	}
	c := &Client{
		cfg:      cfg,
		url:      u,
		hc:       cfg.HTTPClient,
		backoff:  cfg.Backoff,
		log:      cfg.Logger,
		handlers: make(map[string][]*handler),
		lastID:   cfg.LastEventID,
	}
	if c.hc == nil {
		c.hc = &http.Client{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// LastEventID returns the last event ID, which the next connection sends
// as Last-Event-ID to resume without loss or duplicates (no header when it
// is ""). It follows the WHATWG rules, as a browser's EventSource: the id
// field of the last block ended by a blank line sets it, with or without
// data; an empty id field clears it; it outlives a reconnection, so events
// without an id field report it in [Meta.ID]. It is Config.LastEventID
// before the first id field.
func (c *Client) LastEventID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastID
}

// ConnectionID returns the id of the open connection, from its sse:ready,
// or "" when none is open. It is the id to pass as excludeConnectionId or
// to POST /api/sse/subscriptions.
func (c *Client) ConnectionID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connID
}

// Run connects and delivers events to the handlers until ctx ends or the
// server says to stop, reconnecting in between with backoff and
// Last-Event-ID. It returns
//
//   - ctx.Err() when ctx ends;
//   - an error matching [ErrDisabled] on 503 with code sse_disabled or on
//     sse:disabled (the 503 case also matches [*HTTPError] with errors.As);
//   - [ErrEvicted] on sse:evicted;
//   - an [*HTTPError] for a status retrying cannot fix: 403 and other
//     4xx, and 401 when Config.Token is nil;
//   - [ErrRunning] if another Run of c has not returned.
//
// Everything else is retried: network errors and streams that end (with
// [Config.Backoff]), 408, 429 and 5xx (with backoff, and at least their
// Retry-After), 401 (at once with a new token, then with backoff if it
// repeats), sse:token-expired (at once, with a new token), sse:shutdown
// (after the server's retryMs, ±10 %), and a stream silent for 2.5
// heartbeat intervals.
//
// Handlers and hooks run on the calling goroutine. Every goroutine Run
// starts has ended when it returns, and so has every request it made.
// Run may be called again after it returns; it resumes from
// [Client.LastEventID].
func (c *Client) Run(ctx context.Context) error {
	c.mu.Lock()
	if c.running {
		c.mu.Unlock()
		return ErrRunning
	}
	c.running = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.running = false
		c.mu.Unlock()
	}()

	failures := 0
	lastUnauthorized := false
	for {
		o := c.attempt(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		if o.connected {
			failures = 0 // sse:ready restarts the count
		}
		var wait time.Duration
		switch o.kind {
		case fatal:
			c.log.Info("stopped", "err", o.err)
			return o.err
		case failed:
			wait = max(c.wait(failures), o.wait)
			failures++
		case unauthorized:
			// The first 401 in a row retries at once with a new token.
			if lastUnauthorized {
				wait = c.wait(failures)
			}
			failures++
		case planned:
			wait = o.wait
			failures = 0
		}
		lastUnauthorized = o.kind == unauthorized
		if o.err != nil {
			c.log.Info("disconnected", "err", o.err, "retry_in", wait)
			c.report(o.err)
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// wait is the backoff before reconnect attempt n: Config.Backoff's, or the
// default with the server's retry as its base.
func (c *Client) wait(n int) time.Duration {
	if c.backoff != nil {
		return c.backoff(n)
	}
	if c.retry > 0 {
		return backoff(max(c.retry, minRetryBase), n)
	}
	return DefaultBackoff(n)
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// report hands a non-fatal error to OnError.
func (c *Client) report(err error) {
	if fn := c.cfg.OnError; fn != nil {
		fn(err)
	}
}
