package server

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestRefusalLogIsRateLimited(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := New(Config{Logger: logger, LogRate: 3})
	for i := 0; i < 10; i++ {
		if s.logs.allow(100, s.cfg.LogRate) {
			logger.Debug("refused")
		}
	}
	s.logs.flush(logger)
	out := buf.String()
	if got := strings.Count(out, "msg=refused"); got != 3 {
		t.Fatalf("%d lines logged in one second, want 3:\n%s", got, out)
	}
	if !strings.Contains(out, "count=7") {
		t.Fatalf("suppressed lines not reported:\n%s", out)
	}
	if !s.logs.allow(101, s.cfg.LogRate) {
		t.Fatal("a new second must allow lines again")
	}
}
