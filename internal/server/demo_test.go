package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/ssehub/ssehub/internal/server"
)

// TestDemoOnlyInDevMode runs the server with and without dev mode and asks
// for the demo's page and sign-in.
func TestDemoOnlyInDevMode(t *testing.T) {
	for _, tc := range []struct {
		name              string
		secret            string
		wantPage, wantLog int
	}{
		{"dev mode", "", 200, 200},
		{"with a secret", secret, 404, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			cfg := server.Defaults()
			cfg.Addr = "127.0.0.1:0"
			cfg.LogLvl = "error"
			cfg.JWTSecret = tc.secret
			ready := make(chan string, 1)
			done := make(chan error, 1)
			go func() { done <- server.Run(ctx, cfg, io.Discard, os.Stderr, ready) }()
			base := "http://" + <-ready

			resp, err := http.Get(base + "/")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantPage {
				t.Errorf("GET /: got %d, want %d", resp.StatusCode, tc.wantPage)
			}
			if tc.wantPage == 200 && !strings.Contains(string(body), "/assets/app.js") {
				t.Errorf("GET /: not the demo app: %.100q", body)
			}

			resp, err = http.Post(base+"/api/demo/login", "application/json", strings.NewReader(`{"user":"alice"}`))
			if err != nil {
				t.Fatal(err)
			}
			var login struct{ Token string }
			_ = jsonDecode(resp, &login)
			resp.Body.Close()
			if resp.StatusCode != tc.wantLog {
				t.Fatalf("POST /api/demo/login: got %d, want %d", resp.StatusCode, tc.wantLog)
			}
			if tc.wantLog == 200 {
				// The demo's token opens a stream on this server.
				req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/sse", nil)
				req.Header.Set("Authorization", "Bearer "+login.Token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("stream with the demo token: got %d, want 200", resp.StatusCode)
				}
			}
			cancel()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Fatalf("Run: %v", err)
			}
		})
	}
}
