package server_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ssehub/ssehub/auth"
	"github.com/ssehub/ssehub/internal/server"
)

// scrape returns the samples of a /metrics page by series.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: got %d, want 200", url, resp.StatusCode)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func status(t *testing.T, method, url string, hdr ...string) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if resp.StatusCode == 200 && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		resp.Body.Close() // a stream: the status is all we need
		return resp.StatusCode
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestMetricsThroughTheBinary runs the server as configured by default,
// streams and publishes over TCP, and reads the counters back from
// /metrics, along with the admin connections list.
func TestMetricsThroughTheBinary(t *testing.T) {
	cfg := server.Defaults()
	cfg.LogLvl = "warn"
	cfg.NodeID = "node-a"
	base := "http://" + run(t, cfg, nil)
	var chans []<-chan struct{}
	for i := range 2 {
		_, events := streamOver(t, http.DefaultClient, base, mintToken(t, auth.Claims{Subject: fmt.Sprintf("u%d", i), TenantID: "acme"}))
		got := make(chan struct{})
		go func() {
			n := 0
			for range events {
				if n++; n == 3 {
					close(got)
				}
			}
		}()
		chans = append(chans, got)
	}
	pub := mintToken(t, auth.Claims{Subject: "backend", TenantID: "acme", Roles: []string{auth.RolePublisher}})
	for i := range 3 {
		publishOver(t, http.DefaultClient, base, pub, fmt.Sprintf(`{"event":"order:paid","target":{"tenantId":"acme"},"data":{"i":%d}}`, i))
	}
	for _, c := range chans {
		select {
		case <-c:
		case <-time.After(5 * time.Second):
			t.Fatal("events did not arrive")
		}
	}
	want := map[string]float64{
		`ssehub_connections{tenant="acme"}`:                           2,
		`ssehub_connections_opened_total`:                             2,
		`ssehub_events_published_total{event="order:paid"}`:           3,
		`ssehub_events_delivered_total{event="order:paid"}`:           6,
		`ssehub_http_responses_total{code="202",route="/api/events"}`: 3,
		`ssehub_node_info{node_id="node-a"}`:                          1,
		`ssehub_broker_up`:                                            1,
		`ssehub_connections_limit`:                                    500,
		fmt.Sprintf(`ssehub_build_info{go_version=%q,revision="",version="dev"}`, runtime.Version()): 1,
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := scrape(t, base+"/metrics")
		bad := ""
		for k, v := range want {
			if got[k] != v {
				bad += fmt.Sprintf("\n%s: got %v, want %v", k, got[k], v)
			}
		}
		if _, ok := got["go_goroutines"]; !ok {
			bad += "\ngo_goroutines missing"
		}
		if _, ok := got["process_resident_memory_bytes"]; !ok && runtime.GOOS == "linux" {
			bad += "\nprocess_resident_memory_bytes missing"
		}
		if bad == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(bad)
		}
		time.Sleep(20 * time.Millisecond)
	}

	admin := mintToken(t, auth.Claims{Subject: "root", Roles: []string{auth.RoleAdmin}, Global: true})
	req, _ := http.NewRequest("GET", base+"/api/admin/sse/connections?tenantId=acme", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Node        string `json:"node"`
		Connections []struct {
			UserID string `json:"userId"`
			Node   string `json:"node"`
		} `json:"connections"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != 200 {
		t.Fatalf("connections: %d %v", resp.StatusCode, err)
	}
	if len(list.Connections) != 2 || list.Node != "node-a" || list.Connections[0].Node != "node-a" {
		t.Errorf("connections: got %+v, want the two of node-a", list)
	}
}

func TestMetricsOffOrOnTheirOwnListener(t *testing.T) {
	cfg := server.Defaults()
	cfg.LogLvl = "warn"
	cfg.Metrics = false
	base := "http://" + run(t, cfg, nil)
	if code := status(t, "GET", base+"/metrics"); code != 404 {
		t.Errorf("--metrics=false: /metrics got %d, want 404", code)
	}

	cfg = server.Defaults()
	cfg.LogLvl = "warn"
	cfg.MetricsAddr = freeAddr(t)
	base = "http://" + run(t, cfg, nil)
	if code := status(t, "GET", base+"/metrics"); code != 404 {
		t.Errorf("--metrics-addr: /metrics on the main listener got %d, want 404", code)
	}
	if got := scrape(t, "http://"+cfg.MetricsAddr+"/metrics"); got["ssehub_broker_up"] != 1 {
		t.Errorf("--metrics-addr: ssehub_broker_up got %v, want 1", got["ssehub_broker_up"])
	}
}

func TestCORSThroughTheBinary(t *testing.T) {
	cfg := server.Defaults()
	cfg.LogLvl = "warn"
	cfg.CORSOrigins = "https://a.example,https://b.example"
	base := "http://" + run(t, cfg, nil)
	req, _ := http.NewRequest("OPTIONS", base+"/api/events", nil)
	req.Header.Set("Origin", "https://b.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://b.example" ||
		resp.Header.Get("Access-Control-Allow-Headers") != "Authorization, Content-Type, Last-Event-ID" {
		t.Errorf("preflight: got %d %v", resp.StatusCode, resp.Header)
	}
	// Admin endpoints are not opened to other origins.
	req, _ = http.NewRequest("OPTIONS", base+"/api/admin/sse/disable", nil)
	req.Header.Set("Origin", "https://b.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("admin preflight: got Allow-Origin %q, want none", resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

func TestOpsConfigErrors(t *testing.T) {
	dir := t.TempDir()
	file := func(body string) string {
		p := filepath.Join(dir, fmt.Sprintf("c%d.yaml", time.Now().UnixNano()))
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	noEnv := func(string) string { return "" }
	env := func(k, v string) func(string) string {
		return func(key string) string {
			if key == k {
				return v
			}
			return ""
		}
	}
	const noKey = "dev: false, but no key is configured"
	cases := []struct {
		name string
		args []string
		env  func(string) string
		want string // "" means valid
	}{
		{"dev=false without a key", []string{"--dev=false"}, noEnv, noKey},
		{"SSEHUB_DEV=false without a key", nil, env("SSEHUB_DEV", "false"), noKey},
		{"dev: false in the file", []string{"--config", file("dev: false\n")}, noEnv, noKey},
		{"dev=false with a secret", []string{"--dev=false", "--jwt-secret", secret}, noEnv, ""},
		{"dev=false with a JWKS URL", []string{"--dev=false", "--jwks-url", "https://idp.example/jwks.json"}, noEnv, ""},
		{"no dev setting and no key: dev mode", nil, noEnv, ""},
		{"bad dev value", []string{"--dev=maybe"}, noEnv, "dev"},
		{"cors origin with a path", []string{"--cors-origins", "https://a.example/app"}, noEnv, "cors-origins"},
		{"cors star among origins", []string{"--cors-origins", "*,https://a.example"}, noEnv, "cors-origins"},
		{"cors without scheme", nil, env("SSEHUB_CORS_ORIGINS", "a.example"), "cors-origins"},
		{"cors good", []string{"--cors-origins", "https://a.example, http://localhost:3000"}, noEnv, ""},
		{"metrics-addr with metrics off", []string{"--metrics=false", "--metrics-addr", "127.0.0.1:9090"}, noEnv, "metrics-addr: set, but --metrics is false"},
		{"metrics-addr same as addr", []string{"--metrics-addr", "127.0.0.1:8080"}, noEnv, "metrics-addr: the same as --addr"},
		{"metrics-addr without port", []string{"--metrics-addr", "localhost"}, noEnv, "metrics-addr"},
		{"metrics-tenants invalid", []string{"--metrics-tenants", "acme,bad tenant"}, noEnv, "metrics-tenants"},
		{"addr without port", []string{"--addr", "0.0.0.0"}, noEnv, "addr: address 0.0.0.0: missing port"},
		{"addr port only", []string{"--addr", ":8080", "--jwt-secret", secret}, noEnv, ""},
		{"metrics off by env", nil, env("SSEHUB_METRICS", "false"), ""},
		{"metrics bool garbage", nil, env("SSEHUB_METRICS", "sometimes"), "SSEHUB_METRICS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := server.Load("serve", tc.args, tc.env, nil)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("got %v, want valid", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestBinaryRefusesDevFalseWithoutKey checks the error reaches the user
// of the real binary with exit status 2 and a message naming the fix.
func TestBinaryRefusesDevFalseWithoutKey(t *testing.T) {
	cmd := exec.Command(binary(t), "--dev=false", "--addr", freeAddr(t))
	cmd.Env = append(os.Environ(), "SSEHUB_JWT_SECRET=", "SSEHUB_DEV=")
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "--jwt-secret") {
		t.Fatalf("got %v, output %q; want exit status 2 and a message naming --jwt-secret", err, out)
	}
}

// TestTokensAndPayloadsNeverLogged runs the server at debug level, in both
// log formats, through failed and successful authentication, streams and
// publishes, and checks no token, secret or payload reaches the log, and
// that every line about a connection carries its id.
func TestTokensAndPayloadsNeverLogged(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			cfg := server.Defaults()
			cfg.LogLvl, cfg.LogFmt = "debug", format
			var logs syncBuffer
			base := "http://" + run(t, cfg, &logs)

			good := mintToken(t, auth.Claims{Subject: "alice", TenantID: "acme", Channels: []string{"*"}})
			forged, err := auth.Mint([]byte("another-secret-another-secret-another"), auth.Claims{Subject: "alice", TenantID: "acme"}, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			expired, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
				"sub": "alice", "tid": "acme", "exp": time.Now().Add(-time.Minute).Unix(),
			}).SignedString([]byte(secret))
			if err != nil {
				t.Fatal(err)
			}
			garbage := "not.a.jwt-SECRETISH-GARBAGE"
			for _, bad := range []string{forged, expired, garbage} {
				if code := status(t, "GET", base+"/api/sse", "Authorization", "Bearer "+bad); code != 401 {
					t.Errorf("bad token in header: got %d, want 401", code)
				}
				if code := status(t, "GET", base+"/api/sse?access_token="+bad); code != 401 {
					t.Errorf("bad token in query: got %d, want 401", code)
				}
				if code := status(t, "GET", base+"/api/sse", "Cookie", "ssehub_token="+bad); code != 401 {
					t.Errorf("bad token in cookie: got %d, want 401", code)
				}
				if code := status(t, "POST", base+"/api/events", "Authorization", "Bearer "+bad, "Content-Type", "application/json"); code != 401 {
					t.Errorf("bad token publishing: got %d, want 401", code)
				}
			}
			_, events := streamOver(t, http.DefaultClient, base, good)
			pub := mintToken(t, auth.Claims{Subject: "backend", TenantID: "acme", Roles: []string{auth.RolePublisher}})
			const payload = "PAYLOAD-MARKER-do-not-log"
			publishOver(t, http.DefaultClient, base, pub, `{"event":"note","target":{"userId":"alice"},"data":{"text":"`+payload+`"}}`)
			select {
			case ev := <-events:
				if !strings.Contains(ev.Data, payload) {
					t.Fatalf("got %q, want the payload", ev.Data)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("event did not arrive")
			}

			out := logs.String()
			for what, s := range map[string]string{
				"valid token": good, "forged token": forged, "expired token": expired, "garbage token": garbage,
				"publisher token": pub, "secret": secret, "payload": payload,
				"a token's signature": good[strings.LastIndexByte(good, '.')+1:],
			} {
				if strings.Contains(out, s) {
					t.Errorf("the log contains the %s", what)
				}
			}
			if !strings.Contains(out, "connection opened") {
				t.Fatalf("the log has no connection lines; the test proves nothing:\n%s", out)
			}
			// Every line about alice's connection names it.
			connID := regexp.MustCompile(`conn_id"?[=:]"?[A-Za-z0-9._-]+`)
			for line := range strings.Lines(out) {
				if strings.Contains(line, "alice") && !connID.MatchString(line) {
					t.Errorf("a line about a connection without its id: %s", line)
				}
			}
		})
	}
}

// TestVersion prints the version with the VCS revision of the build.
func TestVersion(t *testing.T) {
	var out, errb strings.Builder
	if code := server.Main([]string{"version"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "ssehub dev (") ||
		!strings.Contains(out.String(), runtime.Version()) {
		t.Fatalf("version: code %d, got %q", code, out.String())
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("no git here (%v): cannot check the revision", err)
	}
	bin := filepath.Join(t.TempDir(), "ssehub")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "../../cmd/ssehub").CombinedOutput(); err != nil {
		t.Fatalf("go build -buildvcs=true: %v\n%s", err, out)
	}
	b, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	// Go does not stamp every checkout (a linked worktree, for one).
	if info, _ := exec.Command("go", "version", "-m", bin).Output(); !strings.Contains(string(info), "vcs.revision=") {
		t.Skipf("go build stamped no VCS revision here; binary says %q", b)
	}
	if rev := strings.TrimSpace(string(head)); !strings.Contains(string(b), "revision "+rev) {
		t.Errorf("binary version %q, want revision %s", b, rev)
	}
}
