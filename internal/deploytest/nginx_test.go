package deploytest

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ssehub/ssehub/auth"
)

// sseEvent is one event, or one comment line (Name ":comment"), read from a stream.
type sseEvent struct {
	ID, Name, Data string
	At             time.Time
}

// readEvents parses an event stream and sends what it reads on the returned
// channel, which is closed when the body ends (the caller closes the body).
func readEvents(body interface{ Read([]byte) (int, error) }) <-chan sseEvent {
	ch := make(chan sseEvent, 64)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(body)
		var ev sseEvent
		var data []string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Name != "" || len(data) > 0 {
					ev.Data, ev.At = strings.Join(data, "\n"), time.Now()
					ch <- ev
				}
				ev, data = sseEvent{}, nil
			case strings.HasPrefix(line, ":"):
				ch <- sseEvent{Name: ":comment", Data: line[1:], At: time.Now()}
			default:
				field, value, _ := strings.Cut(line, ":")
				value = strings.TrimPrefix(value, " ")
				switch field {
				case "id":
					ev.ID = value
				case "event":
					ev.Name = value
				case "data":
					data = append(data, value)
				}
			}
		}
	}()
	return ch
}

// next returns the next event called name, failing the test after timeout
// or when the stream ends.
func next(t *testing.T, ch <-chan sseEvent, name string, timeout time.Duration) sseEvent {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("stream ended while waiting for %q", name)
			}
			if ev.Name == name {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %q within %v", name, timeout)
		}
	}
}

// TestNginxConfStreamsUnbuffered runs deploy/nginx/ssehub.conf, as shipped
// except for addresses, ports and file paths, in the nginx on PATH in
// front of a real ssehub, and streams through it over TLS and HTTP/2.
func TestNginxConfStreamsUnbuffered(t *testing.T) {
	nginx := nginxBinary(t)
	dir := t.TempDir()

	// ssehub, with a short heartbeat so that one is seen through nginx.
	bin := buildSSEHub(t, dir)
	hubAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	_, hubExited := startProcess(t, "ssehub", exec.Command(bin,
		"--addr", hubAddr, "--jwt-secret", secret, "--heartbeat", "300ms", "--log-level", "warn"))
	waitHTTP(t, http.DefaultClient, "http://"+hubAddr+"/readyz", hubExited, 15*time.Second)

	// The nginx file, rendered for this machine.
	const host = "events.example.com"
	certPath, keyPath, cert := selfSigned(t, dir, host)
	src, err := os.ReadFile(filepath.Join("..", "..", "deploy", "nginx", "ssehub.conf"))
	if err != nil {
		t.Fatal(err)
	}
	httpPort, httpsPort := freePort(t), freePort(t)
	conf := string(src)
	conf = replaceOnce(t, conf, "server 127.0.0.1:8080;", "server "+hubAddr+";")
	conf = replaceOnce(t, conf, "    listen 80;\n", fmt.Sprintf("    listen 127.0.0.1:%d;\n", httpPort))
	conf = replaceOnce(t, conf, "    listen [::]:80;\n", "")
	conf = replaceOnce(t, conf, "    listen 443 ssl http2;\n", fmt.Sprintf("    listen 127.0.0.1:%d ssl http2;\n", httpsPort))
	conf = replaceOnce(t, conf, "    listen [::]:443 ssl http2;\n", "")
	conf = replaceOnce(t, conf, "/etc/letsencrypt/live/events.example.com/fullchain.pem", certPath)
	conf = replaceOnce(t, conf, "/etc/letsencrypt/live/events.example.com/privkey.pem", keyPath)
	conf = replaceOnce(t, conf, "/var/log/nginx/ssehub-stream.log", filepath.Join(dir, "stream.log"))
	if err := os.WriteFile(filepath.Join(dir, "ssehub.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	user := ""
	if os.Geteuid() == 0 {
		// Workers would run as nobody, who cannot enter the test's 0700 directory.
		user = "user root;\n"
	}
	main := fmt.Sprintf(`%sworker_processes 1;
events { worker_connections 256; }
http {
    access_log %[2]s/access.log;
    client_body_temp_path %[2]s/client_body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    include %[2]s/ssehub.conf;
}
`, user, dir)
	mainPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(mainPath, []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-e", "stderr", "-p", dir, "-c", mainPath,
		"-g", "daemon off; pid " + filepath.Join(dir, "nginx.pid") + "; error_log stderr;"}

	out, err := exec.Command(nginx, append([]string{"-t"}, args...)...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "test is successful") {
		t.Fatalf("nginx -t on deploy/nginx/ssehub.conf: %v\n%s", err, out)
	}
	_, nginxExited := startProcess(t, "nginx", exec.Command(nginx, args...))

	pool := x509.NewCertPool()
	pool.AddCert(cert)
	tr := &http.Transport{
		TLSClientConfig:       &tls.Config{RootCAs: pool, ServerName: host},
		ForceAttemptHTTP2:     true,
		ResponseHeaderTimeout: 5 * time.Second,
	}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}
	base := fmt.Sprintf("https://127.0.0.1:%d", httpsPort)
	waitHTTP(t, client, base+"/healthz", nginxExited, 10*time.Second)

	// The stream, through nginx.
	userTok, err := auth.Mint([]byte(secret), auth.Claims{Subject: "u1", TenantID: "t1", Channels: []string{"room:*"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/sse?channels=room:1", nil)
	req.Header.Set("Authorization", "Bearer "+userTok)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/sse through nginx: %s", resp.Status)
	}
	if resp.ProtoMajor != 2 {
		t.Errorf("GET /api/sse through nginx: %s, want HTTP/2 to the client", resp.Proto)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Errorf("Content-Type through nginx = %q, want text/event-stream", ct)
	}
	if ce := resp.Header.Get("Content-Encoding"); ce == "gzip" || ce == "br" {
		t.Errorf("Content-Encoding through nginx = %q: the stream must not be compressed", ce)
	}
	events := readEvents(resp.Body)

	ready := next(t, events, "sse:ready", 3*time.Second)
	var r struct {
		ConnectionID string `json:"connectionId"`
		UserID       string `json:"userId"`
	}
	if err := json.Unmarshal([]byte(ready.Data), &r); err != nil || r.UserID != "u1" || r.ConnectionID == "" {
		t.Fatalf("sse:ready through nginx: %q (%v)", ready.Data, err)
	}

	// A heartbeat comes through: nginx passes bytes on as they arrive.
	next(t, events, ":comment", 2*time.Second)

	// An event published through nginx arrives within 1 s.
	pubTok, err := auth.Mint([]byte(secret), auth.Claims{Subject: "backend", TenantID: "t1", Roles: []string{auth.RolePublisher}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		body := fmt.Sprintf(`{"event":"chat:message","tenantId":"t1","data":{"n":%d},"target":{"channel":"room:1"}}`, i)
		preq, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/events", strings.NewReader(body))
		preq.Header.Set("Authorization", "Bearer "+pubTok)
		preq.Header.Set("Content-Type", "application/json")
		sent := time.Now()
		presp, err := client.Do(preq)
		if err != nil {
			t.Fatal(err)
		}
		presp.Body.Close()
		if presp.StatusCode != http.StatusAccepted {
			t.Fatalf("POST /api/events through nginx: %s", presp.Status)
		}
		ev := next(t, events, "chat:message", time.Second)
		if want := fmt.Sprintf(`{"n":%d}`, i); ev.Data != want {
			t.Fatalf("event %d through nginx: data %q, want %q", i, ev.Data, want)
		}
		t.Logf("event %d: publish to delivery through nginx %v", i, ev.At.Sub(sent).Round(100*time.Microsecond))
	}
}
