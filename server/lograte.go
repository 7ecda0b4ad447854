package server

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// logLimiter bounds per-connection log lines (refused requests, failed upgrades) to a
// rate, so that a flood of bad clients cannot flood the log. What it suppresses is counted
// and reported a second after the first suppressed line: a timer armed only then, so a
// server with nothing to report has nothing ticking.
type logLimiter struct {
	second     atomic.Int64 // the current second
	lines      atomic.Int64 // lines logged in it
	suppressed atomic.Int64
}

// suppress counts one suppressed line and, if it is the first since the last report,
// arranges the report.
func (l *logLimiter) suppress(logger *slog.Logger) {
	if l.suppressed.Add(1) == 1 {
		time.AfterFunc(time.Second, func() { l.flush(logger) })
	}
}

// allow reports whether one more line may be logged now; a line it refuses is counted
// for logger's next report.
func (l *logLimiter) allow(nowSec int64, perSecond int, logger *slog.Logger) bool {
	if l.second.Load() != nowSec {
		l.second.Store(nowSec)
		l.lines.Store(0)
	}
	if l.lines.Add(1) > int64(perSecond) {
		l.suppress(logger)
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
