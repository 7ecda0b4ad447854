package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
)

// startServeBinary runs the switchyard binary under test (SWITCHYARD_BIN, which `make
// test` builds and sets: without it the test fails, it does not skip) with `serve` and
// args, and returns the cleartext and TLS addresses it prints.
func startServeBinary(t *testing.T, args ...string) (plain, secure string, proc *os.Process, out *strings.Builder) {
	t.Helper()
	bin := os.Getenv("SWITCHYARD_BIN")
	if bin == "" {
		t.Fatal("SWITCHYARD_BIN is not set: run through `make test`, or: make build && SWITCHYARD_BIN=$PWD/bin/switchyard go test ./cmd/switchyard/")
	}
	cmd := exec.Command(bin, append([]string{"serve", "-loops", "1"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	out = &strings.Builder{}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(30 * time.Second)
	for secure == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("serve exited before listening:\n%s", out)
			}
			out.WriteString(line + "\n")
			if a, ok := strings.CutPrefix(line, "switchyard listening on "); ok {
				plain = a
			}
			if a, ok := strings.CutPrefix(line, "switchyard TLS listening on "); ok {
				secure, _, _ = strings.Cut(a, " ")
			}
		case <-timeout:
			t.Fatalf("serve printed no TLS address:\n%s", out)
		}
	}
	go func() {
		for range lines { // keep the pipe drained
		}
	}()
	return plain, secure, cmd.Process, out
}

func lookTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is required for interop tests (make tools installs it): %v", name, err)
	}
	return p
}

// curl over https against `switchyard serve -tls-self-signed`: ALPN picks HTTP/2 or
// HTTP/1.1 as asked, as curl's verbose output says, and both get the same route.
func TestServeTLSCurl(t *testing.T) {
	curl := lookTool(t, "curl")
	_, addr, _, _ := startServeBinary(t, "-addr", "127.0.0.1:0", "-tls-addr", "127.0.0.1:0", "-tls-self-signed")
	for _, tc := range []struct {
		flag, alpn, status string
	}{
		{"--http2", "ALPN: server accepted h2", "< HTTP/2 200"},
		{"--http1.1", "ALPN: server accepted http/1.1", "< HTTP/1.1 200 OK"},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			cmd := exec.Command(curl, "-sS", "-k", "-v", "--max-time", "10", tc.flag, "https://"+addr+"/")
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("curl: %v\n%s", err, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.alpn) || !strings.Contains(stderr.String(), tc.status) {
				t.Fatalf("curl -v lacks %q or %q:\n%s", tc.alpn, tc.status, stderr.String())
			}
			if stdout.String() != rootText {
				t.Fatalf("body %q", stdout.String())
			}
		})
	}
	t.Run("nghttp", func(t *testing.T) {
		out, err := exec.Command(lookTool(t, "nghttp"), "-v", "-t", "10", "https://"+addr+"/").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "The negotiated protocol: h2") || !strings.Contains(string(out), ":status: 200") {
			t.Fatalf("nghttp: %v\n%s", err, out)
		}
	})
}

// writePair writes a fresh self-signed certificate and its key as PEM files.
func writePair(t *testing.T, dir string) *x509.Certificate {
	t.Helper()
	cert, err := server.SelfSignedCertificate()
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})
	// Written aside and renamed, so the server never reads half a pair.
	for name, data := range map[string][]byte{"cert.pem": certPEM, "key.pem": keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name+".new"), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"cert.pem", "key.pem"} {
		if err := os.Rename(filepath.Join(dir, name+".new"), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return cert.Leaf
}

// -tls-cert and -tls-key, TLS only (-addr ""), and SIGHUP: new handshakes get the new
// certificate without a restart.
func TestServeTLSCertificateReloadsOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	first := writePair(t, dir)
	plain, addr, proc, _ := startServeBinary(t, "-addr", "", "-tls-addr", "127.0.0.1:0",
		"-tls-cert", filepath.Join(dir, "cert.pem"), "-tls-key", filepath.Join(dir, "key.pem"))
	if plain != "" {
		t.Fatalf("-addr \"\" still listens in cleartext on %s", plain)
	}
	serial := func() string {
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	if got := serial(); got != first.SerialNumber.String() {
		t.Fatalf("serving %s, want the first certificate %s", got, first.SerialNumber)
	}
	second := writePair(t, dir)
	if err := proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for serial() != second.SerialNumber.String() {
		if time.Now().After(deadline) {
			t.Fatal("the new certificate was not served after SIGHUP")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeSurvivesSIGHUPWithoutCertificateFiles: SIGHUP reloads certificate files; with
// none to reload (a self-signed certificate, or no TLS) it must not end the server, as
// the signal's default action did (an operator's reload, logrotate's HUP).
func TestServeSurvivesSIGHUPWithoutCertificateFiles(t *testing.T) {
	plain, secure, proc, _ := startServeBinary(t, "-addr", "127.0.0.1:0", "-tls-addr", "127.0.0.1:0", "-tls-self-signed")
	if err := proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the signal's default action would have ended it by now
	c, err := tls.Dial("tcp", secure, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("TLS after SIGHUP: %v", err)
	}
	c.Close()
	resp, err := http.Get("http://" + plain + "/")
	if err != nil {
		t.Fatalf("HTTP after SIGHUP: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("HTTP after SIGHUP: %d", resp.StatusCode)
	}
}
