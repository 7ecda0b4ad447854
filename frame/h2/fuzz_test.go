package h2

import (
	"encoding/base64"
	"testing"
	"unsafe"

	"github.com/switchyard-dev/switchyard/parser"
)

// within reports whether view lies inside buf[lo:hi].
func within(view, buf []byte, lo, hi int) bool {
	if len(view) == 0 {
		return true
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(view)))
	return p >= base+uintptr(lo) && p+uintptr(len(view)) <= base+uintptr(hi)
}

// FuzzReadFrame: no input panics; n never exceeds the input; a frame's
// views stay inside its own payload; a whole buffer decodes in a bounded
// number of steps.
func FuzzReadFrame(f *testing.F) {
	for _, tc := range readCases {
		f.Add(tc.in, uint32(0))
	}
	f.Add(mixedStream(), uint32(0))
	f.Add(AppendHeaders(nil, 1, make([]byte, 20000), true, 0), uint32(16384))
	f.Fuzz(func(t *testing.T, b []byte, max uint32) {
		fr, n, err := ReadFrame(b, max)
		if n < 0 || n > len(b) {
			t.Fatalf("n=%d outside 0..%d", n, len(b))
		}
		switch err.(type) {
		case nil, StreamError:
			if n != FrameHeaderLen+int(fr.Length) {
				t.Fatalf("n=%d for Length %d", n, fr.Length)
			}
			for _, v := range [][]byte{fr.Data(), fr.HeaderBlockFragment(), fr.DebugData(), fr.Payload()} {
				if !within(v, b, FrameHeaderLen, n) || cap(v) > n-FrameHeaderLen {
					t.Fatalf("view of %v escapes its payload", fr.Type)
				}
			}
			for i := 0; i < fr.NumSettings(); i++ {
				_ = fr.Setting(i)
			}
		default:
			if n != 0 {
				t.Fatalf("error %v with n=%d", err, n)
			}
		}

		var d Decoder
		d.MaxFrameSize = max
		// Every step consumes at least one byte (n == 0 ends the loop), so more steps than
		// the input had bytes means the decoder is stuck. (Comparing with the bytes left,
		// which shrink as the steps grow, flagged valid streams of many small frames.)
		total := len(b)
		for steps := 0; len(b) > 0; steps++ {
			_, n, err := d.ReadFrame(b)
			if n == 0 {
				if err == nil {
					t.Fatal("n=0 without error")
				}
				break
			}
			if steps > total {
				t.Fatal("decoder is not making progress")
			}
			b = b[n:]
		}
	})
}

// FuzzHeaderBlock: random bytes, split into two fragments and then reused
// as a second block on the same connection, never panic, never exceed the
// list limit, and fail only with the documented error types; a block that
// passes validation really is valid.
func FuzzHeaderBlock(f *testing.F) {
	for _, tc := range headerCases {
		f.Add(encodeBlock(tc.fields...), uint8(3), tc.trailers, tc.endStream)
	}
	f.Add([]byte{0x82, 0x21}, uint8(1), false, true)
	f.Add([]byte{0x3f, 0xe1, 0x1f, 0x82, 0x87, 0x84}, uint8(2), false, true)
	f.Add([]byte{0x00, 0x85, 0xf2, 0xb2, 0x4a, 0x87, 0xff, 0xff, 0xff, 0xfd, 0x25, 0x42, 0x7f}, uint8(5), false, false)
	const limit = 2048
	f.Fuzz(func(t *testing.T, block []byte, split uint8, trailers, endStream bool) {
		d := NewHeaderDecoder(4096, limit)
		d.AllowExtendedConnect = split&1 == 1
		cut := min(int(split), len(block))
		for round := 0; round < 2; round++ {
			d.Begin(1, trailers, endStream)
			err := d.Write(block[:cut])
			if err == nil {
				err = d.Write(block[cut:])
			}
			var h *RequestHead
			if err == nil {
				h, err = d.End()
			}
			switch err.(type) {
			case nil:
				size := 0
				for _, fld := range h.Fields {
					size += int(fld.Size())
					if fld.IsPseudo() || !validFieldName(fld.Name) || !validFieldValue(fld.Value) {
						t.Fatalf("invalid field passed validation: %q: %q", fld.Name, fld.Value)
					}
				}
				if size > limit {
					t.Fatalf("header list of %d octets passed a %d limit", size, limit)
				}
				if !trailers && (h.Method == "" || !isToken(h.Method)) {
					t.Fatalf("request without a valid :method passed: %+v", h)
				}
			case ConnectionError:
				return // the connection is over; its HPACK state is not reused
			case StreamError, HeaderListTooLargeError:
			default:
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
		}
	})
}

// FuzzHTTP2SettingsHeader checks DecodeHTTP2SettingsHeader against a plain
// decode with encoding/base64.
func FuzzHTTP2SettingsHeader(f *testing.F) {
	f.Add("AAMAAABkAAQCAAAAAAIAAAAA")
	f.Add("")
	f.Add("AAMAAABkAA==")
	f.Add(" AAMAAA/k")
	f.Fuzz(func(t *testing.T, v string) {
		s := DefaultSettings()
		err := DecodeHTTP2SettingsHeader([]byte(v), &s)

		want := DefaultSettings()
		trimmed := parser.TrimOWS(v)
		p, decErr := base64.RawURLEncoding.DecodeString(trimmed)
		ok := decErr == nil && len(p)%6 == 0 && base64.RawURLEncoding.EncodeToString(p) == trimmed
		for i := 0; ok && i < len(p); i += 6 {
			st := Setting{SettingID(uint16(p[i])<<8 | uint16(p[i+1])), be32(p[i+2:])}
			ok = want.ApplySetting(st) == nil
		}
		if ok != (err == nil) {
			t.Fatalf("%q: err=%v, reference ok=%v", v, err, ok)
		}
		if ok && s != want {
			t.Fatalf("%q: got %+v, want %+v", v, s, want)
		}
	})
}
