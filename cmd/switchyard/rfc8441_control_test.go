package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
)

// The control server: Go's net/http HTTP/2 server, which implements RFC 8441 when
// GODEBUG has http2xconnect=1 (read once at start-up from the environment, so it runs in
// a child process: this test binary run again). The RFC 8441 clients are run against it
// first, so that a failure against switchyard is switchyard's and not the client script's.

const controlEnv = "SWITCHYARD_RFC8441_CONTROL"

// startControl8441 starts the control server in a child process and returns its cleartext
// (h2c, prior knowledge) and TLS (ALPN h2) addresses.
func startControl8441(t *testing.T) (plain, secure string) {
	t.Helper()
	plain, secure, _ = startControl8441Events(t)
	return plain, secure
}

// startControl8441Events is startControl8441 that also returns the control server's
// events, one line each: "event connect <path> <protocol>" for an extended CONNECT,
// "event get <path> HTTP/<n> upgrade=<Upgrade>" for another request, "event result <query>"
// for a page's report.
func startControl8441Events(t *testing.T) (plain, secure string, events <-chan string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRFC8441ControlServerProcess$")
	cmd.Env = append(os.Environ(), controlEnv+"=1", "GODEBUG=http2xconnect=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	got := make(chan string, 1)
	ev := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "control listening "); ok {
				got <- a
			}
			if strings.HasPrefix(sc.Text(), "event ") {
				select {
				case ev <- sc.Text():
				default: // nobody listens: the clients' tests
				}
			}
		}
	}()
	select {
	case a := <-got:
		plain, secure, _ = strings.Cut(a, " ")
		return plain, secure, ev
	case <-time.After(30 * time.Second):
		t.Fatal("the control server printed no address")
		return "", "", nil
	}
}

// TestRFC8441ControlServerProcess is the control server's body in the child process; run
// directly it does nothing.
func TestRFC8441ControlServerProcess(t *testing.T) {
	if os.Getenv(controlEnv) != "1" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, browserPage)
	})
	mux.HandleFunc("/result", func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("event result %s\n", r.URL.RawQuery)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodConnect {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, "no WebSocket here: try /echo\n")
			return
		}
		_, _ = io.WriteString(w, "control\n")
	})
	mux.HandleFunc("/echo", controlEcho)
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(true)
	protocols.SetUnencryptedHTTP2(true)
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	secure, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := server.SelfSignedCertificate()
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: mux, Protocols: &protocols}
	ts := &http.Server{Handler: mux, Protocols: &protocols,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	fmt.Printf("control listening %s %s\n", plain.Addr(), secure.Addr())
	go func() { _ = ts.ServeTLS(secure, "", "") }()
	_ = hs.Serve(plain) // until the parent kills the process
}

// controlEcho answers extended CONNECT with :protocol websocket (RFC 8441 §5) with 200 and
// echoes WebSocket frames (RFC 6455 §5): data unmasked, ping as pong, close as close, then
// ends the stream.
func controlEcho(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		fmt.Printf("event connect %s %s\n", r.URL.Path, r.Header.Get(":protocol"))
	} else {
		fmt.Printf("event get %s HTTP/%d upgrade=%s\n", r.URL.Path, r.ProtoMajor, r.Header.Get("Upgrade"))
	}
	if r.Method != http.MethodConnect || r.Header.Get(":protocol") != "websocket" || r.Header.Get("Sec-Websocket-Version") != "13" {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, "want extended CONNECT with :protocol websocket and sec-websocket-version 13\n")
		return
	}
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	br := bufio.NewReader(r.Body)
	for {
		op, payload, err := readMaskedFrame(br)
		if err != nil {
			return
		}
		if op == 0x9 {
			op = 0xA
		}
		if _, err := w.Write(appendServerFrame(nil, op, payload)); err != nil {
			return
		}
		_ = rc.Flush()
		if op == 0x8 {
			return // the handler's return ends the stream: END_STREAM
		}
	}
}

// readMaskedFrame reads one whole client frame (no fragmentation: the clients send none).
func readMaskedFrame(br *bufio.Reader) (op byte, payload []byte, err error) {
	var h [2]byte
	if _, err = io.ReadFull(br, h[:]); err != nil {
		return 0, nil, err
	}
	if h[1]&0x80 == 0 {
		return 0, nil, fmt.Errorf("unmasked client frame")
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		_, err = io.ReadFull(br, b[:])
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		_, err = io.ReadFull(br, b[:])
		n = binary.BigEndian.Uint64(b[:])
	}
	if err != nil || n > 1<<20 {
		return 0, nil, fmt.Errorf("bad length")
	}
	var key [4]byte
	if _, err = io.ReadFull(br, key[:]); err != nil {
		return 0, nil, err
	}
	payload = make([]byte, n)
	if _, err = io.ReadFull(br, payload); err != nil {
		return 0, nil, err
	}
	for i := range payload {
		payload[i] ^= key[i&3]
	}
	return h[0] & 0x0f, payload, nil
}

func appendServerFrame(dst []byte, op byte, payload []byte) []byte {
	dst = append(dst, 0x80|op)
	switch n := len(payload); {
	case n < 126:
		dst = append(dst, byte(n))
	case n < 1<<16:
		dst = append(dst, 126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, payload...)
}

// runClient8441 runs an RFC 8441 client script (argv) against addr in mode (h2c or tls)
// and returns its output, failing the test if it exits non-zero.
func runClient8441(t *testing.T, argv []string, addr, mode string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append(append([]string(nil), argv[1:]...), addr, mode)
	out, err := exec.CommandContext(ctx, argv[0], args...).CombinedOutput()
	t.Logf("%s %s %s:\n%s", strings.Join(argv, " "), addr, mode, out)
	if err != nil {
		t.Fatalf("%s: %v", argv[len(argv)-1], err)
	}
	return string(out)
}
