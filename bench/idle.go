package bench

import (
	"context"
	"fmt"
	"time"
)

// IdleParams shape a ws-idle run: Conns upgraded connections that send nothing, held by
// child processes of at most PerChild each (as ws-hold), then the server's CPU over
// Duration after Settle.
type IdleParams struct {
	Conns    int           `json:"conns"`
	PerChild int           `json:"per_child"`
	Settle   time.Duration `json:"settle"`
	Duration time.Duration `json:"duration"`
	Path     string        `json:"path,omitempty"`
}

// RunIdle measures what idle connections cost a server (process pid) in CPU: timers,
// pings, wheels and loops that wake with nothing to do. Server and client CPU are summed
// over their threads' schedstat (ProcCPUFine), finer than /proc/PID/stat's 10 ms ticks.
// A server that pings its idle connections gets no pong (the children read nothing) but
// does pay for the pings.
func RunIdle(ctx context.Context, addr string, pid int, p IdleParams, self string, childArgs []string, live *Live) (Metrics, error) {
	if p.Path == "" {
		p.Path = "/echo"
	}
	var m Metrics
	h, err := startHolders(ctx, addr, p.Path, p.Conns, p.PerChild, self, childArgs, live)
	if err != nil {
		return m, err
	}
	defer h.release()
	m.Conns = h.held
	m.Errors, m.ErrorSample = uint64(h.errs), h.sample
	if h.held == 0 {
		return m, fmt.Errorf("no connection held: %s", h.sample)
	}
	settled := settle(ctx, pid, p.Settle)
	k0 := h.cpu()
	w := openFineWindow(pid)
	w.extra = func() time.Duration { return h.cpu() - k0 }
	sleepCtx(ctx, p.Duration)
	w.close(&m)
	m.Note = fmt.Sprintf("%d of %d connections held by %d client processes; window opened %s after the last upgrade",
		m.Conns, p.Conns, len(h.kids), settled.Round(10*time.Millisecond))
	return m, ctx.Err()
}

// settle waits at least min after the upgrades, then until the server (pid) has been
// quiet for a quarter second (under 0.2 % of a core: the tail of the upgrades, a
// garbage collection of the handshakes' garbage), at most 3 s more. A fixed wait either
// costs every run the slowest server's tail or measures that tail as idle cost.
func settle(ctx context.Context, pid int, min time.Duration) time.Duration {
	t0 := time.Now()
	sleepCtx(ctx, min)
	const step, quiet = 250 * time.Millisecond, 500 * time.Microsecond
	prev, err := ProcCPUFine(pid)
	for deadline := time.Now().Add(3 * time.Second); err == nil && ctx.Err() == nil && time.Now().Before(deadline); {
		sleepCtx(ctx, step)
		cur, cerr := ProcCPUFine(pid)
		if cerr != nil || cur-prev < quiet {
			break
		}
		prev, err = cur, cerr
	}
	return time.Since(t0)
}
