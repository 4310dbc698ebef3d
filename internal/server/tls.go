package server

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// configureTLS sets srv's protocols and, with --tls-cert and --tls-key, its
// TLS configuration. Over TLS the server speaks HTTP/2 (negotiated by ALPN)
// and HTTP/1.1; with --h2c it also speaks HTTP/2 in cleartext to clients
// that start with the HTTP/2 preface (prior knowledge), as proxies such as
// Envoy, Caddy or Traefik do when told the backend speaks h2c. Many streams
// then share one TCP connection, up to 250 at once per connection (the
// net/http default).
func configureTLS(cfg Config, srv *http.Server, log *slog.Logger) error {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	if cfg.H2C {
		p.SetUnencryptedHTTP2(true)
	}
	if cfg.TLSCert != "" {
		p.SetHTTP2(true)
		r, err := newCertReloader(cfg.TLSCert, cfg.TLSKey, log)
		if err != nil {
			return err
		}
		srv.TLSConfig = &tls.Config{
			MinVersion:     tls.VersionTLS12,
			GetCertificate: r.get,
		}
	}
	srv.Protocols = p
	return nil
}

// serve serves srv on ln, over TLS when srv has a TLS configuration.
func serve(srv *http.Server, ln net.Listener) error {
	if srv.TLSConfig != nil {
		return srv.ServeTLS(ln, "", "")
	}
	return srv.Serve(ln)
}

// certReloader serves a certificate and key pair from files, and loads them
// again when either file changes (checked at most once a second, on a TLS
// handshake), so a renewed certificate (certbot, cert-manager) is used
// without a restart. A pair that fails to load is logged and the previous
// one kept.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger

	mu       sync.Mutex
	cert     *tls.Certificate
	modCert  time.Time
	modKey   time.Time
	checked  time.Time
	interval time.Duration
}

func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: log, interval: time.Second}
	if err := r.load(); err != nil {
		return nil, err
	}
	r.checked = time.Now()
	return r, nil
}

// loadKeyPair loads a certificate and key, with an error naming the
// settings.
func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return c, fmt.Errorf("tls-cert/tls-key: %w", err)
	}
	return c, nil
}

func modTime(path string) time.Time {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// load reads the pair; r.mu is held or r is not shared yet.
func (r *certReloader) load() error {
	mc, mk := modTime(r.certFile), modTime(r.keyFile)
	c, err := loadKeyPair(r.certFile, r.keyFile)
	if err != nil {
		return err
	}
	r.cert, r.modCert, r.modKey = &c, mc, mk
	return nil
}

func (r *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.checked) >= r.interval {
		r.checked = now
		if !modTime(r.certFile).Equal(r.modCert) || !modTime(r.keyFile).Equal(r.modKey) {
			if err := r.load(); err != nil {
				r.log.Warn("tls: cannot reload the certificate, keeping the previous one", "err", err)
			} else {
				r.log.Info("tls: certificate reloaded", "file", r.certFile)
			}
		}
	}
	return r.cert, nil
}
