package http2

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// toolPath finds an interop client; `make tools` installs them, so a missing one fails.
func toolPath(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is required for HTTP/2 interop tests (make tools installs it: apt-get install curl nghttp2-client): %v", name, err)
	}
	return p
}

func runTool(t *testing.T, name string, args ...string) (stdout, stderr []byte) {
	t.Helper()
	cmd := exec.Command(toolPath(t, name), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, errb.String())
	}
	return out.Bytes(), errb.Bytes()
}

// interopBody is 100 KiB of varied bytes: more than the 64 KiB initial windows, so the
// transfer exercises flow control in both directions.
func interopBody(t *testing.T) (data []byte, path string) {
	data = make([]byte, 100<<10)
	for i := range data {
		data[i] = byte(i*7 + i>>8)
	}
	path = filepath.Join(t.TempDir(), "body.bin")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return data, path
}

// Real clients the project did not write, over both ways into HTTP/2 (RFC 7540 §3.2 and
// RFC 9113 §3.3), compared byte for byte.
func TestH2Interop(t *testing.T) {
	s := startH2Server(t)
	base := "http://" + s.Addr().String()
	body, bodyFile := interopBody(t)
	root := []byte("hello from switchyard over HTTP/2\n")

	curlModes := []struct{ name, flag, proof string }{
		{"curl upgrade (RFC 7540 §3.2)", "--http2", "101"},
		{"curl prior knowledge (RFC 9113 §3.3)", "--http2-prior-knowledge", ""},
	}
	for _, m := range curlModes {
		t.Run(m.name+" GET /", func(t *testing.T) {
			out, errOut := runTool(t, "curl", "-sS", "-v", "--max-time", "10", m.flag, base+"/")
			if !bytes.Equal(out, root) {
				t.Fatalf("body %q, want %q", out, root)
			}
			if !strings.Contains(string(errOut), "< HTTP/2 200") {
				t.Fatalf("not answered over HTTP/2:\n%s", errOut)
			}
			if m.proof != "" && !strings.Contains(string(errOut), "HTTP/1.1 101") {
				t.Fatalf("no 101 switch:\n%s", errOut)
			}
		})
		t.Run(m.name+" POST /echo 100 KiB", func(t *testing.T) {
			out, errOut := runTool(t, "curl", "-sS", "-v", "--max-time", "10", m.flag, "--data-binary", "@"+bodyFile, base+"/echo")
			if !bytes.Equal(out, body) {
				t.Fatalf("echo differs: got %d bytes, want %d", len(out), len(body))
			}
			if !strings.Contains(string(errOut), "< HTTP/2 200") {
				t.Fatalf("not answered over HTTP/2:\n%s", errOut)
			}
		})
	}

	nghttpModes := []struct{ name, flag string }{
		{"nghttp upgrade (RFC 7540 §3.2)", "-u"},
		{"nghttp prior knowledge (RFC 9113 §3.3)", ""},
	}
	for _, m := range nghttpModes {
		args := func(extra ...string) []string {
			a := []string{"-t", "10"}
			if m.flag != "" {
				a = append(a, m.flag)
			}
			return append(a, extra...)
		}
		t.Run(m.name+" GET /", func(t *testing.T) {
			out, _ := runTool(t, "nghttp", args(base+"/")...)
			if !bytes.Equal(out, root) {
				t.Fatalf("body %q, want %q", out, root)
			}
		})
		t.Run(m.name+" POST /echo 100 KiB", func(t *testing.T) {
			out, _ := runTool(t, "nghttp", args("-d", bodyFile, base+"/echo")...)
			if !bytes.Equal(out, body) {
				t.Fatalf("echo differs: got %d bytes, want %d", len(out), len(body))
			}
		})
	}
	t.Run("nghttp upgrade shows the 101", func(t *testing.T) {
		out, _ := runTool(t, "nghttp", "-v", "-u", "-t", "10", base+"/")
		if !strings.Contains(string(out), "HTTP Upgrade success") {
			t.Fatalf("nghttp did not upgrade:\n%s", out)
		}
	})
}
