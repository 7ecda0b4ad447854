package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// roomNode is a `switchyard serve -nats` process.
type roomNode struct {
	addr, admin string
}

// startRoomNode runs the binary under test (SWITCHYARD_BIN) with a broadcast route at
// /room whose room spans nodes over natsURL.
func startRoomNode(t *testing.T, natsURL string) roomNode {
	t.Helper()
	bin := os.Getenv("SWITCHYARD_BIN")
	if bin == "" {
		t.Fatal("SWITCHYARD_BIN is not set: run through `make test`, or: make build && SWITCHYARD_BIN=$PWD/bin/switchyard go test ./cmd/switchyard/")
	}
	cfgPath := filepath.Join(t.TempDir(), "rooms.json")
	if err := os.WriteFile(cfgPath, []byte(`{"routes": [{"path": "/room", "kind": "broadcast"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "-loops", "2", "-addr", "127.0.0.1:0", "-admin", "127.0.0.1:0",
		"-config", cfgPath, "-nats", natsURL)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
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
	var node roomNode
	var out strings.Builder
	timeout := time.After(30 * time.Second)
	for node.addr == "" || node.admin == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("serve exited before listening:\n%s", &out)
			}
			out.WriteString(line + "\n")
			if a, ok := strings.CutPrefix(line, "switchyard listening on "); ok {
				node.addr = a
			}
			if a, ok := strings.CutPrefix(line, "switchyard admin on http://"); ok {
				node.admin, _, _ = strings.Cut(a, " ")
			}
		case <-timeout:
			t.Fatalf("serve printed no addresses:\n%s", &out)
		}
	}
	go func() {
		for range lines { // keep the pipe drained
		}
	}()
	return node
}

// roomCounters scrapes a node's switchyard_rooms_* counters.
func (n roomNode) roomCounters(t *testing.T) map[string]uint64 {
	t.Helper()
	resp, err := http.Get("http://" + n.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]uint64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || !strings.HasPrefix(name, "switchyard_rooms_") {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", sc.Text(), err)
		}
		out[strings.TrimPrefix(name, "switchyard_rooms_")] = uint64(v)
	}
	if len(out) == 0 {
		t.Fatalf("%s/metrics has no switchyard_rooms_ counters", n.admin)
	}
	return out
}
