package http2

import (
	"crypto/tls"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/server"
)

// TestH2SpecTLS runs h2spec over TLS (-t, -k for the throw-away certificate): HTTP/2
// reached by ALPN "h2" on a TLS server behaves as with prior knowledge in cleartext, every
// case passing, with and without --strict.
func TestH2SpecTLS(t *testing.T) {
	bin := h2specPath(t)
	cert, err := server.SelfSignedCertificate()
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, server.Config{Logger: discard, TLS: &tls.Config{Certificates: []tls.Certificate{cert}}}, h2Routes)
	_, port, _ := strings.Cut(s.Addr().String(), ":")
	for _, mode := range []struct {
		name string
		args []string
	}{{"default", nil}, {"strict", []string{"--strict"}}} {
		t.Run(mode.name, func(t *testing.T) {
			args := append([]string{"-t", "-k", "-h", "127.0.0.1", "-p", port, "-o", "10", "-j", filepath.Join(t.TempDir(), "junit.xml")}, mode.args...)
			out, err := exec.Command(bin, args...).CombinedOutput()
			m := h2specSummary.FindSubmatch(out)
			if m == nil {
				t.Fatalf("h2spec %v: no summary (%v):\n%s", args, err, out)
			}
			t.Logf("h2spec --tls %s: %s", mode.name, m[0])
			if string(m[3]) != "0" || string(m[4]) != "0" || err != nil {
				t.Fatalf("h2spec --tls %s: %s (%v)\n%s", mode.name, m[0], err, failures(out))
			}
		})
	}
}
