package server

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server/internal/servertest"
)

// lockedBuffer is a log sink safe for the report's timer goroutine.
type lockedBuffer = servertest.LogBuffer

// Lines over the rate are suppressed, and their count is reported by itself (no ticker
// runs: the first suppressed line arms the report).
func TestRefusalLogIsRateLimited(t *testing.T) {
	var buf lockedBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := New(Config{Logger: logger, LogRate: 3})
	for i := 0; i < 10; i++ {
		if s.logs.allow(100, s.cfg.LogRate, logger) {
			logger.Debug("refused")
		}
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(buf.String(), "count=7"); {
		if time.Now().After(deadline) {
			t.Fatalf("suppressed lines not reported:\n%s", buf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := strings.Count(buf.String(), "msg=refused"); got != 3 {
		t.Fatalf("%d lines logged in one second, want 3:\n%s", got, buf.String())
	}
	if !s.logs.allow(101, s.cfg.LogRate, logger) {
		t.Fatal("a new second must allow lines again")
	}
}
