package server

import (
	"bufio"
	"errors"
	"io/fs"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// Listen on a Unix-domain socket (Config.Addr "unix:..."): a socket file a dead server
// left is replaced, but neither a socket another server answers on nor a file that is not
// a socket is touched; ReusePort is refused. A server that listened removes its file when
// it stops, whether it served or not.
func TestUnixSocketListen(t *testing.T) {
	for _, tc := range []struct {
		name string
		// before puts something at the socket's path; it returns a check, run once the
		// server has tried to listen, that what was there is intact.
		before    func(t *testing.T, path string) (intact func(t *testing.T))
		reusePort bool
		serve     bool   // serve a request before stopping; otherwise Close after Listen
		wantErr   string // Listen's error; "" when it binds
	}{
		{"no file", nil, false, true, ""},
		{"no file, closed unserved", nil, false, false, ""},
		{"stale socket file is replaced", staleSocket, false, true, ""},
		{"live socket is not taken", liveSocket, false, false, "address already in use"},
		{"regular file is not removed", regularFile, false, false, "address already in use"},
		{"ReusePort refused", nil, true, false, "ReusePort"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, path := servertest.UnixSocket(t)
			var intact func(*testing.T)
			if tc.before != nil {
				intact = tc.before(t, path)
			}
			s := New(Config{Addr: addr, Loops: 1, ReusePort: tc.reusePort})
			s.Route("/", Route{HTTP: okHandler("ok")})
			err := s.Listen()
			if intact != nil {
				intact(t)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Listen: %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Listen: %v", err)
			}
			if a, ok := s.Addr().(*net.UnixAddr); !ok || a.Name != path {
				t.Fatalf("Addr() = %#v, want a *net.UnixAddr named %s", s.Addr(), path)
			}
			if tc.serve {
				cancel, sv := servertest.Start(t, s)
				c := servertest.Dial(t, s.Addr())
				write(t, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
				if resp, body := readResponse(t, bufio.NewReader(c), "GET"); resp.StatusCode != 200 || body != "ok" {
					t.Fatalf("GET over the socket: %d %q", resp.StatusCode, body)
				}
				_ = c.Close() // or the drain waits for it
				cancel()
				servertest.Wait(t, sv)
			} else if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("the socket file is still there after the server stopped: %v", err)
			}
		})
	}
}

// staleSocket leaves a socket file that nothing listens on, as a killed server does.
func staleSocket(t *testing.T, path string) func(*testing.T) {
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	_ = ln.Close()
	return nil
}

// liveSocket is another server's socket: it must still get the connections made to it.
func liveSocket(t *testing.T, path string) func(*testing.T) {
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return func(t *testing.T) {
		accepted := make(chan error, 1)
		go func() {
			c, err := ln.Accept()
			if err == nil {
				_ = c.Close()
			}
			accepted <- err
		}()
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatalf("the other server's socket no longer answers: %v", err)
		}
		_ = c.Close()
		if err := <-accepted; err != nil {
			t.Fatalf("the other server's listener: %v", err)
		}
	}
}

// regularFile is a file that is not a socket: whatever it is, it is not the server's.
func regularFile(t *testing.T, path string) func(*testing.T) {
	if err := os.WriteFile(path, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(t *testing.T) {
		if b, err := os.ReadFile(path); err != nil || string(b) != "keep me" {
			t.Fatalf("the file was touched: %q %v", b, err)
		}
	}
}

// Config.UnixSocketMode sets the socket file's permission bits, whatever the umask.
func TestUnixSocketMode(t *testing.T) {
	addr, path := servertest.UnixSocket(t)
	s := New(Config{Addr: addr, UnixSocketMode: 0o660})
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&fs.ModeSocket == 0 || fi.Mode().Perm() != 0o660 {
		t.Fatalf("socket file mode %v, want a socket with 0660", fi.Mode())
	}
}

// A peer on a Unix-domain socket has no IP, so MaxConnsPerIP does not count it: every
// connection is served (and none is miscounted under some address when it closes).
func TestUnixSocketPeersAreNotCappedPerIP(t *testing.T) {
	addr, _ := servertest.UnixSocket(t)
	s := startServer(t, Config{Addr: addr, MaxConnsPerIP: 1}, func(s *Server) {
		s.Route("/", Route{HTTP: okHandler("ok")})
	})
	for i := range 3 {
		c := dial(t, s) // all three stay open
		write(t, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp, _ := readResponse(t, bufio.NewReader(c), "GET"); resp.StatusCode != 200 {
			t.Fatalf("connection %d: status %d, want 200", i, resp.StatusCode)
		}
	}
	s.perIP.mu.Lock()
	defer s.perIP.mu.Unlock()
	if len(s.perIP.open) != 0 {
		t.Fatalf("Unix peers counted under addresses: %v", s.perIP.open)
	}
}
