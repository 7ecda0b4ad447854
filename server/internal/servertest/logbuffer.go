package servertest

import (
	"bytes"
	"encoding/json"
	"sync"
	"testing"
)

// LogBuffer is a log output safe for the goroutines that write to it (the loops, the
// worker pool, a rate limiter's timer) while a test reads it.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Records decodes the lines a slog.JSONHandler wrote and returns those whose message is
// msg, in order, each as its attributes (numbers as float64).
func (b *LogBuffer) Records(t testing.TB, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range bytes.Split([]byte(b.String()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// CheckAccess compares an access-log record (server.Config.AccessLog, Records' "access")
// with want: duration_us must be there, and upgrade only when want has it.
func CheckAccess(t testing.TB, rec, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s = %#v, want %#v (record %v)", k, rec[k], v, rec)
		}
	}
	if d, ok := rec["duration_us"].(float64); !ok || d < 0 {
		t.Errorf("duration_us = %#v, want a count of microseconds", rec["duration_us"])
	}
	if _, ok := want["upgrade"]; !ok && rec["upgrade"] != nil {
		t.Errorf("upgrade = %#v on a response that switched nothing", rec["upgrade"])
	}
}
