package http2

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// h2specPath finds the pinned h2spec binary that `make tools` installs.
func h2specPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SWITCHYARD_H2SPEC"); p != "" {
		return p
	}
	p, err := filepath.Abs("../../bin/h2spec") // the repository's bin/, from server/http2
	if err == nil {
		if _, err = os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("h2spec v2.2.1 is required (make tools installs it into bin/, or set SWITCHYARD_H2SPEC): %v", err)
	return ""
}

var h2specSummary = regexp.MustCompile(`(\d+) tests, (\d+) passed, (\d+) skipped, (\d+) failed`)

// TestH2Spec runs (-o is h2spec's per-case timeout in seconds; its -t means TLS) the h2spec conformance suite (RFC 7540/9113 and RFC 7541) against the
// server, with and without --strict: every case must pass and none may be skipped.
func TestH2Spec(t *testing.T) {
	bin := h2specPath(t)
	s := startH2Server(t)
	_, port, _ := strings.Cut(s.Addr().String(), ":")
	for _, mode := range []struct {
		name string
		args []string
	}{{"default", nil}, {"strict", []string{"--strict"}}} {
		t.Run(mode.name, func(t *testing.T) {
			args := append([]string{"-h", "127.0.0.1", "-p", port, "-o", "10", "-j", filepath.Join(t.TempDir(), "junit.xml")}, mode.args...)
			out, err := exec.Command(bin, args...).CombinedOutput()
			m := h2specSummary.FindSubmatch(out)
			if m == nil {
				t.Fatalf("h2spec %v: no summary (%v):\n%s", args, err, out)
			}
			t.Logf("h2spec %s: %s", mode.name, m[0])
			if string(m[3]) != "0" || string(m[4]) != "0" || err != nil {
				t.Fatalf("h2spec %s: %s (%v)\n%s", mode.name, m[0], err, failures(out))
			}
		})
	}
}

// failures keeps h2spec's report of the failed cases, which follows "Failures:".
func failures(out []byte) string {
	if _, after, ok := strings.Cut(string(out), "Failures:"); ok {
		return after
	}
	return string(out)
}
