package natsbroker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/broker/natsbroker"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var (
	natsOnce sync.Once
	natsErr  error
)

// natsURL returns the URL of the test NATS server with JetStream
// (SSEHUB_TEST_NATS_URL, by default nats://127.0.0.1:4222). When it does
// not answer, the test is skipped loudly, or fails when CI is set.
func natsURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("SSEHUB_TEST_NATS_URL")
	if u == "" {
		u = "nats://127.0.0.1:4222"
	}
	natsOnce.Do(func() {
		nc, err := nats.Connect(u, nats.Timeout(2*time.Second))
		if err != nil {
			natsErr = err
			return
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			natsErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, natsErr = js.AccountInfo(ctx)
	})
	if err := natsErr; err != nil {
		msg := fmt.Sprintf("NATS WITH JETSTREAM IS NOT REACHABLE AT %s (%v): natsbroker tests need a real nats-server -js", u, err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip("!!! SKIPPED: " + msg + "; with CI set this fails")
	}
	return u
}

// adminJS returns a JetStream context on its own connection, closed at
// cleanup.
func adminJS(t testing.TB, u string) (jetstream.JetStream, error) {
	t.Helper()
	nc, err := nats.Connect(u, nats.Timeout(2*time.Second), nats.Name("ssehub-test-admin"))
	if err != nil {
		return nil, err
	}
	t.Cleanup(nc.Close)
	return jetstream.New(nc)
}

// uniqueStream returns a fresh stream name; the stream is deleted at
// cleanup.
func uniqueStream(t testing.TB, u string) string {
	t.Helper()
	var r [6]byte
	_, _ = rand.Read(r[:])
	name := "SSEHUBTEST_" + strings.ToUpper(hex.EncodeToString(r[:]))
	js, err := adminJS(t, u)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { deleteStream(t, js, name) })
	return name
}

func deleteStream(t testing.TB, js jetstream.JetStream, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := js.DeleteStream(ctx, name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Errorf("delete stream %s: %v", name, err)
	}
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// newNode returns a broker that is closed at cleanup.
func newNode(t testing.TB, cfg natsbroker.Config) *natsbroker.Broker {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := natsbroker.New(ctx, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func msg(i int) broker.Message {
	return broker.Message{
		Event: "test:event", TenantID: "t1",
		Data:   fmt.Appendf(nil, `{"i":%d}`, i),
		Target: broker.Target{Kind: broker.ToTenant},
	}
}

// hostOf returns host:port of a nats:// URL.
func hostOf(t testing.TB, u string) string {
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Host
}

func viaProxy(u, from, to string) string { return strings.Replace(u, from, to, 1) }
