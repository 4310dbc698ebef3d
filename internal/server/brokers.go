package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/broker/natsbroker"
	"github.com/ssehub/ssehub/broker/redisbroker"
)

// The cluster brokers, by URL scheme. Their own options ride in the URL's
// query and are removed before the URL reaches the client library:
//
//	redis://host:6379/0?prefix=ssehub
//	nats://host:4222?stream=SSEHUB&replicas=1&storage=file|memory
func init() {
	brokerOpeners["redis"] = openRedis
	brokerOpeners["rediss"] = openRedis
	brokerOpeners["nats"] = openNATS
}

// takeQuery removes keys from u's query and returns their values.
func takeQuery(u *url.URL, keys ...string) map[string]string {
	q := u.Query()
	out := map[string]string{}
	for _, k := range keys {
		if q.Has(k) {
			out[k] = q.Get(k)
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return out
}

func openRedis(ctx context.Context, cfg Config, log *slog.Logger) (broker.Broker, error) {
	u, _ := url.Parse(cfg.Broker)
	opts := takeQuery(u, "prefix")
	b, err := redisbroker.New(ctx, redisbroker.Config{
		URL: u.String(), Prefix: opts["prefix"], NodeID: cfg.NodeID,
		HistorySize: historySize(cfg.HistorySize), HistoryAge: cfg.HistoryAge, Logger: log,
		IdempotencyWindow: cfg.IdempotencyWindow,
	})
	if err != nil {
		return nil, fmt.Errorf("broker %s: %w", redact(cfg.Broker), err)
	}
	return b, nil
}

func openNATS(ctx context.Context, cfg Config, log *slog.Logger) (broker.Broker, error) {
	u, _ := url.Parse(cfg.Broker)
	opts := takeQuery(u, "stream", "replicas", "storage")
	nc := natsbroker.Config{
		URL: u.String(), Stream: opts["stream"], NodeID: cfg.NodeID,
		HistorySize: historySize(cfg.HistorySize), HistoryAge: cfg.HistoryAge, HistoryBytes: cfg.HistoryBytes, Logger: log,
		IdempotencyWindow: cfg.IdempotencyWindow,
	}
	if r := opts["replicas"]; r != "" {
		n, err := strconv.Atoi(r)
		if err != nil {
			return nil, fmt.Errorf("broker %s: replicas=%q is not a number", redact(cfg.Broker), r)
		}
		nc.Replicas = n
	}
	switch opts["storage"] {
	case "", "file":
	case "memory":
		nc.MemoryStorage = true
	default:
		return nil, fmt.Errorf("broker %s: storage=%q: want file or memory", redact(cfg.Broker), opts["storage"])
	}
	b, err := natsbroker.New(ctx, nc)
	if err != nil {
		return nil, fmt.Errorf("broker %s: %w", redact(cfg.Broker), err)
	}
	return b, nil
}
