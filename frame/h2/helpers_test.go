package h2

import (
	"testing"
)

// raw builds a frame byte by byte, independently of the encoders under
// test, so decoder tests do not trust the code they check.
func raw(t FrameType, flags Flags, streamID uint32, payload ...byte) []byte {
	n := len(payload)
	b := []byte{byte(n >> 16), byte(n >> 8), byte(n), byte(t), byte(flags),
		byte(streamID >> 24), byte(streamID >> 16), byte(streamID >> 8), byte(streamID)}
	return append(b, payload...)
}

// rawLen builds a frame header that claims length n, with no payload.
func rawLen(t FrameType, flags Flags, streamID uint32, n int) []byte {
	return []byte{byte(n >> 16), byte(n >> 8), byte(n), byte(t), byte(flags),
		byte(streamID >> 24), byte(streamID >> 16), byte(streamID >> 8), byte(streamID)}
}

func u32(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

func setting(id SettingID, v uint32) []byte {
	return append([]byte{byte(id >> 8), byte(id)}, u32(v)...)
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// errKind says which error a case expects.
type errKind int

const (
	noErr errKind = iota
	connErrKind
	streamErrKind
)

func (k errKind) String() string {
	return [...]string{"no error", "connection error", "stream error"}[k]
}

// checkErr asserts err's kind and code (and stream for stream errors).
func checkErr(t *testing.T, err error, kind errKind, code ErrCode, streamID uint32) {
	t.Helper()
	switch e := err.(type) {
	case nil:
		if kind != noErr {
			t.Fatalf("got no error, want %v %v", kind, code)
		}
	case ConnectionError:
		if kind != connErrKind || e.Code != code {
			t.Fatalf("got %v, want %v %v", e, kind, code)
		}
	case StreamError:
		if kind != streamErrKind || e.Code != code || e.StreamID != streamID {
			t.Fatalf("got %v, want %v %v on stream %d", e, kind, code, streamID)
		}
	default:
		t.Fatalf("got %T %v, want %v %v", err, err, kind, code)
	}
}
