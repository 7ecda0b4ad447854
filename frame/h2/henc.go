package h2

import (
	"bytes"
	"strconv"

	"golang.org/x/net/http2/hpack"
)

// HeaderEncoder encodes the response header blocks of one connection with
// hpack.Encoder, whose dynamic table is per connection (RFC 7541 §2.2), into
// one reused buffer.
//
// Repeated responses are cheap: a field already in the static or dynamic
// table encodes as one index and costs no allocation. A field seen for the
// first time is added to the dynamic table, which allocates; so values that
// change on every response (date, content-length, etag) should go through
// WriteFieldUnindexed, which never touches the table.
type HeaderEncoder struct {
	buf bytes.Buffer
	enc *hpack.Encoder
}

// NewHeaderEncoder returns an encoder with the default 4096-octet table.
func NewHeaderEncoder() *HeaderEncoder {
	e := &HeaderEncoder{}
	e.enc = hpack.NewEncoder(&e.buf)
	return e
}

// SetPeerMaxTableSize applies the peer's SETTINGS_HEADER_TABLE_SIZE; a
// smaller table is announced at the start of the next block (RFC 7541 §4.2).
func (e *HeaderEncoder) SetPeerMaxTableSize(v uint32) {
	e.enc.SetMaxDynamicTableSizeLimit(v)
}

// Reset starts a new header block, discarding the previous one.
func (e *HeaderEncoder) Reset() { e.buf.Reset() }

// WriteStatus encodes :status, which comes first in a response block
// (RFC 9113 §8.3.2). code must be 100..999.
func (e *HeaderEncoder) WriteStatus(code int) {
	e.WriteField(":status", statusText(code))
}

// WriteField encodes a field, indexing it in the dynamic table. name must
// be lowercase (RFC 9113 §8.2.1).
func (e *HeaderEncoder) WriteField(name, value string) {
	// Writes to a bytes.Buffer cannot fail.
	_ = e.enc.WriteField(hpack.HeaderField{Name: name, Value: value})
}

// WriteFieldUnindexed encodes a field as a literal that is never indexed
// (RFC 7541 §6.2.3), the only non-indexing representation hpack.Encoder
// offers: for volatile values it avoids dynamic-table churn and its
// allocations, and for secrets it keeps the value out of compression
// contexts (RFC 7541 §7.1.3).
func (e *HeaderEncoder) WriteFieldUnindexed(name, value string) {
	_ = e.enc.WriteField(hpack.HeaderField{Name: name, Value: value, Sensitive: true})
}

// Block returns the encoded block, valid until the next Reset or write.
func (e *HeaderEncoder) Block() []byte { return e.buf.Bytes() }

// AppendHeaders appends the block as HEADERS (+ CONTINUATION) frames, see
// the package function AppendHeaders.
func (e *HeaderEncoder) AppendHeaders(dst []byte, streamID uint32, endStream bool, maxFrameSize uint32) []byte {
	return AppendHeaders(dst, streamID, e.buf.Bytes(), endStream, maxFrameSize)
}

// statusTexts caches the decimal form of every valid status code so that
// encoding :status never formats a number.
var statusTexts [900]string

func init() {
	for i := range statusTexts {
		statusTexts[i] = strconv.Itoa(100 + i)
	}
}

func statusText(code int) string {
	if code >= 100 && code <= 999 {
		return statusTexts[code-100]
	}
	return strconv.Itoa(code)
}
