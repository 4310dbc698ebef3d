package natsbroker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/ssehub/ssehub/broker/brokertest"
	"github.com/ssehub/ssehub/broker/natsbroker"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testNATS is the NATS server with JetStream the tests share:
// SSEHUB_TEST_NATS_URL, by default nats://127.0.0.1:4222.
var testNATS = brokertest.SharedServer{
	Name: "NATS WITH JETSTREAM", Env: "SSEHUB_TEST_NATS_URL", Default: "nats://127.0.0.1:4222",
	Need: "natsbroker tests need a real nats-server -js",
	Ping: func(u string) error {
		nc, err := nats.Connect(u, nats.Timeout(2*time.Second))
		if err != nil {
			return err
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err = js.AccountInfo(ctx)
		return err
	},
}

// natsURL returns the URL of the test NATS server. When it does not
// answer, the test is skipped loudly, or fails when CI is set.
func natsURL(t testing.TB) string { return testNATS.URL(t) }

// engine returns the test NATS server to the shared tests of brokertest: a
// log is a stream.
func engine(t testing.TB) brokertest.Engine {
	t.Helper()
	u := natsURL(t)
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return brokertest.Engine{
		Addr: p.Host,
		NewLog: func(t testing.TB) string {
			return uniqueStream(t, u)
		},
		DeleteLog: func(t testing.TB, stream string) {
			js, err := adminJS(t, u)
			if err != nil {
				t.Fatal(err)
			}
			deleteStream(t, js, stream)
		},
		New: func(ctx context.Context, c brokertest.NodeConfig) (brokertest.Node, error) {
			cu := u
			if c.Addr != "" {
				cu = strings.Replace(u, p.Host, c.Addr, 1)
			}
			return natsbroker.New(ctx, natsbroker.Config{
				URL: cu, Stream: c.Log, NodeID: c.NodeID, HistorySize: c.HistorySize,
				HistoryAge: c.HistoryAge, Timeout: c.Timeout, Logger: c.Logger,
			})
		},
	}
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
