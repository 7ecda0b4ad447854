package hostile

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// safety bounds every wait of the suite: only a hang reaches it.
const safety = time.Minute

// server is one `switchyard serve` process.
type server struct {
	addr    string
	pid     int
	out     *lockedBuffer // stdout and stderr
	exited  chan struct{}
	waitErr error
}

// switchyardBin is the switchyard binary under test. There is no fallback and no skip: the
// suite is meaningless without the real server.
func switchyardBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("SWITCHYARD_BIN")
	if bin == "" {
		t.Fatal("SWITCHYARD_BIN is not set: the hostile-client suite attacks the real switchyard binary. " +
			"Run it through `make test` (which builds bin/switchyard and sets SWITCHYARD_BIN), or: " +
			"make build && SWITCHYARD_BIN=$PWD/bin/switchyard go test -race ./server/hostile/")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("SWITCHYARD_BIN=%s: %v (run `make build`, or the suite through `make test`)", bin, err)
	}
	return bin
}

// startServer runs `switchyard serve` on one event loop, so every attack shares its loop
// with the well-behaved client. config, when not empty, is the JSON of a -config file.
// The process is killed when the test ends; if it exited on its own before that, the test
// fails with what it printed.
func startServer(t *testing.T, config string, flags ...string) *server {
	t.Helper()
	bin := switchyardBin(t)
	args := []string{"serve", "-addr", "127.0.0.1:0", "-loops", "1"}
	if config != "" {
		path := filepath.Join(t.TempDir(), "switchyard.json")
		if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-config", path)
	}
	args = append(args, flags...)
	s := &server{out: &lockedBuffer{}, exited: make(chan struct{})}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	s.pid = cmd.Process.Pid
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
			t.Errorf("the server exited before the test ended (%v); it printed:\n%s", s.waitErr, s.out.tail())
			return
		default:
		}
		_ = cmd.Process.Kill()
		<-s.exited
		if t.Failed() {
			t.Logf("the server printed:\n%s", s.out.tail())
		}
	})
	// `switchyard serve` prints "switchyard listening on ADDR" once it listens.
	const prefix = "switchyard listening on "
	for deadline := time.Now().Add(safety); ; time.Sleep(5 * time.Millisecond) {
		if _, after, ok := strings.Cut(s.out.String(), prefix); ok {
			if line, _, ok := strings.Cut(after, "\n"); ok {
				s.addr = strings.TrimSpace(line)
				break
			}
		}
		select {
		case <-s.exited:
			t.Fatalf("%s %v exited before listening (%v):\n%s", bin, args, s.waitErr, s.out.tail())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %v did not say where it listens within %v:\n%s", bin, args, safety, s.out.tail())
		}
	}
	return s
}

// rss is the server's resident set size in bytes (VmRSS), or an error once it has exited.
func (s *server) rss() (int64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status (the server has exited?)", s.pid)
}

// cpu is the CPU time the server has used (user and system), from /proc/<pid>/stat
// (clock ticks of 10 ms: USER_HZ is 100 on Linux).
func (s *server) cpu() time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses: utime and stime are
	// the 14th and 15th of the whole line.
	_, rest, _ := strings.Cut(string(stat), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// lockedBuffer collects what the server prints, for the address and for failures.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 { // a server that logs without end keeps its first MiB here
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) tail() string {
	s := l.String()
	if len(s) > 4000 {
		s = "…" + s[len(s)-4000:]
	}
	return s
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
