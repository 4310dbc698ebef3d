package ssehttp

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/ssehub/ssehub/auth"
	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/hub"
)

// Error is an HTTP error with the code clients branch on. Handlers return
// it, or any error WriteError knows how to map.
type Error struct {
	Status  int
	Code    string
	Message string
	// Field and Index, when set, point at the part of the request at fault.
	Field string
	Index *int
	// RetryAfter, in seconds, is sent as the Retry-After header when > 0.
	RetryAfter int
}

func (e *Error) Error() string { return e.Message }

// errorBody is the JSON of every error response.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
		Index   *int   `json:"index,omitempty"`
	} `json:"error"`
}

// The error codes. Clients branch on these, never on messages.
const (
	CodeUnauthorized       = "unauthorized"
	CodeTokenExpired       = "token_expired"
	CodeForbidden          = "forbidden"
	CodeNotFound           = "not_found"
	CodeMethodNotAllowed   = "method_not_allowed"
	CodeMalformed          = "malformed_request"
	CodeInvalid            = "invalid_request"
	CodeTooLarge           = "payload_too_large"
	CodeUnsupportedMedia   = "unsupported_media_type"
	CodeUnprocessable      = "unprocessable_event"
	CodeTooManyConnections = "too_many_connections"
	CodeRateLimited        = "rate_limited"
	CodeDisabled           = "sse_disabled"
	CodeShuttingDown       = "shutting_down"
	CodeUnavailable        = "broker_unavailable"
	CodeInternal           = "internal_error"
)

// ToError maps an error from the hub, the broker or auth to an *Error.
func ToError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var limit *hub.LimitError
	var ve *hub.ValidationError
	var se *hub.SchemaError
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, auth.ErrTokenExpired):
		return &Error{Status: 401, Code: CodeTokenExpired, Message: "the token has expired"}
	case errors.Is(err, auth.ErrNoCredentials), errors.Is(err, auth.ErrInvalidToken):
		return &Error{Status: 401, Code: CodeUnauthorized, Message: err.Error()}
	case errors.Is(err, auth.ErrForbidden):
		return &Error{Status: 403, Code: CodeForbidden, Message: err.Error()}
	case errors.As(err, &limit):
		return &Error{Status: 429, Code: CodeTooManyConnections, Message: err.Error(),
			RetryAfter: max(1, int(limit.RetryAfter.Seconds()))}
	case errors.Is(err, hub.ErrRateLimited):
		return &Error{Status: 429, Code: CodeRateLimited, Message: err.Error(), RetryAfter: 1}
	case errors.Is(err, hub.ErrDisabled):
		return &Error{Status: 503, Code: CodeDisabled, Message: "streaming is disabled by an administrator"}
	case errors.Is(err, hub.ErrClosed), errors.Is(err, broker.ErrClosed):
		return &Error{Status: 503, Code: CodeShuttingDown, Message: "the server is shutting down", RetryAfter: 1}
	case errors.Is(err, broker.ErrUnavailable):
		return &Error{Status: 503, Code: CodeUnavailable, Message: err.Error(), RetryAfter: 1}
	case errors.Is(err, hub.ErrTooLarge), errors.As(err, &mbe):
		return &Error{Status: 413, Code: CodeTooLarge, Message: err.Error()}
	case errors.As(err, &se):
		i := se.Index
		field := "data"
		var f interface{ Field() string }
		if errors.As(se.Err, &f) {
			field = f.Field()
		}
		return &Error{Status: 422, Code: CodeUnprocessable, Message: se.Err.Error(), Field: field, Index: &i}
	case errors.As(err, &ve):
		i := ve.Index
		return &Error{Status: 400, Code: CodeInvalid, Message: ve.Err.Error(), Field: ve.Field, Index: &i}
	case errors.Is(err, hub.ErrTooManyChannels):
		return &Error{Status: 400, Code: CodeInvalid, Message: err.Error(), Field: "channels"}
	case errors.Is(err, hub.ErrNotFound):
		return &Error{Status: 404, Code: CodeNotFound, Message: err.Error()}
	case errors.Is(err, hub.ErrInvalidChannel), errors.Is(err, hub.ErrInvalidTenant),
		errors.Is(err, hub.ErrInvalidUser), errors.Is(err, hub.ErrInvalidEventName):
		return &Error{Status: 400, Code: CodeInvalid, Message: err.Error()}
	}
	return &Error{Status: 500, Code: CodeInternal, Message: "internal error"}
}

// WriteError writes err as a JSON error response: the one place where errors
// become status codes.
func WriteError(w http.ResponseWriter, err error) {
	e := ToError(err)
	var body errorBody
	body.Error.Code, body.Error.Message, body.Error.Field, body.Error.Index = e.Code, e.Message, e.Field, e.Index
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	writeJSON(w, e.Status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = 500, []byte(`{"error":{"code":"internal_error","message":"cannot encode response"}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// allowMethod answers 405 with an Allow header, and returns false, unless
// the request uses one of methods (the first is the one advertised).
func allowMethod(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", methods[0])
	WriteError(w, &Error{Status: 405, Code: CodeMethodNotAllowed, Message: "use " + methods[0]})
	return false
}
