package server

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pires/go-proxyproto"

	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// proxyV2 formats a version 2 header (proxy-protocol.txt §2.2) with go-proxyproto's
// writer, the other side's implementation.
func proxyV2(t testing.TB, h *proxyproto.Header, tlvs ...proxyproto.TLV) string {
	t.Helper()
	h.Version = 2
	if len(tlvs) > 0 {
		if err := h.SetTLVs(tlvs); err != nil {
			t.Fatal(err)
		}
	}
	b, err := h.Format()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func proxyV2TCP4(t testing.TB, src string, tlvs ...proxyproto.TLV) string {
	return proxyV2(t, &proxyproto.Header{Command: proxyproto.PROXY, TransportProtocol: proxyproto.TCPv4,
		SourceAddr: net.TCPAddrFromAddrPort(netip.MustParseAddrPort(src)), DestinationAddr: &net.TCPAddr{IP: net.IPv4(198, 51, 100, 1), Port: 443}}, tlvs...)
}

// proxyV2Raw is a version 2 header whose fixed part the test writes itself: version and
// command, family and transport, and a payload of any length.
func proxyV2Raw(verCmd, fam byte, length uint16, payload string) string {
	b := append([]byte(nil), proxyV2Sig...)
	b = append(b, verCmd, fam)
	b = binary.BigEndian.AppendUint16(b, length)
	return string(b) + payload
}

// Framing: the header's length once whole, 0 while a prefix of one, an error as soon as
// the input cannot begin with one or passes the bound (proxy-protocol.txt §2.1, §2.2).
func TestProxyHeaderLen(t *testing.T) {
	v1 := "PROXY TCP4 203.0.113.7 198.51.100.1 4711 443\r\n"
	v2 := proxyV2TCP4(t, "203.0.113.9:5000")
	for _, tc := range []struct {
		name string
		in   string
		want int
		err  error
	}{
		{"§2.1 v1 line up to CRLF", v1 + "GET /", len(v1), nil},
		{"§2.1 v1 UNKNOWN", "PROXY UNKNOWN\r\n", len("PROXY UNKNOWN\r\n"), nil},
		{"§2.1 v1 incomplete line waits", v1[:20], 0, nil},
		{"§2.1 v1 signature prefix waits", "PRO", 0, nil},
		{"§2.1 v1 line of 107 bytes", "PROXY " + strings.Repeat("x", 99) + "\r\n", 107, nil},
		{"§2.1 v1 no CRLF within 107 bytes", "PROXY " + strings.Repeat("x", 101), 0, errProxyV1Long},
		{"§2.1 v1 bare LF", "PROXY UNKNOWN\n", 0, errProxyV1CRLF},
		{"§2.2 v2 fixed part and length", v2 + "GET /", len(v2), nil},
		{"§2.2 v2 signature prefix waits", v2[:5], 0, nil},
		{"§2.2 v2 fixed part incomplete waits", v2[:15], 0, nil},
		{"§2.2 v2 payload incomplete waits", v2[:len(v2)-1], 0, nil},
		{"§2.2 v2 payload at the bound", proxyV2Raw(0x21, 0x11, proxyV2MaxPayload, ""), 0, nil},
		{"§2.2 v2 payload over the bound", proxyV2Raw(0x21, 0x11, proxyV2MaxPayload+1, ""), 0, errProxyV2Long},
		{"no header: HTTP", "GET / HTTP/1.1\r\n", 0, errProxyMissing},
		{"no header: lower-case proxy", "proxy TCP4", 0, errProxyMissing},
		{"no header: v1 signature without its space", "PROXY\r\n", 0, errProxyMissing},
		{"no header: v2 signature cut by other bytes", "\r\n\r\nGET", 0, errProxyMissing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := proxyHeaderLen([]byte(tc.in))
			if n != tc.want || err != tc.err {
				t.Fatalf("proxyHeaderLen = %d, %v; want %d, %v", n, err, tc.want, tc.err)
			}
		})
	}
}

// FuzzProxyHeader: framing never claims more than it was given, decides within the
// bound, and the header it frames parses or fails without a panic.
func FuzzProxyHeader(f *testing.F) {
	for _, s := range []string{
		"PROXY TCP4 203.0.113.7 198.51.100.1 4711 443\r\nGET / HTTP/1.1\r\n",
		"PROXY TCP6 2001:db8::7 2001:db8::1 4711 443\r\n",
		"PROXY UNKNOWN\r\n", "PROXY TCP4 x y z w\r\n", "PROXY \n", "GET /",
		proxyV2TCP4(f, "203.0.113.9:5000", proxyproto.TLV{Type: proxyproto.PP2_TYPE_AUTHORITY, Value: []byte("example.com")}),
		proxyV2(f, &proxyproto.Header{Command: proxyproto.LOCAL, TransportProtocol: proxyproto.UNSPEC}),
		proxyV2Raw(0x21, 0x11, 14, strings.Repeat("\x01", 14)),
		proxyV2Raw(0x21, 0x31, 216, ""),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		n, err := proxyHeaderLen(in)
		switch {
		case n < 0 || n > len(in):
			t.Fatalf("claimed %d of %d bytes", n, len(in))
		case err != nil && n != 0:
			t.Fatalf("claimed %d bytes with error %v", n, err)
		case err == nil && n == 0 && len(in) >= proxyV2Fixed+proxyV2MaxPayload:
			t.Fatalf("still waiting after %d bytes", len(in))
		case n > 0:
			_, _, _ = parseProxyHeader(in[:n])
		}
	})
}

// startProxied serves the client's address as the handlers see it, on the loop (/),
// from the worker pool (/pool) and through the net/http adapter (/nethttp), and the
// server's address the client connected to, on the loop (/local, Conn.LocalAddr) and
// through the adapter (/nethttp/local, http.LocalAddrContextKey), behind
// Config.ProxyProtocol; the log collects the refusals.
func startProxied(t *testing.T, cfg Config) (*Server, *lockedBuffer) {
	log := &lockedBuffer{} // lograte_test.go
	cfg.ProxyProtocol = true
	cfg.Logger = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := startServer(t, cfg, func(s *Server) {
		remote := func(w *ResponseWriter, r *Request) { _, _ = w.WriteString(r.RemoteAddr().String()) }
		s.Route("/", Route{HTTP: remote})
		s.Route("/pool", Route{HTTP: remote, UseWorkerPool: true})
		s.Route("/nethttp", NetHTTPRoute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(r.RemoteAddr))
		})))
		s.Route("/local", Route{HTTP: func(w *ResponseWriter, r *Request) {
			_, _ = w.WriteString(r.Conn().LocalAddr().String())
		}})
		s.Route("/pool/local", Route{UseWorkerPool: true, HTTP: func(w *ResponseWriter, r *Request) {
			_, _ = w.WriteString(r.LocalAddr().String())
		}})
		s.Route("/nethttp/local", NetHTTPRoute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
			_, _ = fmt.Fprint(w, a)
		})))
	})
	return s, log
}

const getRoot = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"

// The client's address reaches the handler as the header names it (proxy-protocol.txt
// §2.1, §2.2), however the header is cut into writes, and so does the address the client
// connected to, for TCP over IPv4 or IPv6; a LOCAL (v2) or UNKNOWN (v1) header keeps the
// socket's addresses, and one naming Unix sockets the socket's own (§2.2's AF_UNIX
// addresses are the balancer's, not the server's). Over TCP and over a Unix-domain
// socket (a balancer on the same host, nginx stream's proxy_pass unix:), where the
// socket's are *net.UnixAddr.
func TestProxyProtocolRemoteAddr(t *testing.T) {
	unixAddr, _ := servertest.UnixSocket(t)
	for _, ln := range []struct{ name, addr string }{{"TCP", ""}, {"Unix", unixAddr}} {
		t.Run(ln.name, func(t *testing.T) { testProxyProtocolRemoteAddr(t, ln.addr) })
	}
}

func testProxyProtocolRemoteAddr(t *testing.T, addr string) {
	s, _ := startProxied(t, Config{Addr: addr})
	authority := proxyproto.TLV{Type: proxyproto.PP2_TYPE_AUTHORITY, Value: []byte("example.com")}
	v2TCP6 := proxyV2(t, &proxyproto.Header{Command: proxyproto.PROXY, TransportProtocol: proxyproto.TCPv6,
		SourceAddr:      net.TCPAddrFromAddrPort(netip.MustParseAddrPort("[2001:db8::9]:5000")),
		DestinationAddr: net.TCPAddrFromAddrPort(netip.MustParseAddrPort("[2001:db8::1]:8443"))})
	v2Unix := proxyV2(t, &proxyproto.Header{Command: proxyproto.PROXY, TransportProtocol: proxyproto.UnixStream,
		SourceAddr: &net.UnixAddr{Net: "unix", Name: "/run/client.sock"}, DestinationAddr: &net.UnixAddr{Net: "unix", Name: "/run/lb.sock"}})
	v2LocalTCP4 := proxyV2(t, &proxyproto.Header{Command: proxyproto.LOCAL, TransportProtocol: proxyproto.TCPv4,
		SourceAddr: &net.TCPAddr{IP: net.IPv4(203, 0, 113, 9), Port: 5000}, DestinationAddr: &net.TCPAddr{IP: net.IPv4(198, 51, 100, 1), Port: 443}})
	for _, tc := range []struct {
		name, header  string
		remote, local string // "" for the socket's address
		writes        string // "apart": header, then request; "together"; "bytes": one byte per write
	}{
		{"v1 TCP4", "PROXY TCP4 203.0.113.7 198.51.100.1 4711 443\r\n", "203.0.113.7:4711", "198.51.100.1:443", "apart"},
		{"v1 TCP6", "PROXY TCP6 2001:db8::7 2001:db8::1 4711 443\r\n", "[2001:db8::7]:4711", "[2001:db8::1]:443", "apart"},
		{"v1 UNKNOWN keeps the socket's", "PROXY UNKNOWN\r\n", "", "", "apart"},
		{"v1 UNKNOWN with addresses keeps the socket's", "PROXY UNKNOWN 203.0.113.7 198.51.100.1 4711 443\r\n", "", "", "apart"},
		{"v2 TCP4 with a TLV", proxyV2TCP4(t, "203.0.113.9:5000", authority), "203.0.113.9:5000", "198.51.100.1:443", "apart"},
		{"v2 TCP6", v2TCP6, "[2001:db8::9]:5000", "[2001:db8::1]:8443", "apart"},
		{"v2 LOCAL keeps the socket's", proxyV2(t, &proxyproto.Header{Command: proxyproto.LOCAL, TransportProtocol: proxyproto.UNSPEC}), "", "", "apart"},
		{"v2 LOCAL with TCP4 addresses keeps the socket's", v2LocalTCP4, "", "", "apart"},
		{"v2 Unix stream keeps the socket's own", v2Unix, "/run/client.sock", "", "apart"},
		{"v1 and the request in one write", "PROXY TCP4 203.0.113.7 198.51.100.1 4711 443\r\n", "203.0.113.7:4711", "198.51.100.1:443", "together"},
		{"v2 and the request in one write", proxyV2TCP4(t, "203.0.113.9:5000", authority), "203.0.113.9:5000", "198.51.100.1:443", "together"},
		{"v1 one byte per write", "PROXY TCP4 203.0.113.7 198.51.100.1 4711 443\r\n", "203.0.113.7:4711", "198.51.100.1:443", "bytes"},
		{"v2 one byte per write", proxyV2TCP4(t, "203.0.113.9:5000", authority), "203.0.113.9:5000", "198.51.100.1:443", "bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s)
			switch tc.writes {
			case "together":
				write(t, c, tc.header+getRoot)
			case "bytes":
				for i := range len(tc.header) {
					write(t, c, tc.header[i:i+1])
					time.Sleep(time.Millisecond) // most likely a read each: not asserted
				}
				write(t, c, getRoot)
			default:
				write(t, c, tc.header)
				write(t, c, getRoot)
			}
			br := bufio.NewReader(c)
			want := cmp.Or(tc.remote, c.LocalAddr().String())
			if _, body := readResponse(t, br, "GET"); body != want {
				t.Fatalf("RemoteAddr() = %q, want %q", body, want)
			}
			want = cmp.Or(tc.local, c.RemoteAddr().String())
			for _, path := range []string{"/local", "/pool/local", "/nethttp/local"} {
				write(t, c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
				if _, body := readResponse(t, br, "GET"); body != want {
					t.Fatalf("%s: LocalAddr = %q, want %q", path, body, want)
				}
			}
		})
	}
}

// The proxied address is the connection's for good: every request on it sees it, from a
// handler on the loop, on the worker pool and through the net/http adapter.
func TestProxyProtocolAddressReachesEveryHandler(t *testing.T) {
	s, _ := startProxied(t, Config{})
	c := dial(t, s)
	br := bufio.NewReader(c)
	write(t, c, "PROXY TCP6 2001:db8::7 2001:db8::1 4711 443\r\n")
	for _, path := range []string{"/", "/pool", "/nethttp", "/"} {
		write(t, c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		if _, body := readResponse(t, br, "GET"); body != "[2001:db8::7]:4711" {
			t.Fatalf("%s: RemoteAddr = %q, want [2001:db8::7]:4711", path, body)
		}
	}
}

// A connection without a valid header is closed unanswered (whatever it sent, the server
// does not know who sent it), and the reason is logged at debug level.
func TestProxyProtocolRefusals(t *testing.T) {
	s, log := startProxied(t, Config{})
	for _, tc := range []struct{ name, in, reason string }{
		{"plain request without a header", getRoot, "does not begin with a PROXY protocol header"},
		{"v1 with a malformed address", "PROXY TCP4 203.0.113 198.51.100.1 4711 443\r\n" + getRoot, "invalid address"},
		{"v1 without CRLF within 107 bytes", "PROXY TCP4 " + strings.Repeat("1", 120), "longer than 107 bytes"},
		{"v2 length over the bound", proxyV2Raw(0x21, 0x11, 0xffff, ""), "longer than 2048 bytes"},
		{"v2 version 3", proxyV2Raw(0x31, 0x11, 12, strings.Repeat("\x01", 12)) + getRoot, "unsupported proxy protocol version"},
		{"v2 truncated TLV", proxyV2Raw(0x21, 0x11, 14, strings.Repeat("\x01", 14)) + getRoot, "TLV"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s)
			write(t, c, tc.in)
			expectClosed(t, bufio.NewReader(c))
			if got := log.String(); !strings.Contains(got, "PROXY protocol header: ") || !strings.Contains(got, tc.reason) {
				t.Fatalf("log %q does not give the reason %q", got, tc.reason)
			}
		})
	}
}

// A header that stops halfway meets the fresh connection's timeout, and the connection is
// closed unanswered.
func TestProxyProtocolIncompleteHeaderTimesOut(t *testing.T) {
	s, log := startProxied(t, Config{HeaderTimeout: 300 * time.Millisecond})
	c := dial(t, s)
	write(t, c, "PROXY TCP4 203.0.113.7 ")
	expectClosed(t, bufio.NewReader(c))
	if !strings.Contains(log.String(), "no complete header") {
		t.Fatalf("log %q does not name the timeout", log.String())
	}
}
