package server

import (
	"context"
	"log/slog"
	"sync/atomic"
)

// logLimiter bounds per-connection log lines (refused requests, failed upgrades) to a
// rate, so that a flood of bad clients cannot flood the log. What it suppresses is counted
// and reported once a second by the ticker.
type logLimiter struct {
	second     atomic.Int64 // the current second
	lines      atomic.Int64 // lines logged in it
	suppressed atomic.Int64
}

// allow reports whether one more line may be logged now.
func (l *logLimiter) allow(nowSec int64, perSecond int) bool {
	if l.second.Load() != nowSec {
		l.second.Store(nowSec)
		l.lines.Store(0)
	}
	if l.lines.Add(1) > int64(perSecond) {
		l.suppressed.Add(1)
		return false
	}
	return true
}

// flush logs how many lines were suppressed since the last call.
func (l *logLimiter) flush(logger *slog.Logger) {
	if n := l.suppressed.Swap(0); n > 0 {
		logger.Log(context.Background(), slog.LevelDebug, "switchyard: log lines suppressed by the rate limit", "count", n)
	}
}
