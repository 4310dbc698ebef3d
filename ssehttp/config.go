package ssehttp

import (
	"log/slog"

	"github.com/ssehub/ssehub/auth"
	"github.com/ssehub/ssehub/hub"
)

// Config is shared by every handler of the package. Hub and Authenticator
// are required; every other field documents what zero means.
type Config struct {
	Hub           *hub.Hub
	Authenticator auth.Authenticator
	// Authorizer decides which channels a user may subscribe to. Nil means
	// auth.PatternAuthorizer (the token's "channels" claim).
	Authorizer auth.Authorizer
	// MaxBodyBytes caps a publish or subscriptions request body. Zero means
	// 1 MiB. A single event's data is also capped by the hub's MaxPayload.
	MaxBodyBytes int64
	// MaxBatch caps the events of one publish request. Zero means 100.
	MaxBatch int
	// MaxChannels caps the channels one request may name (a stream's
	// channels= list, a subscription change), checked before the hub is
	// asked; the hub's Config.MaxChannels caps a connection's channels,
	// atomically. Zero means 100.
	MaxChannels int
	// PublisherRate is how many publish requests per second one publisher
	// (token subject) may make, as a token bucket of PublisherBurst. Zero
	// means 200 per second; negative means no limit.
	PublisherRate float64
	// PublisherBurst is the bucket size. Zero means twice PublisherRate.
	PublisherBurst int
	// StandardStreams serves every stream on its handler goroutine, through
	// net/http's response writer. False (the default) hands plain HTTP/1.1
	// streams to the hub's writers once the response head is written: the
	// connection is taken over from net/http, and an idle stream then costs
	// no goroutine and no buffer. HTTP/2 and TLS streams, and writers that
	// cannot be taken over, always use the standard path.
	StandardStreams bool
	// SendBuffer, when positive, sets the kernel send buffer (SO_SNDBUF)
	// of every stream's socket, in bytes; the kernel doubles it for its
	// bookkeeping and stops sizing it by itself. Zero leaves the kernel's
	// automatic sizing, up to net.ipv4.tcp_wmem's maximum (4 MiB by
	// default on Linux) for a client that stops reading: see
	// docs/operations.md for what that costs with many stalled clients.
	SendBuffer int
	// Logger receives the handlers' logs. Nil means silent.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Hub == nil {
		panic("ssehttp: nil Hub")
	}
	if c.Authenticator == nil {
		panic("ssehttp: nil Authenticator")
	}
	if c.Authorizer == nil {
		c.Authorizer = auth.PatternAuthorizer
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = 100
	}
	if c.MaxChannels == 0 {
		c.MaxChannels = 100
	}
	if c.PublisherRate == 0 {
		c.PublisherRate = 200
	}
	if c.PublisherBurst == 0 {
		c.PublisherBurst = max(1, int(2*c.PublisherRate))
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
