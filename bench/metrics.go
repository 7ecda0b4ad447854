package bench

import (
	"sync/atomic"
	"time"
)

// Metrics is what one run of one scenario against one server measured. Rates are per
// second of the measured window; CPU figures are the whole window's.
type Metrics struct {
	Ops          uint64  `json:"ops"`  // messages, upgrades or requests completed
	Rate         float64 `json:"rate"` // Ops per second
	MBps         float64 `json:"mb_per_s,omitempty"`
	Latency      Latency `json:"latency"`
	Errors       uint64  `json:"errors"`
	ErrorSample  string  `json:"error_sample,omitempty"`
	Conns        int     `json:"conns,omitempty"` // connections established
	Seconds      float64 `json:"seconds"`         // measured window
	ServerCPU    float64 `json:"server_cpu_s"`
	ClientCPU    float64 `json:"client_cpu_s"`
	OtherCPU     float64 `json:"other_cpu_s"`          // every other process on the machine
	ServerUsPer  float64 `json:"server_cpu_us_per_op"` // server CPU µs per op
	ClientUsPer  float64 `json:"client_cpu_us_per_op"`
	RSSBeforeKiB int64   `json:"rss_before_kib,omitempty"`
	RSSAfterKiB  int64   `json:"rss_after_kib,omitempty"`
	KiBPerConn   float64 `json:"kib_per_conn,omitempty"`
	Note         string  `json:"note,omitempty"`
}

// window measures the server's and the harness's CPU over an interval.
type window struct {
	pid    int
	t0     time.Time
	s0, c0 time.Duration
	m0     time.Duration
	extra  func() time.Duration // client CPU spent in helper processes
	fine   bool                 // server CPU from ProcCPUFine
}

func openWindow(pid int) *window {
	w := &window{pid: pid, t0: time.Now(), c0: SelfCPU(), m0: MachineBusy()}
	if pid > 0 {
		w.s0, _ = ProcCPU(pid)
	}
	return w
}

// openFineWindow is openWindow with the server's CPU summed over its threads' schedstat
// (nanoseconds) rather than /proc/PID/stat's 10 ms ticks: a paced run at 1,000 msgs/s
// for 3 s costs a server a few tens of milliseconds, which ticks would round by a
// quarter of the figure.
func openFineWindow(pid int) *window {
	w := &window{pid: pid, t0: time.Now(), c0: SelfCPU(), m0: MachineBusy(), fine: true}
	if pid > 0 {
		w.s0, _ = ProcCPUFine(pid)
	}
	return w
}

func (w *window) serverCPU() time.Duration {
	if w.fine {
		d, _ := ProcCPUFine(w.pid)
		return d
	}
	d, _ := ProcCPU(w.pid)
	return d
}

// close fills the timing and CPU fields of m from the interval and ops.
func (w *window) close(m *Metrics) {
	el := time.Since(w.t0)
	c1 := SelfCPU()
	var s1 time.Duration
	if w.pid > 0 {
		s1 = w.serverCPU()
	}
	m.Seconds = el.Seconds()
	m.ServerCPU = (s1 - w.s0).Seconds()
	m.ClientCPU = (c1 - w.c0).Seconds()
	if w.extra != nil {
		m.ClientCPU += w.extra().Seconds()
	}
	m.OtherCPU = max(0, (MachineBusy()-w.m0).Seconds()-m.ServerCPU-m.ClientCPU)
	if m.Seconds > 0 {
		m.Rate = float64(m.Ops) / m.Seconds
	}
	if m.Ops > 0 {
		m.ServerUsPer = m.ServerCPU * 1e6 / float64(m.Ops)
		m.ClientUsPer = m.ClientCPU * 1e6 / float64(m.Ops)
	}
}

// Live is a counter a scenario bumps as it completes ops, for the progress line.
type Live struct{ n atomic.Uint64 }

func (l *Live) add(n uint64) {
	if l != nil {
		l.n.Add(n)
	}
}

func (l *Live) load() uint64 {
	if l == nil {
		return 0
	}
	return l.n.Load()
}
