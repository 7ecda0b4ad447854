package http2

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2/hpack"

	"github.com/switchyard-dev/switchyard/frame/h2"
	"github.com/switchyard-dev/switchyard/server"
)

// Connection-specific fields a handler sets (HTTP/1.1 habits: Connection, Keep-Alive,
// Proxy-Connection, Transfer-Encoding, Upgrade) are left out of an HTTP/2 response,
// which would otherwise be malformed (RFC 9113 §8.2.2); the handler's other fields go
// through.
func TestH2ResponseDropsConnectionSpecificFields(t *testing.T) {
	cl := h2DialWith(t, server.Config{}, Config{}, func(s *server.Server) {
		s.Route("/habits", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
			for _, f := range [][2]string{{"Connection", "close"}, {"Keep-Alive", "timeout=5"}, {"Proxy-Connection", "keep-alive"},
				{"Transfer-Encoding", "chunked"}, {"Upgrade", "foo"}, {"X-Kept", "yes"}} {
				w.Header(f[0], f[1])
			}
			_, _ = w.WriteString("body")
		}})
	})
	cl.write(cl.request(nil, 1, "GET", "/habits", nil))
	r := cl.readUntil(1).streams[1]
	if r == nil || r.status != "200" || string(r.body) != "body" {
		t.Fatalf("response %+v", r)
	}
	for _, name := range []string{"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"} {
		if v, ok := r.fields[name]; ok {
			t.Errorf("%s: %q sent over HTTP/2", name, v)
		}
	}
	if r.fields["x-kept"] != "yes" {
		t.Errorf("x-kept: %q, want yes", r.fields["x-kept"])
	}
}

// A client that lowers SETTINGS_HEADER_TABLE_SIZE gets its responses encoded for the
// table it has left (RFC 7541 §4.2, RFC 9113 §6.5.2): the first header block after the
// change starts with a dynamic table size update to the new size, and a client whose
// decoder allows no more than that reads every response, the second included, whose
// fields a 4096-octet table would have turned into indexes of entries this client no
// longer has.
func TestH2ResponsesHonourTheClientsTableSize(t *testing.T) {
	cl := h2DialWith(t, server.Config{}, Config{}, func(s *server.Server) {
		s.Route("/fields", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
			w.Header("X-Session", "a fairly long value that a table would keep")
			_, _ = w.WriteString("ok")
		}})
	})
	cl.write(h2.AppendSettings(nil, h2.Setting{ID: h2.SettingHeaderTableSize, Val: 0}))
	cl.dec.SetAllowedMaxDynamicTableSize(0)
	var blocks [][]byte
	for _, id := range []uint32{1, 3} {
		cl.write(cl.request(nil, id, "GET", "/fields", nil))
		frames, closed := cl.readFrames(5*time.Second, func(f h2frame) bool { return f.StreamID == id && f.EndStream() })
		if closed {
			t.Fatalf("stream %d: the server closed after %s", id, describe(frames))
		}
		for _, f := range frames {
			if f.Type == h2.FrameHeaders && f.StreamID == id {
				blocks = append(blocks, f.HeaderBlockFragment())
				if got := fieldValue(f.fields, "x-session"); got != "a fairly long value that a table would keep" {
					t.Errorf("stream %d: x-session %q", id, got)
				}
			}
		}
	}
	if len(blocks) != 2 || len(blocks[0]) == 0 || blocks[0][0] != 0x20 {
		t.Fatalf("header blocks % x: want the first to start with a size update to 0 (0x20)", blocks)
	}
}

func fieldValue(fs []hpack.HeaderField, name string) string {
	for _, f := range fs {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// Responses of many lengths leave the fields that repeat in the table: content-length
// goes as a literal without indexing (frame/h2's WriteVolatileFieldBytes), so 120
// lengths do not push a handler's long field out of a 4096-octet table, and every
// response after the first is indexes but for its length. Indexed, the lengths' entries
// (49 octets each) evicted the long field after about 80 responses, and it went out in
// full again.
func TestH2ContentLengthsDoNotChurnTheTable(t *testing.T) {
	long := strings.Repeat("a long value that a table keeps ", 4)
	cl := h2DialWith(t, server.Config{}, Config{}, func(s *server.Server) {
		s.Route("/sized", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
			n, _ := strconv.Atoi(string(r.Query))
			w.Header("Date", "Mon, 07 Dec 2026 19:00:00 GMT") // one date: the server's own changes every second
			w.Header("X-Session", long)
			_, _ = w.Write(bytes.Repeat([]byte("x"), n))
		}})
	})
	for i := 1; i <= 120; i++ {
		id := uint32(2*i - 1)
		cl.write(cl.request(nil, id, "GET", "/sized?"+strconv.Itoa(i), nil))
		frames, closed := cl.readFrames(5*time.Second, func(f h2frame) bool { return f.StreamID == id && f.EndStream() })
		if closed {
			t.Fatalf("response %d: the server closed after %s", i, describe(frames))
		}
		for _, f := range frames {
			if f.Type != h2.FrameHeaders || f.StreamID != id {
				continue
			}
			if got := fieldValue(f.fields, "content-length"); got != strconv.Itoa(i) {
				t.Fatalf("response %d: content-length %q", i, got)
			}
			if fieldValue(f.fields, "x-session") != long {
				t.Fatalf("response %d: x-session %q", i, fieldValue(f.fields, "x-session"))
			}
			if block := f.HeaderBlockFragment(); i > 1 && len(block) > 16 {
				t.Fatalf("response %d: a %d-octet header block % x, want indexes and the length", i, len(block), block)
			}
		}
	}
}
