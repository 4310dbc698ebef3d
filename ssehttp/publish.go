package ssehttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/ssehub/ssehub/auth"
	"github.com/ssehub/ssehub/broker"
)

// NewPublishHandler returns the handler of POST /api/events. The caller
// needs the publisher role; a token that is not global (auth.Identity's
// Global) may publish only into its own tenant, whatever its roles, and
// broadcasts need the admin role and a global token. The body is one event
// object or an array of them; the answer is 202 with {"id"} or {"ids"}. A
// request with any invalid event publishes nothing.
func NewPublishHandler(cfg Config) http.Handler {
	cfg = cfg.withDefaults()
	return &publishHandler{cfg: cfg, buckets: newBuckets(cfg.PublisherRate, cfg.PublisherBurst)}
}

type publishHandler struct {
	cfg     Config
	buckets *buckets
}

// PublishRequest is one event in the body of POST /api/events.
type PublishRequest struct {
	Event               string          `json:"event"`
	TenantID            string          `json:"tenantId,omitempty"`
	Data                json.RawMessage `json:"data"`
	Target              TargetJSON      `json:"target"`
	ExcludeConnectionID string          `json:"excludeConnectionId,omitempty"`
	IdempotencyKey      string          `json:"idempotencyKey,omitempty"`
}

// TargetJSON is the target of a PublishRequest: exactly one field is set.
type TargetJSON struct {
	UserID    *string  `json:"userId,omitempty"`
	UserIDs   []string `json:"userIds,omitempty"`
	TenantID  *string  `json:"tenantId,omitempty"`
	Channel   *string  `json:"channel,omitempty"`
	Broadcast *bool    `json:"broadcast,omitempty"`
}

func (h *publishHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodPost) {
		return
	}
	id, err := h.cfg.Authenticator.Authenticate(r)
	if err != nil {
		WriteError(w, err)
		return
	}
	if !id.HasRole(auth.RolePublisher) {
		WriteError(w, fmt.Errorf("%w: publishing needs the publisher role", auth.ErrForbidden))
		return
	}
	if !h.buckets.allow(id.TenantID + "/" + id.UserID) {
		WriteError(w, &Error{Status: 429, Code: CodeRateLimited, Message: "too many publish requests for this publisher", RetryAfter: 1})
		return
	}
	reqs, batch, err := decodePublish(w, r, h.cfg.MaxBodyBytes, h.cfg.MaxBatch)
	if err != nil {
		WriteError(w, err)
		return
	}
	msgs := make([]broker.Message, len(reqs))
	for i := range reqs {
		m, err := h.message(r, id, &reqs[i])
		if err != nil {
			if e := ToError(err); e.Index == nil && batch {
				e.Index = &i
				err = e
			}
			WriteError(w, err)
			return
		}
		msgs[i] = m
	}
	ids, err := h.cfg.Hub.Publish(r.Context(), msgs...)
	if err != nil {
		WriteError(w, err)
		return
	}
	// An empty id means a coalescing rate limit holds the event until the
	// end of its window.
	if batch {
		resp := map[string]any{"ids": ids}
		var held []int
		for i, id := range ids {
			if id == "" {
				held = append(held, i)
			}
		}
		if held != nil {
			resp["coalesced"] = held
		}
		writeJSON(w, http.StatusAccepted, resp)
	} else if ids[0] == "" {
		writeJSON(w, http.StatusAccepted, map[string]any{"id": "", "coalesced": true})
	} else {
		writeJSON(w, http.StatusAccepted, map[string]string{"id": ids[0]})
	}
}

// decodePublish reads one object or an array of objects, strictly: unknown
// fields and trailing data are errors.
func decodePublish(w http.ResponseWriter, r *http.Request, maxBody int64, maxBatch int) ([]PublishRequest, bool, error) {
	if !isJSON(r.Header.Get("Content-Type")) {
		return nil, false, &Error{Status: 415, Code: CodeUnsupportedMedia, Message: "send Content-Type: application/json"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return nil, false, readBodyError(err, maxBody)
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	batch := len(trimmed) > 0 && trimmed[0] == '['
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var reqs []PublishRequest
	if batch {
		err = dec.Decode(&reqs)
	} else {
		var one PublishRequest
		err = dec.Decode(&one)
		reqs = []PublishRequest{one}
	}
	if err == nil && dec.More() {
		err = errors.New("unexpected data after the JSON value")
	}
	if err == nil {
		if _, tokErr := dec.Token(); tokErr != io.EOF {
			err = errors.New("unexpected data after the JSON value")
		}
	}
	if err != nil {
		return nil, false, &Error{Status: 400, Code: CodeMalformed, Message: "malformed JSON: " + err.Error()}
	}
	if batch && len(reqs) == 0 {
		return nil, false, &Error{Status: 400, Code: CodeInvalid, Message: "empty batch"}
	}
	if len(reqs) > maxBatch {
		return nil, false, &Error{Status: 413, Code: CodeTooLarge, Message: fmt.Sprintf("at most %d events per request", maxBatch)}
	}
	return reqs, batch, nil
}

// message turns a request into a validated broker message.
func (h *publishHandler) message(r *http.Request, id auth.Identity, req *PublishRequest) (broker.Message, error) {
	bad := func(field, msg string) error {
		return &Error{Status: 400, Code: CodeInvalid, Message: msg, Field: field}
	}
	m := broker.Message{Event: req.Event, TenantID: req.TenantID, Data: req.Data, ExcludeConn: req.ExcludeConnectionID, IdempotencyKey: req.IdempotencyKey}
	if len(req.IdempotencyKey) > 256 {
		return m, bad("idempotencyKey", "at most 256 bytes")
	}
	if err := checkConnID(req.ExcludeConnectionID, false); err != nil {
		return m, err
	}
	t := req.Target
	set := 0
	for _, ok := range []bool{t.UserID != nil, t.UserIDs != nil, t.TenantID != nil, t.Channel != nil, t.Broadcast != nil} {
		if ok {
			set++
		}
	}
	if set != 1 {
		return m, bad("target", "target must have exactly one of userId, userIds, tenantId, channel, broadcast")
	}
	switch {
	case t.UserID != nil:
		m.Target = broker.Target{Kind: broker.ToUser, UserIDs: []string{*t.UserID}}
	case t.UserIDs != nil:
		m.Target = broker.Target{Kind: broker.ToUsers, UserIDs: t.UserIDs}
	case t.TenantID != nil:
		if m.TenantID == "" {
			m.TenantID = *t.TenantID
		}
		if *t.TenantID != m.TenantID {
			return m, bad("target.tenantId", "target.tenantId differs from tenantId")
		}
		m.Target = broker.Target{Kind: broker.ToTenant}
	case t.Channel != nil:
		m.Target = broker.Target{Kind: broker.ToChannel, Channel: *t.Channel}
	case t.Broadcast != nil:
		if !*t.Broadcast {
			return m, bad("target.broadcast", "broadcast must be true")
		}
		if !id.HasRole(auth.RoleAdmin) || !id.Global {
			return m, fmt.Errorf("%w: broadcast needs the admin role and a global token (%q: true)", auth.ErrForbidden, auth.GlobalClaim)
		}
		m.Target = broker.Target{Kind: broker.ToBroadcast}
	}
	// A token that is not global publishes into its tenant only, whatever
	// its roles.
	if bound := id.TenantID; !id.Global {
		if m.TenantID == "" {
			m.TenantID = bound
		}
		if m.TenantID != bound || m.Target.Kind == broker.ToBroadcast {
			return m, fmt.Errorf("%w: this token may publish only into tenant %q", auth.ErrForbidden, bound)
		}
	}
	if m.Target.Kind != broker.ToBroadcast && m.TenantID == "" {
		return m, bad("tenantId", "tenantId is required")
	}
	// The hub validates the message, runs the catalog's schema and the
	// rest of the publish pipeline (hub.Config.Schema).
	return m, nil
}
