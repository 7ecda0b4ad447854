package ws

import (
	"bytes"
	"strconv"

	"github.com/klauspost/compress/flate"
)

// ExtensionDeflate is the permessage-deflate extension token (RFC 7692 §7).
const ExtensionDeflate = "permessage-deflate"

// DeflateConfig is what a server is willing to do for permessage-deflate.
// The zero value accepts any valid offer with context takeover both ways.
type DeflateConfig struct {
	// ServerNoContextTakeover makes the server compress every message with
	// a fresh compressor (announced as server_no_context_takeover). Without
	// it a connection keeps its compressor between messages, which costs
	// the memory of a flate.Writer per connection (800 KiB at level 1,
	// 1.0-1.4 MiB at levels 2..9; see BenchmarkDeflaterMemory and
	// TestFlateLibMemory) for better compression of similar messages; none
	// below a 15-bit server window, which compresses Huffman-only and has
	// no context to keep. With it, compressors come from a pool and are
	// held only while a message is being compressed.
	ServerNoContextTakeover bool
	// ClientNoContextTakeover asks the client to compress every message
	// afresh (client_no_context_takeover), so the server keeps no inflate
	// dictionary between messages.
	ClientNoContextTakeover bool
	// ServerMaxWindowBits (8..15; 0 means 15) caps the server's LZ77 window.
	// Below 15 it is announced as server_max_window_bits. See Deflater for
	// how the server honours a window below 15.
	ServerMaxWindowBits int
	// ClientMaxWindowBits (8..15; 0 means 15) caps the window the client may
	// compress with, which is the size of the inflate dictionary the server
	// keeps per connection under context takeover. It can only be announced
	// when the client offered client_max_window_bits (RFC 7692 §7.1.2.2); an
	// offer without it is declined when this is below 15 and the client
	// keeps its context, because the server could not hold it to the limit.
	ClientMaxWindowBits int
	// Level is the flate level of the server's compressor (the values of
	// compress/flate; the compressor is klauspost/compress/flate's): 1..9 or
	// flate.HuffmanOnly (-2); 0 means 1 (flate.BestSpeed). Level 1 is the
	// fast choice and the smallest compressor; levels 7..9 clear their hash
	// tables on every Reset, i.e. per message without context takeover.
	Level int
}

// DeflateParams is the outcome of a negotiation: the parameters both sides
// use on the connection.
type DeflateParams struct {
	ServerNoContextTakeover bool
	ClientNoContextTakeover bool
	ServerMaxWindowBits     int // 8..15
	ClientMaxWindowBits     int // 8..15
	Level                   int // server compressor level

	sendServerBits bool // answer carries server_max_window_bits
	sendClientBits bool // answer carries client_max_window_bits
}

func windowBitsOr15(b int) int {
	if b < 8 || b > 15 {
		return 15
	}
	return b
}

// deflateOffer is one parsed permessage-deflate offer.
type deflateOffer struct {
	serverNoCtx, clientNoCtx bool
	serverBits               int // 0: absent
	clientBits               int // 0: absent, -1: present without value
}

// parseDeflateOffer reads the parameters of a permessage-deflate offer. It
// returns ok=false when RFC 7692 §7 says the offer must be declined: an
// unknown parameter, a duplicate, or an invalid value.
func parseDeflateOffer(e Extension) (o deflateOffer, ok bool) {
	const (
		seenServerNoCtx = 1 << iota
		seenClientNoCtx
		seenServerBits
		seenClientBits
	)
	var seen uint8
	ps := e.Params()
	for {
		name, value, hasValue, more := ps.Next()
		if !more {
			return o, true
		}
		var bit uint8
		switch {
		case bytes.EqualFold(name, []byte("server_no_context_takeover")):
			bit, o.serverNoCtx = seenServerNoCtx, true
			if hasValue {
				return o, false
			}
		case bytes.EqualFold(name, []byte("client_no_context_takeover")):
			bit, o.clientNoCtx = seenClientNoCtx, true
			if hasValue {
				return o, false
			}
		case bytes.EqualFold(name, []byte("server_max_window_bits")):
			// §7.1.2.1: a value is required.
			bit = seenServerBits
			if o.serverBits = parseWindowBits(value); !hasValue || o.serverBits == 0 {
				return o, false
			}
		case bytes.EqualFold(name, []byte("client_max_window_bits")):
			// §7.1.2.2: the value is optional.
			bit, o.clientBits = seenClientBits, -1
			if hasValue {
				if o.clientBits = parseWindowBits(value); o.clientBits == 0 {
					return o, false
				}
			}
		default:
			return o, false
		}
		if seen&bit != 0 {
			return o, false
		}
		seen |= bit
	}
}

// parseWindowBits parses a window-bits value: a decimal 8..15 without
// leading zeros (§7.1.2.1), possibly quoted (§7.1: the unquoted text must
// then be a token). It returns 0 if invalid.
func parseWindowBits(v []byte) int {
	var buf [4]byte
	if len(v) > len(buf) {
		return 0
	}
	switch u := Unquote(buf[:0], v); {
	case len(u) == 1 && (u[0] == '8' || u[0] == '9'):
		return int(u[0] - '0')
	case len(u) == 2 && u[0] == '1' && u[1] >= '0' && u[1] <= '5':
		return 10 + int(u[1]-'0')
	}
	return 0
}

// Negotiate picks the first permessage-deflate offer in the client's
// Sec-WebSocket-Extensions header values (in order; offers are listed by
// preference, RFC 7692 §5) that is valid and that this configuration can
// accept, and returns the parameters of the connection. ok=false means no
// offer was acceptable and the connection runs without compression. Offers of
// other extensions are skipped; a syntax error ends the scan of that value.
func (c DeflateConfig) Negotiate(headers ...[]byte) (p DeflateParams, ok bool) {
	for _, h := range headers {
		s := ScanExtensions(h)
		for {
			e, more := s.Next()
			if !more {
				break
			}
			if !bytes.EqualFold(e.Name, []byte(ExtensionDeflate)) {
				continue
			}
			o, valid := parseDeflateOffer(e)
			if !valid {
				continue
			}
			if p, ok = c.accept(o); ok {
				return p, true
			}
		}
	}
	return DeflateParams{}, false
}

func (c DeflateConfig) accept(o deflateOffer) (p DeflateParams, ok bool) {
	p.Level = c.Level
	if p.Level == 0 {
		p.Level = flate.BestSpeed
	}
	// §7.1.1.1, §7.1.1.2: the server may add either no_context_takeover on
	// its own; one the client offered is echoed so that it binds.
	p.ServerNoContextTakeover = c.ServerNoContextTakeover || o.serverNoCtx
	p.ClientNoContextTakeover = c.ClientNoContextTakeover || o.clientNoCtx

	// §7.1.2.1: answer an offered server_max_window_bits with the same or a
	// smaller value; the server may also announce a limit of its own.
	p.ServerMaxWindowBits = windowBitsOr15(c.ServerMaxWindowBits)
	if o.serverBits != 0 {
		p.ServerMaxWindowBits = min(p.ServerMaxWindowBits, o.serverBits)
		p.sendServerBits = true
	} else if p.ServerMaxWindowBits < 15 {
		p.sendServerBits = true
	}

	// §7.1.2.2: client_max_window_bits may be answered only if offered.
	cfgClient := windowBitsOr15(c.ClientMaxWindowBits)
	switch {
	case o.clientBits > 0:
		// The client named its limit; answer with the tighter of the two
		// so the dictionary size is agreed explicitly.
		p.ClientMaxWindowBits = min(cfgClient, o.clientBits)
		p.sendClientBits = true
	case o.clientBits < 0:
		p.ClientMaxWindowBits = cfgClient
		p.sendClientBits = cfgClient < 15
	default:
		if cfgClient < 15 && !p.ClientNoContextTakeover {
			return DeflateParams{}, false
		}
		// Without context takeover the dictionary lives only during one
		// message, in the pooled inflater, whose window is 32 KiB anyway.
		p.ClientMaxWindowBits = 15
	}
	return p, true
}

// AppendResponse appends the Sec-WebSocket-Extensions value that accepts p
// (RFC 7692 §7), e.g. "permessage-deflate; server_no_context_takeover".
func (p DeflateParams) AppendResponse(dst []byte) []byte {
	dst = append(dst, ExtensionDeflate...)
	if p.ServerNoContextTakeover {
		dst = append(dst, "; server_no_context_takeover"...)
	}
	if p.ClientNoContextTakeover {
		dst = append(dst, "; client_no_context_takeover"...)
	}
	if p.sendServerBits {
		dst = append(dst, "; server_max_window_bits="...)
		dst = strconv.AppendInt(dst, int64(p.ServerMaxWindowBits), 10)
	}
	if p.sendClientBits {
		dst = append(dst, "; client_max_window_bits="...)
		dst = strconv.AppendInt(dst, int64(p.ClientMaxWindowBits), 10)
	}
	return dst
}

// NewServerDeflater returns the compressor for the server's messages.
func (p DeflateParams) NewServerDeflater() *Deflater {
	return NewDeflater(p.Level, p.ServerMaxWindowBits, !p.ServerNoContextTakeover)
}

// NewServerInflater returns the decompressor for the client's messages.
func (p DeflateParams) NewServerInflater() *Inflater {
	return NewInflater(p.ClientMaxWindowBits, !p.ClientNoContextTakeover)
}

// NewClientDeflater returns the compressor for a client's messages (clients
// and tests).
func (p DeflateParams) NewClientDeflater(level int) *Deflater {
	return NewDeflater(level, p.ClientMaxWindowBits, !p.ClientNoContextTakeover)
}

// NewClientInflater returns the decompressor for the server's messages on a
// client.
func (p DeflateParams) NewClientInflater() *Inflater {
	return NewInflater(p.ServerMaxWindowBits, !p.ServerNoContextTakeover)
}
