package sse

import "time"

// Event is one server-sent event.
//
// For encoding, the zero value of each field means "omit that line", except
// Data: every event carries at least one data line (see [AppendEvent]).
// A decoded Event describes what a browser's EventSource would deliver: Name
// is never empty ("message" when the stream gave no event field), ID is the
// stream's last event ID at dispatch, and Data has every line ending
// normalised to "\n".
type Event struct {
	// ID is the event id. When encoding, "" writes no id line. When decoding,
	// it is the last event ID in effect when the event was dispatched, which
	// persists from earlier events when this one has no id line; "" means none
	// has been set.
	ID string
	// Name is the event type. When encoding, "" writes no event line and the
	// browser dispatches a "message" event. When decoding, "" never occurs
	// for an event: a missing or empty event field decodes as "message".
	Name string
	// Data is the payload. It may contain "\n", "\r\n" or "\r"; each line is
	// written as its own data line. Decoding joins the lines with "\n", so
	// "\r\n" and "\r" come back as "\n", which is what browsers deliver.
	Data string
	// Retry is the reconnection time. When encoding, 0 writes no retry line
	// and a positive value is written in whole milliseconds (truncated). When
	// decoding, it is the value of the last valid retry line between the
	// previous blank line and the one that dispatched this event, or 0 if
	// there was none; see also [Decoder.Retry].
	Retry time.Duration
	// Comment is decode-only. A [Decoder] whose Comments field is true
	// returns each comment line as an Event whose Comment is the text after
	// the leading colon, unchanged, and whose other fields are all zero. Since
	// a decoded event always has a Name, an Event with an empty Name is a
	// comment (a bare ":" line gives an empty Comment). [AppendEvent] and
	// [Encoder.Encode] ignore this field; write comments with
	// [AppendComment] or [Encoder.Comment].
	Comment string
}
