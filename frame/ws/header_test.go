package ws

import (
	"bytes"
	"testing"
)

var testKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// rawHeader builds header bytes by hand so that the tests do not depend on
// the encoder they check.
func rawHeader(b0 byte, masked bool, lenBytes ...byte) []byte {
	b := []byte{b0}
	if masked {
		lenBytes = append([]byte{lenBytes[0] | 0x80}, lenBytes[1:]...)
	}
	b = append(b, lenBytes...)
	if masked {
		b = append(b, testKey[:]...)
	}
	return b
}

func TestDecodeHeaderLengths(t *testing.T) {
	// RFC 6455 §5.2: 7-bit length up to 125, 126 + 16-bit, 127 + 64-bit.
	cases := []struct {
		name   string
		in     []byte
		length int64
		n      int
	}{
		{"§5.2 length 0 in 7 bits", rawHeader(0x82, true, 0), 0, 6},
		{"§5.2 length 125 in 7 bits", rawHeader(0x82, true, 125), 125, 6},
		{"§5.2 length 126 in 16 bits", rawHeader(0x82, true, 126, 0x00, 0x7e), 126, 8},
		{"§5.2 length 65535 in 16 bits", rawHeader(0x82, true, 126, 0xff, 0xff), 65535, 8},
		{"§5.2 length 65536 in 64 bits", rawHeader(0x82, true, 127, 0, 0, 0, 0, 0, 1, 0, 0), 65536, 14},
		{"§5.2 length 2^32 in 64 bits", rawHeader(0x82, true, 127, 0, 0, 0, 1, 0, 0, 0, 0), 1 << 32, 14},
		{"§5.2 length 2^63-1 in 64 bits", rawHeader(0x82, true, 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 1<<63 - 1, 14},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Trailing payload bytes must not change the result.
			in := append(bytes.Clone(c.in), 1, 2, 3)
			h, n, err := DecodeHeader(in, ServerRules(false))
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if n != c.n || h.Length != c.length || !h.Fin || h.OpCode != OpBinary || !h.Masked || h.Mask != testKey || h.Rsv != 0 {
				t.Fatalf("got n=%d %+v, want n=%d length=%d", n, h, c.n, c.length)
			}
		})
	}
}

func TestDecodeHeaderFields(t *testing.T) {
	cases := []struct {
		name  string
		in    []byte
		rules Rules
		want  Header
	}{
		{"§5.2 FIN clear, text", rawHeader(0x01, true, 5), ServerRules(false),
			Header{OpCode: OpText, Masked: true, Mask: testKey, Length: 5}},
		{"§5.2 continuation", rawHeader(0x80, true, 1), ServerRules(false),
			Header{Fin: true, OpCode: OpContinuation, Masked: true, Mask: testKey, Length: 1}},
		{"RFC 7692 §6 RSV1 allowed when negotiated", rawHeader(0xc1, true, 3), ServerRules(true),
			Header{Fin: true, Rsv: RSV1, OpCode: OpText, Masked: true, Mask: testKey, Length: 3}},
		{"§5.5.2 ping", rawHeader(0x89, true, 125), ServerRules(false),
			Header{Fin: true, OpCode: OpPing, Masked: true, Mask: testKey, Length: 125}},
		{"§5.1 client decodes unmasked server frame", rawHeader(0x82, false, 4), ClientRules(false),
			Header{Fin: true, OpCode: OpBinary, Length: 4}},
		{"§5.2 non-minimal 16-bit length accepted by default", rawHeader(0x82, true, 126, 0, 5), ServerRules(false),
			Header{Fin: true, OpCode: OpBinary, Masked: true, Mask: testKey, Length: 5}},
		{"§5.2 non-minimal 64-bit length accepted by default", rawHeader(0x82, true, 127, 0, 0, 0, 0, 0, 0, 0, 200), ServerRules(false),
			Header{Fin: true, OpCode: OpBinary, Masked: true, Mask: testKey, Length: 200}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, n, err := DecodeHeader(c.in, c.rules)
			if err != nil || n != len(c.in) || h != c.want {
				t.Fatalf("got %+v n=%d err=%v, want %+v n=%d", h, n, err, c.want, len(c.in))
			}
		})
	}
}

func TestDecodeHeaderRules(t *testing.T) {
	strict := ServerRules(false)
	strict.RejectNonMinimalLength = true
	cases := []struct {
		name  string
		in    []byte
		rules Rules
		want  *Error
	}{
		{"§5.2 reserved non-control opcode 0x3", rawHeader(0x83, true, 0), ServerRules(false), ErrReservedOpcode},
		{"§5.2 reserved non-control opcode 0x7", rawHeader(0x87, true, 0), ServerRules(false), ErrReservedOpcode},
		{"§5.2 reserved control opcode 0xB", rawHeader(0x8b, true, 0), ServerRules(false), ErrReservedOpcode},
		{"§5.2 reserved control opcode 0xF", rawHeader(0x8f, true, 0), ServerRules(false), ErrReservedOpcode},
		{"§5.2 RSV1 without extension", rawHeader(0xc1, true, 0), ServerRules(false), ErrReservedBits},
		{"§5.2 RSV2 without extension", rawHeader(0xa1, true, 0), ServerRules(true), ErrReservedBits},
		{"§5.2 RSV3 without extension", rawHeader(0x91, true, 0), ServerRules(true), ErrReservedBits},
		{"§5.5 control frame not final", rawHeader(0x09, true, 0), ServerRules(false), ErrControlFragment},
		{"§5.5 close not final", rawHeader(0x08, true, 0), ServerRules(false), ErrControlFragment},
		{"§5.5 control payload 126 (16-bit form)", rawHeader(0x89, true, 126, 0, 126), ServerRules(false), ErrControlTooLong},
		{"§5.5 control payload in 64-bit form", rawHeader(0x8a, true, 127, 0, 0, 0, 0, 0, 0, 0, 1), ServerRules(false), ErrControlTooLong},
		{"§5.2 64-bit length with MSB set", rawHeader(0x82, true, 127, 0x80, 0, 0, 0, 0, 0, 0, 0), ServerRules(false), ErrLengthMSB},
		{"§5.1 server rejects unmasked client frame", rawHeader(0x81, false, 0), ServerRules(false), ErrUnmasked},
		{"§5.1 client rejects masked server frame", rawHeader(0x81, true, 0), ClientRules(false), ErrMasked},
		{"§5.2 non-minimal 16-bit length when strict", rawHeader(0x82, true, 126, 0, 125), strict, ErrNonMinimalLength},
		{"§5.2 non-minimal 64-bit length when strict", rawHeader(0x82, true, 127, 0, 0, 0, 0, 0, 0, 0xff, 0xff), strict, ErrNonMinimalLength},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := DecodeHeader(c.in, c.rules)
			if err != c.want {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if c.want.Code != StatusProtocolError {
				t.Fatalf("close code %d, want 1002", c.want.Code)
			}
		})
	}
}

func TestDecodeHeaderStrictAcceptsMinimal(t *testing.T) {
	// §5.2: the strict option must not reject the minimal encodings.
	r := ServerRules(false)
	r.RejectNonMinimalLength = true
	for _, in := range [][]byte{
		rawHeader(0x82, true, 126, 0, 126),
		rawHeader(0x82, true, 127, 0, 0, 0, 0, 0, 1, 0, 0),
	} {
		if _, _, err := DecodeHeader(in, r); err != nil {
			t.Fatalf("%x: %v", in, err)
		}
	}
}

func TestDecodeHeaderIncompleteAtEverySplit(t *testing.T) {
	// A header cut anywhere is "incomplete", never an error or a header.
	for _, full := range [][]byte{
		rawHeader(0x81, true, 0),
		rawHeader(0x82, true, 126, 0x01, 0x00),
		rawHeader(0x82, true, 127, 0, 0, 0, 1, 0, 0, 0, 0),
		rawHeader(0x89, true, 4),
	} {
		for i := 0; i < len(full); i++ {
			if _, n, err := DecodeHeader(full[:i], ServerRules(false)); err != ErrIncomplete || n != 0 {
				t.Fatalf("%x cut at %d: n=%d err=%v, want ErrIncomplete", full, i, n, err)
			}
		}
		if _, n, err := DecodeHeader(full, ServerRules(false)); err != nil || n != len(full) {
			t.Fatalf("%x whole: n=%d err=%v", full, n, err)
		}
	}
	// Unmasked (client side) headers too.
	full := rawHeader(0x82, false, 127, 0, 0, 0, 0, 0, 1, 0, 0)
	for i := 0; i < len(full); i++ {
		if _, _, err := DecodeHeader(full[:i], ClientRules(false)); err != ErrIncomplete {
			t.Fatalf("client cut at %d: %v", i, err)
		}
	}
}

func TestDecodeHeaderFailsEarly(t *testing.T) {
	// Violations visible in the bytes present are reported before the rest
	// of the header arrives (the server need not wait for garbage).
	cases := []struct {
		name string
		in   []byte
		want *Error
	}{
		{"§5.2 reserved opcode from the first byte", []byte{0x83}, ErrReservedOpcode},
		{"§5.2 RSV from the first byte", []byte{0xf1}, ErrReservedBits},
		{"§5.5 fragmented control from the first byte", []byte{0x09}, ErrControlFragment},
		{"§5.1 unmasked from the second byte", []byte{0x82, 127}, ErrUnmasked},
		{"§5.2 length MSB from the third byte", []byte{0x82, 0xff, 0x80}, ErrLengthMSB},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, _, err := DecodeHeader(c.in, ServerRules(false)); err != c.want {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestDecodeHeaderMaskAny(t *testing.T) {
	// §5.1 relaxed for tools: MaskAny takes both forms.
	for _, masked := range []bool{false, true} {
		h, _, err := DecodeHeader(rawHeader(0x82, masked, 1), Rules{Mask: MaskAny})
		if err != nil || h.Masked != masked {
			t.Fatalf("masked=%v: %+v %v", masked, h, err)
		}
	}
}
