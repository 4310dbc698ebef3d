package metrics

import (
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// HTTP counts the responses of the handlers it wraps as
// ssehub_http_responses_total{route,code}. It is a [prometheus.Collector];
// the zero value is not usable, call [NewHTTP].
type HTTP struct {
	responses *prometheus.CounterVec
}

// NewHTTP returns an HTTP response counter.
func NewHTTP() *HTTP {
	return &HTTP{responses: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "ssehub", Name: "http_responses_total",
		Help: "HTTP responses by route (the ServeMux pattern; \"none\" when nothing matched) and status code, counted when the status is sent (a stream when it opens).",
	}, []string{"route", "code"})}
}

// Describe implements [prometheus.Collector].
func (m *HTTP) Describe(ch chan<- *prometheus.Desc) { m.responses.Describe(ch) }

// Collect implements [prometheus.Collector].
func (m *HTTP) Collect(ch chan<- prometheus.Metric) { m.responses.Collect(ch) }

// Wrap returns next counted. next should be, or end in, an
// *http.ServeMux: the route label is the pattern it matched, so its
// values are bounded by the registered patterns. A response is counted
// when its status is sent (a stream when it opens), or when the handler
// returns without sending one (net/http then sends 200, unless the
// connection was taken over). The ResponseWriter passed on unwraps to the
// original, so http.ResponseController (flushes, write deadlines,
// hijacking) works through it.
func (m *HTTP) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		sw.count = func(code int) {
			route := r.Pattern // set by the mux before it calls the handler
			if route == "" {
				route = "none"
			}
			m.responses.WithLabelValues(route, strconv.Itoa(code)).Inc()
		}
		defer sw.commit(http.StatusOK)
		next.ServeHTTP(sw, r)
	})
}

// statusWriter counts the response once, at its status. It implements no
// optional interface but FlushError: http.ResponseController reaches the
// rest through Unwrap.
type statusWriter struct {
	http.ResponseWriter
	count func(code int)
	done  atomic.Bool
}

func (w *statusWriter) commit(code int) {
	if w.done.CompareAndSwap(false, true) {
		w.count(code)
	}
}

func (w *statusWriter) WriteHeader(code int) {
	if code >= 200 {
		w.commit(code)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	w.commit(http.StatusOK)
	return w.ResponseWriter.Write(p)
}

// FlushError flushes and reports the error, as http.ResponseController
// expects of a writer that can flush.
func (w *statusWriter) FlushError() error {
	w.commit(http.StatusOK)
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
