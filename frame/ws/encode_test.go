package ws

import (
	"bytes"
	"testing"
)

func TestPutHeaderRoundTrip(t *testing.T) {
	// RFC 6455 §5.2: the encoder uses the minimal length form, which the
	// strict decoder accepts, for each length class.
	strict := ClientRules(true)
	strict.RejectNonMinimalLength = true
	cases := []struct {
		name   string
		fin    bool
		op     OpCode
		rsv1   bool
		length int
		size   int
	}{
		{"§5.2 7-bit length 0", true, OpText, false, 0, 2},
		{"§5.2 7-bit length 125", true, OpBinary, false, 125, 2},
		{"§5.2 16-bit length 126", false, OpText, true, 126, 4},
		{"§5.2 16-bit length 65535", true, OpContinuation, false, 65535, 4},
		{"§5.2 64-bit length 65536", true, OpBinary, true, 65536, 10},
		{"§5.2 64-bit length 2^32", true, OpBinary, false, 1 << 32, 10},
		{"§5.5 close frame", true, OpClose, false, 2, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b [MaxServerHeaderSize]byte
			n := PutHeader(b[:], c.fin, c.op, c.rsv1, c.length)
			if n != c.size {
				t.Fatalf("size %d, want %d", n, c.size)
			}
			if a := AppendHeader([]byte("x"), c.fin, c.op, c.rsv1, c.length); !bytes.Equal(a[1:], b[:n]) {
				t.Fatalf("AppendHeader %x != PutHeader %x", a[1:], b[:n])
			}
			h, m, err := DecodeHeader(b[:n], strict)
			if err != nil || m != n {
				t.Fatalf("decode: n=%d err=%v", m, err)
			}
			if h.Fin != c.fin || h.OpCode != c.op || h.Rsv1() != c.rsv1 || h.Length != int64(c.length) || h.Masked {
				t.Fatalf("decoded %+v", h)
			}
		})
	}
}

func TestAppendMaskedFrame(t *testing.T) {
	// §5.3: the payload is XORed with the key; §5.2: MASK bit and key follow
	// the length.
	payload := []byte("Hello, masked world, long enough to use blocks")
	f := AppendMaskedFrame(nil, true, OpText, RSV1, testKey, payload)
	h, n, err := DecodeHeader(f, ServerRules(true))
	if err != nil {
		t.Fatal(err)
	}
	if !h.Masked || h.Mask != testKey || h.Rsv != RSV1 || h.Length != int64(len(payload)) {
		t.Fatalf("header %+v", h)
	}
	body := f[n:]
	for i := range body {
		if body[i] != payload[i]^testKey[i%4] {
			t.Fatalf("byte %d not masked", i)
		}
	}
	if string(payload) != "Hello, masked world, long enough to use blocks" {
		t.Fatal("payload argument modified")
	}
}

func TestAppendRawHeaderKeepsInvalidBits(t *testing.T) {
	// Tests of others build invalid frames with it: RSV2/3 and reserved
	// opcodes must survive encoding so the decoder can reject them (§5.2).
	b := AppendRawHeader(nil, Header{Fin: true, Rsv: RSV2 | RSV3, OpCode: 0xb, Length: 3})
	if b[0] != 0x80|0x30|0x0b || b[1] != 3 {
		t.Fatalf("got %x", b)
	}
	if _, _, err := DecodeHeader(b, Rules{Mask: MaskAny, AllowedRSV: RSV2 | RSV3}); err != ErrReservedOpcode {
		t.Fatalf("err = %v", err)
	}
}
