package brokerbase

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ssehub/ssehub/broker"
)

func TestFrameRoundTrip(t *testing.T) {
	for _, m := range []broker.Message{
		{Event: "chat:message", TenantID: "t9", Data: []byte("{\"text\":\"a\\nb ünï\"}"),
			Target:      broker.Target{Kind: broker.ToUsers, UserIDs: []string{"u1", "u2"}},
			ExcludeConn: "c-123", IdempotencyKey: "k"},
		{Event: "system:announcement", Data: []byte(`{}`), Target: broker.Target{Kind: broker.ToBroadcast}},
		{Event: "x", TenantID: "t1", Target: broker.Target{Kind: broker.ToChannel, Channel: "a/b@c"}},
	} {
		f, err := Encode(m)
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		got, err := Decode(f, errors.New("bad"))
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		want := m
		want.IdempotencyKey = "" // does not travel
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
			t.Fatalf("round trip: got %+v, want %+v", got, want)
		}
		if len(m.Data) > 0 && !bytes.HasSuffix(f, m.Data) {
			t.Fatalf("frame %q does not end with Data byte for byte", f)
		}
	}
}

func TestFrameMalformed(t *testing.T) {
	bad := errors.New("bad")
	good, _ := Encode(broker.Message{Event: "e", Data: []byte(`1`)})
	for _, f := range [][]byte{nil, {}, {2}, {frameVersion}, {frameVersion, 0xff}, {frameVersion, 50, '{'}, good[:3], append([]byte{frameVersion, 1}, '{')} {
		if _, err := Decode(f, bad); err != bad {
			t.Errorf("Decode(%q): got %v, want bad", f, err)
		}
	}
}

func TestParseAfter(t *testing.T) {
	id := broker.FormatID("abc", 42)
	if e, s, err := ParseAfter(id); e != "abc" || s != 42 || err != nil {
		t.Fatalf("ParseAfter(%q): got %q, %d, %v", id, e, s, err)
	}
	for _, after := range []string{"", "-1", "abc", "abc-", "abc-!", strings.Repeat("x", 100)} {
		if _, _, err := ParseAfter(after); !errors.Is(err, broker.ErrUnknownEpoch) {
			t.Errorf("ParseAfter(%q): got %v, want ErrUnknownEpoch", after, err)
		}
	}
	if _, _, err := ParseAfter(strings.Repeat("x", 100)); len(err.Error()) > 120 {
		t.Errorf("error not truncated: %v", err)
	}
}

func TestCheckAfter(t *testing.T) {
	for _, tc := range []struct {
		seq, first, last uint64
		size             int
		want             error
	}{
		{5, 1, 10, 100, nil},
		{10, 11, 10, 100, nil},                   // the end of an empty log
		{11, 1, 10, 100, broker.ErrUnknownEpoch}, // ahead
		{0, 2, 10, 100, broker.ErrTooOld},        // trimmed
		{1, 2, 10, 100, nil},
		{4, 1, 10, 5, broker.ErrTooOld}, // beyond HistorySize
		{5, 1, 10, 5, nil},
		{9, 1, 10, 0, broker.ErrTooOld}, // no history
		{10, 1, 10, 0, nil},
	} {
		err := CheckAfter("id", tc.seq, tc.first, tc.last, tc.size)
		if (tc.want == nil && err != nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("CheckAfter(seq %d, first %d, last %d, size %d): got %v, want %v", tc.seq, tc.first, tc.last, tc.size, err, tc.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	if Backoff(1) != 100*time.Millisecond || Backoff(5) != 1600*time.Millisecond || Backoff(6) != 2*time.Second || Backoff(100) != 2*time.Second {
		t.Fatalf("Backoff: got %v %v %v %v", Backoff(1), Backoff(5), Backoff(6), Backoff(100))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Sleep(ctx, time.Hour) {
		t.Fatal("Sleep with a cancelled context reported true")
	}
	if !Sleep(context.Background(), time.Millisecond) {
		t.Fatal("Sleep reported false")
	}
}

func TestCore(t *testing.T) {
	var logs bytes.Buffer
	c := NewCore("xbroker", slog.New(slog.NewTextHandler(&logs, nil)))
	c.SetEpoch("e1")
	c.SetEpoch("e1")
	if logs.Len() != 0 || c.Epoch() != "e1" {
		t.Fatalf("first epoch: got %q and logs %q, want e1 and no logs", c.Epoch(), logs.String())
	}
	c.SetEpoch("e2")
	if !strings.Contains(logs.String(), "log lost") || c.Epoch() != "e2" {
		t.Fatalf("new epoch: got %q and logs %q", c.Epoch(), logs.String())
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := c.Wrap(ctx, "op", errors.New("boom")); !errors.Is(err, broker.ErrUnavailable) || !strings.HasPrefix(err.Error(), "xbroker: op: ") {
		t.Fatalf("Wrap: got %v", err)
	}
	gctx, stop, err := c.Add(ctx)
	if err != nil {
		t.Fatalf("Add: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer c.Done()
		defer close(done)
		defer stop()
		<-gctx.Done()
	}()
	if !c.Close() || c.Close() {
		t.Fatal("Close: want true, then false")
	}
	c.Wait()
	<-done
	if !c.Closed() || c.Context().Err() == nil {
		t.Fatal("after Close: not closed, or Context not done")
	}
	if _, _, err := c.Add(ctx); !errors.Is(err, broker.ErrClosed) {
		t.Fatalf("Add after Close: got %v, want ErrClosed", err)
	}
	if err := c.Wrap(ctx, "op", errors.New("boom")); !errors.Is(err, broker.ErrClosed) {
		t.Fatalf("Wrap after Close: got %v, want ErrClosed", err)
	}
	cancel()
	c2 := NewCore("xbroker", slog.New(slog.DiscardHandler))
	if err := c2.Wrap(ctx, "op", errors.New("boom")); !errors.Is(err, context.Canceled) || errors.Is(err, broker.ErrUnavailable) {
		t.Fatalf("Wrap with a cancelled context: got %v", err)
	}
}
