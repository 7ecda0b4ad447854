package h2

import (
	"strconv"

	"golang.org/x/net/http2/hpack"
)

// DefaultMaxHeaderListSize bounds a decoded header list when the caller
// gives no limit. It matches net/http's DefaultMaxHeaderBytes (1 MiB).
const DefaultMaxHeaderListSize = 1 << 20

// HeaderListTooLargeError reports a header block whose decoded size (RFC
// 9113 §6.5.2: name + value + 32 per field) exceeds the limit. The block was
// still decoded to the end, so HPACK state is intact and the connection
// continues; the server answers the stream with 431 (RFC 6585 §5, RFC 9113
// §10.5.1) or RST_STREAM.
type HeaderListTooLargeError struct{ StreamID uint32 }

func (e HeaderListTooLargeError) Error() string {
	return "h2: header list too large on stream " + strconv.FormatUint(uint64(e.StreamID), 10)
}

var (
	errSizeUpdateLate = connErr(ErrCodeCompression, "dynamic table size update after a field (RFC 7541 §4.2)")
	errBlockTooLong   = connErr(ErrCodeEnhanceYourCalm, "header block far longer than the header list limit")
	errHPACKTruncated = connErr(ErrCodeCompression, "header block ends inside a representation")
)

// HeaderDecoder decodes and validates the header blocks of one connection.
// It wraps hpack.Decoder, whose dynamic table is per connection (RFC 7541
// §2.2): every block of the connection must go through the same
// HeaderDecoder, in order, including blocks of streams being refused.
//
// Use per block: Begin, Write for the HEADERS fragment and each
// CONTINUATION fragment, then End. hpack allocates a string per decoded
// name and value; the field slice is reused from block to block.
type HeaderDecoder struct {
	// AllowExtendedConnect accepts the :protocol pseudo-header of RFC 8441
	// §4; set it only after advertising SETTINGS_ENABLE_CONNECT_PROTOCOL.
	AllowExtendedConnect bool

	dec           *hpack.Decoder
	scan          blockScanner
	fields        []hpack.HeaderField
	head          RequestHead
	maxListSize   uint32
	maxBlockBytes int

	// per block
	streamID   uint32
	trailers   bool
	endStream  bool
	listSize   uint32
	blockBytes int
	tooLarge   bool
}

// NewHeaderDecoder returns a decoder for a connection on which this
// endpoint advertised SETTINGS_HEADER_TABLE_SIZE maxTableSize and
// SETTINGS_MAX_HEADER_LIST_SIZE maxListSize (0 or Unlimited means
// DefaultMaxHeaderListSize: a limit is always enforced).
//
// A dynamic table size update above maxTableSize is a COMPRESSION_ERROR
// (RFC 7541 §6.3, checked by hpack.Decoder).
func NewHeaderDecoder(maxTableSize, maxListSize uint32) *HeaderDecoder {
	if maxListSize == 0 || maxListSize == Unlimited {
		maxListSize = DefaultMaxHeaderListSize
	}
	d := &HeaderDecoder{maxListSize: maxListSize}
	// An encoded block can exceed its decoded size only through Huffman
	// strings (at most 30 bits per octet, RFC 7541 Appendix B) and size
	// updates; four times the limit plus slack admits every honest block
	// and stops a peer that streams CONTINUATION frames forever.
	d.maxBlockBytes = 4*int(maxListSize) + 4096
	d.dec = hpack.NewDecoder(maxTableSize, d.emit)
	// No single string can fit in a list this size; hpack then stops
	// buffering an over-long string instead of collecting it.
	d.dec.SetMaxStringLength(int(maxListSize))
	return d
}

// Begin starts a header block on streamID. trailers says the block follows
// the request's header section (RFC 9113 §8.1); endStream is the HEADERS
// frame's END_STREAM flag.
func (d *HeaderDecoder) Begin(streamID uint32, trailers, endStream bool) {
	d.streamID, d.trailers, d.endStream = streamID, trailers, endStream
	d.listSize, d.blockBytes, d.tooLarge = 0, 0, false
	d.scan.reset()
	// Drop a slice grown by one huge block rather than keep it for the
	// connection's lifetime.
	if cap(d.fields) > 256 {
		d.fields = nil
	}
	clear(d.fields) // release the previous block's strings
	d.fields = d.fields[:0]
	d.dec.SetEmitEnabled(true)
}

// Write decodes one header block fragment. Its errors are connection
// errors (COMPRESSION_ERROR, or ENHANCE_YOUR_CALM for an endless block):
// the HPACK context can no longer be trusted. That includes a single name
// or value longer than the whole list limit, which hpack refuses to decode
// (as x/net/http2 does) rather than buffer.
func (d *HeaderDecoder) Write(frag []byte) error {
	d.blockBytes += len(frag)
	if d.blockBytes > d.maxBlockBytes {
		return errBlockTooLong
	}
	if err := d.scan.scan(frag); err != nil {
		return err
	}
	if _, err := d.dec.Write(frag); err != nil {
		return ConnectionError{ErrCodeCompression, err.Error()}
	}
	return nil
}

// End finishes the block and validates it as a request header section, or
// as trailers (RFC 9113 §8.1-§8.3).
//
// Errors: ConnectionError (COMPRESSION_ERROR: the block ended mid-field);
// HeaderListTooLargeError; StreamError with PROTOCOL_ERROR for a malformed
// request (§8.1.1). The RequestHead is valid until the next Begin; its
// strings stay valid for as long as the caller keeps them.
func (d *HeaderDecoder) End() (*RequestHead, error) {
	if err := d.dec.Close(); err != nil {
		return nil, errHPACKTruncated
	}
	if d.tooLarge {
		return nil, HeaderListTooLargeError{d.streamID}
	}
	if reason := d.validate(); reason != "" {
		return nil, StreamError{d.streamID, ErrCodeProtocol, reason}
	}
	return &d.head, nil
}

// SetAllowedMaxDynamicTableSize changes the table size limit once the
// peer has acknowledged a new SETTINGS_HEADER_TABLE_SIZE (RFC 7541 §4.2).
func (d *HeaderDecoder) SetAllowedMaxDynamicTableSize(v uint32) {
	d.dec.SetAllowedMaxDynamicTableSize(v)
}

func (d *HeaderDecoder) emit(f hpack.HeaderField) {
	size := f.Size()
	if size > d.maxListSize-d.listSize {
		// Keep decoding without collecting: the dynamic table must stay in
		// step with the peer's (RFC 9113 §4.3).
		d.tooLarge = true
		d.dec.SetEmitEnabled(false)
		return
	}
	d.listSize += size
	d.fields = append(d.fields, f)
}
