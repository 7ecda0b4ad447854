package hostile

import (
	"testing"

	"github.com/switchyard-dev/switchyard/frame/h2"
)

// getRoot is a complete request header block for GET / built from HPACK's static table
// alone (RFC 7541 Appendix A): 0x82 :method GET, 0x86 :scheme http, 0x84 :path /. It does
// not depend on the server's decoder state, so the same three bytes serve every stream.
var getRoot = []byte{0x82, 0x86, 0x84}

// h2Requests returns next(i) for flood: chunk i carries perChunk HEADERS frames for GET /
// with END_STREAM, on new odd stream ids.
func h2Requests(perChunk int) func(i int) []byte {
	buf := make([]byte, 0, perChunk*(9+len(getRoot)))
	return func(i int) []byte {
		buf = buf[:0]
		for j := range perChunk {
			id := uint32(2*(i*perChunk+j) + 1)
			buf = h2.AppendHeaders(buf, id, getRoot, true, h2.MinMaxFrameSize)
		}
		return buf
	}
}

// Issue 14 item 1: an HTTP/2 client that never reads opens the flow-control windows all
// the way (SETTINGS_INITIAL_WINDOW_SIZE and the connection window at 2^31-1, RFC 9113
// §6.9), then asks for GET / 400,000 times, each stream ended by its HEADERS so that
// MAX_CONCURRENT_STREAMS is never reached: every request is answered at once, and the
// answers pile up for a client that takes none. The server must stop reading it (its send
// budget), not queue: RSS grows by at most 16 MiB.
func TestHTTP2NonReaderWithMaximalWindows(t *testing.T) {
	srv := startServer(t, "")
	s := besiege(t, srv, nil)
	c := dialNonReader(t, srv.addr)
	preface := []byte(h2.ClientPreface)
	preface = h2.AppendSettings(preface, h2.Setting{ID: h2.SettingInitialWindowSize, Val: h2.MaxWindowSize})
	preface = h2.AppendSettingsAck(preface) // for the server's SETTINGS, which come first
	preface = h2.AppendWindowUpdate(preface, 0, h2.MaxWindowSize-65535)
	if _, err := c.Write(preface); err != nil {
		t.Fatal(err)
	}
	const perChunk, chunks = 1000, 400
	var f flooded
	rep := s.during(func() { f = flood(c, chunks, noDeadline, h2Requests(perChunk)) })
	t.Logf("attack: %d HEADERS frames: %v", f.chunks*perChunk, f)
	rep.check(t, "HTTP/2 non-reader, maximal windows", 16<<20)
}

// Issue 14 item 1, second form: with the default windows, the answers to the first
// streams exhaust the connection window, 100 streams then wait for window, and every
// further HEADERS is refused with RST_STREAM REFUSED_STREAM (RFC 9113 §5.1.2). Two
// million of those refusals for a client that never reads must not be queued either: RSS
// grows by at most 16 MiB.
func TestHTTP2NonReaderRefusedStreams(t *testing.T) {
	srv := startServer(t, "")
	s := besiege(t, srv, nil)
	c := dialNonReader(t, srv.addr)
	preface := h2.AppendSettingsAck(h2.AppendSettings([]byte(h2.ClientPreface)))
	if _, err := c.Write(preface); err != nil {
		t.Fatal(err)
	}
	const perChunk, chunks = 1000, 2000
	var f flooded
	rep := s.during(func() { f = flood(c, chunks, noDeadline, h2Requests(perChunk)) })
	t.Logf("attack: %d HEADERS frames: %v", f.chunks*perChunk, f)
	rep.check(t, "HTTP/2 non-reader, refused streams", 16<<20)
}
