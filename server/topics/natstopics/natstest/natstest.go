// Package natstest runs a real nats-server process for tests: on a free loopback port,
// killed when the test ends, and restartable on the same port to play a NATS outage. The
// binary comes from PATH (`make test` puts the repository's bin/ first) or the
// repository's bin/; a missing binary fails the test, since `make tools` installs it.
package natstest

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Version is the nats-server the Makefile installs.
const Version = "v2.15.3"

// Server is a nats-server process.
type Server struct {
	t    testing.TB
	bin  string
	port int
	cmd  *exec.Cmd
}

// Start runs nats-server on a free loopback port for the test's duration and returns
// once it accepts connections.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &Server{t: t, bin: Binary(t), port: port}
	s.Restart()
	t.Cleanup(s.Kill)
	return s
}

// Binary finds nats-server on PATH or in the bin/ of the repository holding the working
// directory, and fails the test when there is none.
func Binary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("nats-server"); err == nil {
		return p
	}
	if dir, err := os.Getwd(); err == nil {
		for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
				continue
			}
			if p := filepath.Join(dir, "bin", "nats-server"); fileExists(p) {
				return p
			}
		}
	}
	t.Fatal("nats-server is required (make tools installs it into bin/: " +
		"GOBIN=$PWD/bin go install github.com/nats-io/nats-server/v2@" + Version + ")")
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// URL is the server's client URL.
func (s *Server) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.port) }

// Restart starts the server (again, after Kill) on its port and returns once it accepts
// connections.
func (s *Server) Restart() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "-a", "127.0.0.1", "-p", strconv.Itoa(s.port))
	s.cmd.Stdout, s.cmd.Stderr = io.Discard, io.Discard
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("nats-server: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second) // a fail-safe, not a measurement
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", s.port))
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("nats-server does not accept connections on %d: %v", s.port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill ends the server at once, as a crash would: what is in flight is lost.
func (s *Server) Kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}
