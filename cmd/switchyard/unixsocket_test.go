package main

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A "unix:" address and unix_mode reach server.Config from the file and from the flags,
// which win.
func TestUnixAddrReachesTheServer(t *testing.T) {
	p := writeConfig(t, `{"addr": "unix:/run/a.sock", "unix_mode": "0660"}`)
	for _, tc := range []struct {
		name     string
		args     []string
		wantAddr string
		wantMode fs.FileMode
	}{
		{"config file", nil, "unix:/run/a.sock", 0o660},
		{"flags win", []string{"-addr", "unix:/run/b.sock", "-unix-mode", "0600"}, "unix:/run/b.sock", 0o600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseServeArgs(append([]string{"-config", p}, tc.args...))
			if err != nil {
				t.Fatal(err)
			}
			if sc := cfg.serverConfig(); sc.Addr != tc.wantAddr || sc.UnixSocketMode != tc.wantMode {
				t.Fatalf("Addr %q UnixSocketMode %v, want %q %v", sc.Addr, sc.UnixSocketMode, tc.wantAddr, tc.wantMode)
			}
		})
	}
}

// `switchyard serve` on Unix-domain sockets, cleartext and TLS: it prints the addresses
// as -addr spells them, serves over both, and removes both socket files when SIGTERM
// stops it.
func TestServeOnUnixSockets(t *testing.T) {
	dir := t.TempDir()
	plainPath, securePath := filepath.Join(dir, "sw.sock"), filepath.Join(dir, "sws.sock")
	plain, secure, proc, _ := startServeBinary(t, "-addr", "unix:"+plainPath, "-tls-addr", "unix:"+securePath,
		"-tls-self-signed", "-unix-mode", "0660")
	if plain != "unix:"+plainPath || secure != "unix:"+securePath {
		t.Fatalf("serve printed %q and %q, want unix:%s and unix:%s", plain, secure, plainPath, securePath)
	}
	for _, tc := range []struct {
		name, path string
		tls        bool
	}{
		{"cleartext", plainPath, false},
		{"TLS", securePath, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if fi, err := os.Stat(tc.path); err != nil || fi.Mode().Perm() != 0o660 {
				t.Fatalf("socket file: %v %v, want mode 0660", fi, err)
			}
			c, err := net.Dial("unix", tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(time.Minute)) // only a hang meets it
			if tc.tls {
				c = tls.Client(c, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
			}
			_, _ = c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || string(body) != rootText {
				t.Fatalf("GET /: %d %q", resp.StatusCode, body)
			}
		})
	}
	if err := proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The files go once the drain is over: wait for it (the deadline only guards
	// against a hang).
	for _, p := range []string{plainPath, securePath} {
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			_, err := os.Lstat(p)
			if errors.Is(err, fs.ErrNotExist) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the socket file %s is still there after SIGTERM: %v", p, err)
			}
		}
	}
}
