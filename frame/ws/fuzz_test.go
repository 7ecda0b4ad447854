package ws

import (
	"bytes"
	stdflate "compress/flate"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// rulesFromByte derives decoding rules from one fuzzer byte.
func rulesFromByte(b byte) Rules {
	return Rules{AllowedRSV: b & 7, Mask: MaskRule((b >> 3) % 3), RejectNonMinimalLength: b&0x20 != 0}
}

func FuzzDecodeHeader(f *testing.F) {
	seeds := [][]byte{
		rawHeader(0x82, true, 0), rawHeader(0x82, true, 125), rawHeader(0x82, true, 126, 0, 126),
		rawHeader(0x82, true, 126, 0xff, 0xff), rawHeader(0x82, true, 127, 0, 0, 0, 0, 0, 1, 0, 0),
		rawHeader(0x82, true, 127, 0, 0, 0, 1, 0, 0, 0, 0), rawHeader(0x82, true, 127, 0x80, 0, 0, 0, 0, 0, 0, 0),
		rawHeader(0x83, true, 0), rawHeader(0xc1, true, 0), rawHeader(0x09, true, 0), rawHeader(0x89, true, 126, 0, 126),
		rawHeader(0x81, false, 0), rawHeader(0x82, true, 126, 0, 5), {}, {0x81},
	}
	for _, s := range seeds {
		f.Add(s, byte(0))
		f.Add(s, byte(RSV1|0x20))
	}
	f.Fuzz(func(t *testing.T, data []byte, rb byte) {
		r := rulesFromByte(rb)
		h, n, err := DecodeHeader(data, r)
		if err != nil {
			if err != ErrIncomplete {
				if _, ok := err.(*Error); !ok {
					t.Fatalf("error of type %T", err)
				}
				if n != 0 {
					t.Fatalf("n=%d with error", n)
				}
			}
			return
		}
		// The header obeys every rule.
		if n < 2 || n > MaxHeaderSize || n > len(data) || h.Length < 0 ||
			h.OpCode.IsReserved() || h.Rsv&^r.AllowedRSV != 0 ||
			(h.OpCode.IsControl() && (!h.Fin || h.Length > MaxControlPayload)) ||
			(r.Mask == MaskRequired && !h.Masked) || (r.Mask == MaskForbidden && h.Masked) {
			t.Fatalf("accepted invalid header %+v n=%d rules=%+v", h, n, r)
		}
		// Every shorter prefix is incomplete: nothing is decided early on
		// bytes that turn out valid.
		for i := 0; i < n; i++ {
			if _, _, err := DecodeHeader(data[:i], r); err != ErrIncomplete {
				t.Fatalf("prefix %d: %v", i, err)
			}
		}
		// Re-encoding gives a header that decodes to the same value.
		enc := AppendRawHeader(nil, h)
		h2, n2, err := DecodeHeader(enc, r)
		if err != nil || h2 != h || n2 != len(enc) {
			t.Fatalf("re-encode: %+v n=%d err=%v, want %+v", h2, n2, err, h)
		}
		if !r.RejectNonMinimalLength && len(enc) == n && !bytes.Equal(enc, data[:n]) {
			t.Fatalf("re-encode %x != %x", enc, data[:n])
		}
	})
}

// refAssembler is a deliberately naive model of RFC 6455 §5.4 message
// assembly, validating text only at the end of the message.
type refAssembler struct {
	compression bool
	max         int
	open        bool
	op          OpCode
	comp        bool
	buf         []byte
}

func (r *refAssembler) frame(h Header, p []byte) (Message, bool, *Error) {
	rsv1 := h.Rsv&RSV1 != 0
	if h.OpCode.IsControl() {
		if rsv1 {
			return Message{}, false, ErrCompressedBit
		}
		return Message{Op: h.OpCode, Payload: p}, true, nil
	}
	if h.OpCode == OpContinuation {
		if !r.open {
			return Message{}, false, ErrUnexpectedContinuation
		}
		if rsv1 {
			return Message{}, false, ErrCompressedBit
		}
	} else {
		if r.open {
			return Message{}, false, ErrExpectedContinuation
		}
		if rsv1 && !r.compression {
			return Message{}, false, ErrCompressedBit
		}
		r.open, r.op, r.comp, r.buf = true, h.OpCode, rsv1, nil
	}
	r.buf = append(r.buf, p...)
	if len(r.buf) > r.max {
		return Message{}, false, ErrMessageTooBig
	}
	if !h.Fin {
		return Message{}, false, nil
	}
	r.open = false
	if r.op == OpText && !r.comp && !utf8.Valid(r.buf) {
		return Message{}, false, ErrInvalidUTF8
	}
	return Message{Op: r.op, Compressed: r.comp, Payload: r.buf}, true, nil
}

func FuzzAssembler(f *testing.F) {
	build := func(frames ...[]byte) []byte { return bytes.Join(frames, nil) }
	mf := func(fin bool, op OpCode, rsv byte, p string) []byte {
		return AppendMaskedFrame(nil, fin, op, rsv, testKey, []byte(p))
	}
	f.Add(build(mf(true, OpText, 0, "hello")), true)
	f.Add(build(mf(false, OpText, 0, "he"), mf(true, OpPing, 0, "x"), mf(true, OpContinuation, 0, "llo")), false)
	f.Add(build(mf(false, OpText, 0, "\xe6\x97"), mf(true, OpContinuation, 0, "\xa5")), false)
	f.Add(build(mf(true, OpContinuation, 0, "x")), false)
	f.Add(build(mf(false, OpBinary, 0, "x"), mf(true, OpBinary, 0, "y")), false)
	f.Add(build(mf(true, OpBinary, RSV1, string(NewDeflater(1, 15, false).Compress(nil, []byte("compressed hello"))))), true)
	f.Add(build(mf(false, OpText, RSV1, "\xf2\x48"), mf(true, OpContinuation, 0, "\xcd\xc9\xc9\x07\x00")), true)
	f.Fuzz(func(t *testing.T, data []byte, compression bool) {
		const max = 1024
		a := Assembler{Compression: compression, MaxMessageSize: max}
		ref := refAssembler{compression: compression, max: max}
		inf := NewInflater(15, true)
		rules := Rules{AllowedRSV: RSV1, Mask: MaskAny}
		for len(data) > 0 {
			h, n, err := DecodeHeader(data, rules)
			if err != nil || h.Length > int64(len(data)-n) {
				return
			}
			payload := data[n : n+int(h.Length)]
			data = data[n+int(h.Length):]
			if h.Masked {
				Unmask(payload, h.Mask, 0)
			}
			msg, done, aerr := a.Frame(h, payload)
			rmsg, rdone, rerr := ref.frame(h, payload)
			if aerr != nil {
				// Text may fail before its last fragment (fail fast);
				// everything else fails exactly when the model does.
				if aerr == ErrInvalidUTF8 && rerr == nil && !rdone {
					return
				}
				if aerr != rerr {
					t.Fatalf("assembler %v, model %v", aerr, rerr)
				}
				if a.InProgress() || a.frag != nil {
					t.Fatal("state kept after error")
				}
				return
			}
			if rerr != nil || done != rdone {
				t.Fatalf("assembler ok done=%v, model %v done=%v", done, rerr, rdone)
			}
			if !done {
				continue
			}
			if msg.Op != rmsg.Op || msg.Compressed != rmsg.Compressed || !bytes.Equal(msg.Payload, rmsg.Payload) {
				t.Fatalf("message %+v, model %+v", msg, rmsg)
			}
			if len(msg.Payload) > max && !msg.Op.IsControl() {
				t.Fatalf("message of %d bytes over the limit", len(msg.Payload))
			}
			if msg.Compressed {
				out, ierr := a.Inflate(msg, inf)
				if ierr != nil {
					return
				}
				if len(out.Payload) > max || (out.Op == OpText && !utf8.Valid(out.Payload)) {
					t.Fatalf("inflated message breaks the limits: %d bytes", len(out.Payload))
				}
			}
			a.Release()
		}
	})
}

func FuzzUTF8(f *testing.F) {
	for _, c := range utf8Cases {
		f.Add([]byte(c.in), uint8(1), uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, i, j uint8) {
		a := min(int(i), len(data))
		b := min(max(a, int(j)), len(data))
		bad := validPrefixLen(data)
		var s UTF8State
		off := 0
		ok := true
		for _, p := range [][]byte{data[:a], data[a:b], data[b:]} {
			fed := s.Feed(p)
			if ok && fed && off+len(p) > bad {
				t.Fatalf("invalid byte %d accepted in piece [%d:%d]", bad, off, off+len(p))
			}
			if ok && !fed && off+len(p) <= bad {
				t.Fatalf("rejected piece [%d:%d] before the invalid byte %d", off, off+len(p), bad)
			}
			ok = ok && fed
			off += len(p)
		}
		if got, want := ok && s.Complete(), utf8.Valid(data); got != want {
			t.Fatalf("got %v, utf8.Valid %v", got, want)
		}
	})
}

func FuzzParseExtensions(f *testing.F) {
	for _, s := range []string{
		"permessage-deflate", "permessage-deflate; client_max_window_bits",
		"permessage-deflate; server_max_window_bits=10; client_no_context_takeover, permessage-deflate",
		`permessage-deflate; server_max_window_bits="10"`, "foo, bar; a=1; b=\"x\\\"y\" ,, baz;c",
		"permessage-deflate; =", "permessage-deflate; server_max_window_bits=09",
	} {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, header []byte, cfgByte uint8) {
		orig := bytes.Clone(header)
		s := ScanExtensions(header)
		for i := 0; ; i++ {
			e, ok := s.Next()
			if !ok {
				break
			}
			if i > len(header) {
				t.Fatal("scanner does not advance")
			}
			if len(e.Name) == 0 || tokenLen(e.Name) != len(e.Name) {
				t.Fatalf("bad name %q", e.Name)
			}
			ps := e.Params()
			for k := 0; ; k++ {
				name, _, _, ok := ps.Next()
				if !ok {
					break
				}
				if k > len(header) || len(name) == 0 {
					t.Fatalf("bad parameter %q", name)
				}
			}
		}
		cfg := DeflateConfig{
			ServerNoContextTakeover: cfgByte&1 != 0, ClientNoContextTakeover: cfgByte&2 != 0,
			ServerMaxWindowBits: 8 + int(cfgByte>>2&7), ClientMaxWindowBits: 8 + int(cfgByte>>5&7),
		}
		p, ok := cfg.Negotiate(header)
		if !bytes.Equal(header, orig) {
			t.Fatal("header modified")
		}
		if !ok {
			return
		}
		// The answer is itself a valid, acceptable permessage-deflate
		// element whose values respect both the offer and the config.
		resp := p.AppendResponse(nil)
		rs := ScanExtensions(resp)
		e, ok := rs.Next()
		if !ok || string(e.Name) != ExtensionDeflate {
			t.Fatalf("response %q does not parse", resp)
		}
		if _, valid := parseDeflateOffer(e); !valid {
			t.Fatalf("response %q has invalid parameters", resp)
		}
		if p.ServerMaxWindowBits < 8 || p.ServerMaxWindowBits > cfg.ServerMaxWindowBits ||
			p.ClientMaxWindowBits < 8 || p.ClientMaxWindowBits > 15 {
			t.Fatalf("params out of range %+v", p)
		}
		if !bytes.Contains(bytes.ToLower(header), []byte("client_max_window_bits")) && bytes.Contains(resp, []byte("client_max_window_bits")) {
			t.Fatalf("answered client_max_window_bits that was never offered: %q", resp)
		}
	})
}

func FuzzInflate(f *testing.F) {
	d := NewDeflater(1, 15, false)
	f.Add(d.Compress(nil, []byte("hello hello hello")), true)
	f.Add([]byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, false)
	f.Add([]byte{0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}, true)
	f.Fuzz(func(t *testing.T, data []byte, takeover bool) {
		const limit = 4096
		inf := NewInflater(10, takeover)
		for i := 0; i < 2; i++ {
			out, err := inf.Inflate(nil, data, limit)
			if err == nil && len(out) > limit {
				t.Fatalf("%d bytes over the limit", len(out))
			}
			if err != nil && len(out) != 0 {
				t.Fatal("output on error")
			}
			if len(inf.dict) > 1<<10 {
				t.Fatalf("dictionary of %d bytes for a 10-bit window", len(inf.dict))
			}
		}
	})
}

// FuzzInflateMatchesStdlib: the Inflater (klauspost/compress/flate) accepts what
// compress/flate accepts and produces the same bytes, and rejects what it rejects,
// so that switching libraries changed no message's fate (RFC 7692 §7.2.2).
func FuzzInflateMatchesStdlib(f *testing.F) {
	d := NewDeflater(1, 15, false)
	f.Add(d.Compress(nil, []byte("hello hello hello")))
	f.Add(d.Compress(nil, bytes.Repeat([]byte("abcdefgh12345678"), 300)))
	f.Add([]byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})
	f.Add([]byte{0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		const limit = 1 << 16
		out, err := NewInflater(15, false).Inflate(nil, data, limit)
		r := stdflate.NewReader(io.MultiReader(bytes.NewReader(data), bytes.NewReader(inflateTail[:])))
		want, stdErr := io.ReadAll(io.LimitReader(r, limit+1))
		switch {
		case len(want) > limit:
			if err != ErrInflatedTooBig {
				t.Fatalf("compress/flate inflates past %d bytes; Inflate: %d bytes, %v", limit, len(out), err)
			}
		case (stdErr == nil) != (err == nil):
			t.Fatalf("compress/flate: %v; Inflate: %v", stdErr, err)
		case err == nil && !bytes.Equal(out, want):
			t.Fatalf("Inflate gave %d bytes, compress/flate %d", len(out), len(want))
		}
	})
}

func FuzzParseClose(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3})
	f.Add(closePayload(1000, "bye"))
	f.Add(closePayload(1005, ""))
	f.Add(closePayload(4999, "\xff"))
	f.Fuzz(func(t *testing.T, p []byte) {
		code, reason, err := ParseClose(p)
		switch {
		case len(p) == 0:
			if err != nil || code != StatusNoStatusRcvd {
				t.Fatal("empty payload")
			}
		case len(p) == 1:
			if err != ErrCloseLength {
				t.Fatal("1-byte payload accepted")
			}
		case !ValidCloseCode(StatusCode(p[0])<<8 | StatusCode(p[1])):
			if err != ErrCloseCode {
				t.Fatalf("code %d: %v", code, err)
			}
		case !utf8.Valid(p[2:]):
			if err != ErrCloseReasonUTF8 {
				t.Fatal("invalid reason accepted")
			}
		default:
			if err != nil || !bytes.Equal(reason, p[2:]) {
				t.Fatal("valid payload rejected")
			}
			if got := AppendClose(nil, code, string(reason)); len(p) <= MaxControlPayload && !bytes.Equal(got, p) {
				t.Fatalf("AppendClose %x != %x", got, p)
			}
		}
	})
}

// FuzzAppendClose: whatever code and reason the server's user passes, AppendClose writes a
// payload the peer accepts, and keeps code and reason when they may be sent as they are.
func FuzzAppendClose(f *testing.F) {
	f.Add(uint16(1000), "bye")
	f.Add(uint16(1006), "x")
	f.Add(uint16(4000), strings.Repeat("é", 70))
	f.Add(uint16(1001), "a\xffb")
	f.Fuzz(func(t *testing.T, code uint16, reason string) {
		p := AppendClose(nil, StatusCode(code), reason)
		if len(p) > MaxControlPayload {
			t.Fatalf("payload of %d bytes", len(p))
		}
		gotCode, gotReason, err := ParseClose(p)
		if err != nil {
			t.Fatalf("code %d reason %q: payload %x refused: %v", code, reason, p, err)
		}
		if ValidCloseCode(StatusCode(code)) && utf8.ValidString(reason) && len(reason) <= MaxCloseReason &&
			(gotCode != StatusCode(code) || string(gotReason) != reason) {
			t.Fatalf("code %d reason %q came out as %d %q", code, reason, gotCode, gotReason)
		}
	})
}
