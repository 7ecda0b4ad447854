package bench

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Bins locates the programs the suite runs.
type Bins struct {
	Switchyard string // the switchyard binary: `serve`, `bench -serve`, `bench -hold-child`
	Peer       string // bench/peers/cmd/peer
	Nghttpd    string // Debian's nghttpd (nghttp2-server)
	DocRoot    string // nghttpd's document root, holding index.html
	NatsServer string // nats-server (ws-broadcast-2nodes): next to the switchyard binary, or in PATH
	// TLS is the certificate of the TLS scenarios, made once per suite run in the
	// results directory (RunSuite); its key file is deleted when the suite ends.
	TLS TLSFiles `json:"tls"`
}

// serverCmd is the command line of server name listening on addr for a scenario kind,
// over TLS with b.TLS's certificate when tls is set.
func (b Bins) serverCmd(name, kind, addr string, tls bool) ([]string, error) {
	server, flags := variantOf(name)
	if len(flags) > 0 && (server != "switchyard" || kind == KindBroadcast) {
		return nil, fmt.Errorf("%s: only `switchyard serve` takes a variant's flags, and broadcast runs `switchyard bench -serve`", name)
	}
	if tls {
		return b.tlsServerCmd(server, flags, kind, addr)
	}
	switch server {
	case "switchyard":
		if kind == KindBroadcast {
			// `switchyard serve` has no broadcast route: the bench's own switchyard has
			// serve's routes plus /pub and /sub.
			return []string{b.Switchyard, "bench", "-serve", "-addr", addr}, nil
		}
		return append([]string{b.Switchyard, "serve", "-addr", addr, "-log-level", "error"}, flags...), nil
	case "nghttpd":
		if b.Nghttpd == "" {
			return nil, fmt.Errorf("nghttpd not found (apt-get install nghttp2-server)")
		}
		_, port, _ := net.SplitHostPort(addr)
		return []string{b.Nghttpd, "--no-tls", "-d", b.DocRoot, "-a", "127.0.0.1", port}, nil
	default:
		if b.Peer == "" {
			return nil, fmt.Errorf("peer binary not found (build bench/peers/cmd/peer)")
		}
		return []string{b.Peer, "-server", name, "-addr", addr}, nil
	}
}

// tlsServerCmd is serverCmd for a TLS scenario: every server is given the same
// certificate and key files. switchyard runs `serve` with its TLS listener only; nghttpd
// takes the key and certificate instead of --no-tls; the peers take -tls-cert/-tls-key.
func (b Bins) tlsServerCmd(server string, flags []string, kind, addr string) ([]string, error) {
	if b.TLS.Cert == "" || b.TLS.Key == "" {
		return nil, fmt.Errorf("%s: TLS scenario without a certificate (Bins.TLS)", server)
	}
	switch server {
	case "switchyard":
		if kind == KindBroadcast {
			return nil, fmt.Errorf("no TLS broadcast: `switchyard bench -serve` has no TLS listener")
		}
		return append([]string{b.Switchyard, "serve", "-addr", "", "-tls-addr", addr,
			"-tls-cert", b.TLS.Cert, "-tls-key", b.TLS.Key, "-log-level", "error"}, flags...), nil
	case "nghttpd":
		if b.Nghttpd == "" {
			return nil, fmt.Errorf("nghttpd not found (apt-get install nghttp2-server)")
		}
		_, port, _ := net.SplitHostPort(addr)
		return []string{b.Nghttpd, "-d", b.DocRoot, "-a", "127.0.0.1", port, b.TLS.Key, b.TLS.Cert}, nil
	default:
		if b.Peer == "" {
			return nil, fmt.Errorf("peer binary not found (build bench/peers/cmd/peer)")
		}
		return []string{b.Peer, "-server", server, "-addr", addr, "-tls-cert", b.TLS.Cert, "-tls-key", b.TLS.Key}, nil
	}
}

// proc is a server process under test.
type proc struct {
	cmd    *exec.Cmd
	addr   string
	out    *syncBuffer
	exited chan struct{}
}

// Pid is the server's process id, for /proc.
func (p *proc) Pid() int { return p.cmd.Process.Pid }

// startServer runs argv and waits until addr accepts connections.
func startServer(argv []string, addr string) (*proc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, addr: addr, out: out, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		select {
		case <-p.exited:
			return nil, fmt.Errorf("%s exited: %s", filepath.Base(argv[0]), lastLines(out.Bytes(), 3))
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return p, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.stop()
	return nil, fmt.Errorf("%s did not listen on %s within 10s", filepath.Base(argv[0]), addr)
}

// alive reports whether the server is still running.
func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM, then SIGKILL after 3s.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(3 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// freeAddr picks a loopback port nobody listens on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}

// FindBins fills in the defaults: switchyard is this executable, the peer binary sits
// next to it (bin/peer), nghttpd is looked up in PATH.
func FindBins(b Bins) (Bins, error) {
	if b.Switchyard == "" {
		exe, err := os.Executable()
		if err != nil {
			return b, err
		}
		b.Switchyard = exe
	}
	if b.Peer == "" {
		cand := filepath.Join(filepath.Dir(b.Switchyard), "peer")
		if _, err := os.Stat(cand); err == nil {
			b.Peer = cand
		}
	}
	if b.Nghttpd == "" {
		b.Nghttpd, _ = exec.LookPath("nghttpd")
	}
	if b.NatsServer == "" {
		b.NatsServer = findNatsServer(filepath.Dir(b.Switchyard))
	}
	if b.DocRoot == "" && b.Nghttpd != "" {
		dir, err := os.MkdirTemp("", "switchyard-bench-docroot")
		if err != nil {
			return b, err
		}
		if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte(rootText), 0o644); err != nil {
			return b, err
		}
		b.DocRoot = dir
	}
	return b, nil
}

// syncBuffer collects a server's output, keeping only the last 64 KiB.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 64<<10 {
		s.b.Next(s.b.Len() - 32<<10)
	}
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.b.Bytes()...)
}
