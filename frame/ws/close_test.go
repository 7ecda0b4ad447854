package ws

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func closePayload(code uint16, reason string) []byte {
	return append([]byte{byte(code >> 8), byte(code)}, reason...)
}

func TestParseClose(t *testing.T) {
	cases := []struct {
		name    string
		in      []byte
		code    StatusCode
		reason  string
		wantErr *Error
	}{
		{"§7.1.5 empty payload means 1005", nil, StatusNoStatusRcvd, "", nil},
		{"§5.5.1 one byte is a protocol error", []byte{0x03}, 0, "", ErrCloseLength},
		{"§7.4.1 1000 normal", closePayload(1000, ""), 1000, "", nil},
		{"§7.4.1 1001 with reason", closePayload(1001, "bye"), 1001, "bye", nil},
		{"§7.4.1 1002", closePayload(1002, ""), 1002, "", nil},
		{"§7.4.1 1003", closePayload(1003, ""), 1003, "", nil},
		{"§7.4.1 1007", closePayload(1007, ""), 1007, "", nil},
		{"§7.4.1 1011", closePayload(1011, ""), 1011, "", nil},
		{"IANA registry 1012 service restart", closePayload(1012, ""), 1012, "", nil},
		{"IANA registry 1014 bad gateway", closePayload(1014, ""), 1014, "", nil},
		{"§7.4.2 3000 library range", closePayload(3000, ""), 3000, "", nil},
		{"§7.4.2 4999 private range", closePayload(4999, "é"), 4999, "é", nil},
		{"§7.4.2 0 not used", closePayload(0, ""), 0, "", ErrCloseCode},
		{"§7.4.2 999 not used", closePayload(999, ""), 0, "", ErrCloseCode},
		{"§7.4.1 1004 reserved", closePayload(1004, ""), 0, "", ErrCloseCode},
		{"§7.4.1 1005 must not be sent", closePayload(1005, ""), 0, "", ErrCloseCode},
		{"§7.4.1 1006 must not be sent", closePayload(1006, ""), 0, "", ErrCloseCode},
		{"§7.4.1 1015 must not be sent", closePayload(1015, ""), 0, "", ErrCloseCode},
		{"§7.4.2 1016 reserved for the protocol", closePayload(1016, ""), 0, "", ErrCloseCode},
		{"§7.4.2 2999 reserved for the protocol", closePayload(2999, ""), 0, "", ErrCloseCode},
		{"§7.4.2 5000 outside all ranges", closePayload(5000, ""), 0, "", ErrCloseCode},
		{"§7.4.2 65535 outside all ranges", closePayload(65535, ""), 0, "", ErrCloseCode},
		{"§8.1 reason not UTF-8", closePayload(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"), 0, "", ErrCloseReasonUTF8},
		{"§8.1 reason truncated sequence", closePayload(1000, "ok\xe2\x82"), 0, "", ErrCloseReasonUTF8},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, reason, err := ParseClose(c.in)
			if err != c.wantErr {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			if err != nil {
				wantCode := StatusProtocolError
				if err == ErrCloseReasonUTF8 {
					wantCode = StatusInvalidPayload
				}
				if err.Code != wantCode {
					t.Fatalf("close code %d, want %d", err.Code, wantCode)
				}
				return
			}
			if code != c.code || string(reason) != c.reason {
				t.Fatalf("got %d %q, want %d %q", code, reason, c.code, c.reason)
			}
		})
	}
}

func TestAppendClose(t *testing.T) {
	cases := []struct {
		name   string
		code   StatusCode
		reason string
		want   []byte
	}{
		{"§5.5.1 code then reason", 1000, "done", closePayload(1000, "done")},
		{"§7.1.5 1005 is an empty payload", StatusNoStatusRcvd, "ignored", nil},
		{"§5.5 long reason cut to 123 bytes", 1001, strings.Repeat("a", 200), closePayload(1001, strings.Repeat("a", 123))},
		{"§5.5 cut keeps UTF-8 whole", 1001, strings.Repeat("a", 122) + "é", closePayload(1001, strings.Repeat("a", 122))},
		{"§7.4.1 1006 is never sent: an empty payload", StatusAbnormalClosure, "x", nil},
		{"§7.4.1 1015 is never sent: an empty payload", 1015, "x", nil},
		{"§7.4.2 0-999 are unused: an empty payload", 0, "", nil},
		{"§7.4.2 1016-2999 are reserved: an empty payload", 2999, "x", nil},
		{"§7.4.2 3000-4999 are the applications'", 4999, "x", closePayload(4999, "x")},
		{"§8.1 a reason is cut before its first byte that is not UTF-8", 1000, "ok\xffmore", closePayload(1000, "ok")},
		{"§8.1 a literal U+FFFD stays", 1000, "a\ufffdb", closePayload(1000, "a\ufffdb")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := AppendClose(nil, c.code, c.reason)
			if !bytes.Equal(got, c.want) {
				t.Fatalf("got %q, want %q", got, c.want)
			}
			if len(got) > MaxControlPayload || !utf8.Valid(got[min(2, len(got)):]) {
				t.Fatalf("invalid payload %q", got)
			}
		})
	}
}

func TestAppendCloseError(t *testing.T) {
	// §7.1.7: failing the connection sends a Close with the error's code.
	f := AppendCloseError(nil, ErrInvalidUTF8)
	h, n, err := DecodeHeader(f, ClientRules(false))
	if err != nil || h.OpCode != OpClose || !h.Fin || int(h.Length) != len(f)-n {
		t.Fatalf("header %+v n=%d err=%v", h, n, err)
	}
	code, reason, perr := ParseClose(f[n:])
	if perr != nil || code != StatusInvalidPayload || string(reason) != ErrInvalidUTF8.Reason {
		t.Fatalf("got %d %q %v", code, reason, perr)
	}
}
