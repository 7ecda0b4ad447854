package server

import (
	"os/exec"
	"strings"
	"testing"
)

// curlPath finds Debian's curl; `make test` installs it, so its absence is a failure.
func curlPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("curl")
	if err != nil {
		t.Fatalf("curl is required for interop tests (make tools installs it): %v", err)
	}
	return p
}

func runCurl(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(curlPath(t), append([]string{"-sS", "--max-time", "10"}, args...)...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("curl %v: %v\n%s", args, err, errb.String())
	}
	return out.String(), errb.String()
}

func TestCurlInterop(t *testing.T) {
	s := startServer(t, Config{}, func(s *Server) {
		s.Route("/", Route{HTTP: okHandler("hello from switchyard\n")})
		s.Route("/post", Route{HTTP: echoHandler})
		s.Route("/ws", Route{RequireUpgrade: true, Upgraders: []Upgrader{testUpgrader{"websocket"}}})
	})
	base := "http://" + s.Addr().String()

	t.Run("GET", func(t *testing.T) {
		out, _ := runCurl(t, "-i", base+"/")
		if !strings.HasPrefix(out, "HTTP/1.1 200 OK\r\n") || !strings.HasSuffix(out, "hello from switchyard\n") {
			t.Fatalf("got %q", out)
		}
	})
	t.Run("keep-alive reuses the connection", func(t *testing.T) {
		out, errOut := runCurl(t, "-v", base+"/", base+"/")
		if strings.Count(out, "hello from switchyard\n") != 2 {
			t.Fatalf("got %q", out)
		}
		if !strings.Contains(errOut, "Re-using existing connection") {
			t.Fatalf("curl opened a second connection:\n%s", errOut)
		}
	})
	t.Run("POST body", func(t *testing.T) {
		out, _ := runCurl(t, "--data-binary", "payload", base+"/post")
		if out != "POST /post payload" {
			t.Fatalf("got %q", out)
		}
	})
	t.Run("chunked upload", func(t *testing.T) {
		out, _ := runCurl(t, "-H", "Transfer-Encoding: chunked", "--data-binary", "chunked-payload", base+"/post")
		if out != "POST /post chunked-payload" {
			t.Fatalf("got %q", out)
		}
	})
	t.Run("426", func(t *testing.T) {
		out, _ := runCurl(t, "-i", base+"/ws")
		if !strings.HasPrefix(out, "HTTP/1.1 426 Upgrade Required\r\n") ||
			!strings.Contains(out, "\r\nUpgrade: websocket\r\n") || !strings.Contains(out, "had no Upgrade header") {
			t.Fatalf("got %q", out)
		}
	})
}
