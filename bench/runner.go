package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"
)

// Options configure RunSuite.
type Options struct {
	Scenarios []Scenario
	Rounds    int      // alternations of every server (at least 3 for medians)
	Only      []string // server names to keep (empty: all)
	Bins      Bins
	OutDir    string    // results root; a dated directory is made under it
	Progress  io.Writer // live progress line (nil: quiet)
	Log       io.Writer // one line per run (nil: quiet)
	Profile   bool      // profile switchyard where it misses a bar
}

// Run is one measurement.
type Run struct {
	Scenario string  `json:"scenario"`
	Server   string  `json:"server"`
	Round    int     `json:"round"`
	Metrics  Metrics `json:"metrics"`
	Err      string  `json:"error,omitempty"`
}

// RunSuite measures every scenario against each of its servers, Rounds times, in the
// order A B C A B C ... with a fresh server process per run, and writes the report.
func RunSuite(ctx context.Context, o Options) (*Report, error) {
	if o.Rounds <= 0 {
		o.Rounds = 3
	}
	bins, err := FindBins(o.Bins)
	if err != nil {
		return nil, err
	}
	rep := newReport(o, bins)
	if needsTLS(o.Scenarios) && bins.TLS.Cert == "" {
		// One certificate per run, in the results directory; the key goes when the
		// suite ends, so a kept results directory holds no private key.
		f, err := WriteTLSFiles(filepath.Join(rep.Dir, "tls"))
		if err != nil {
			return nil, fmt.Errorf("tls certificate: %w", err)
		}
		defer os.Remove(f.Key)
		bins.TLS, rep.Bins.TLS = f, f
	}
	total := 0
	for _, sc := range o.Scenarios {
		total += len(sc.serversFor(o.Only)) * sc.rounds(o.Rounds)
	}
	prog := newProgress(o.Progress)
	defer prog.done()
	n := 0
	for _, sc := range o.Scenarios {
		servers := sc.serversFor(o.Only)
		if p := sc.Paced; p != nil && p.Rate == 0 {
			// Shared with rep.Scenarios (a pointer): the report shows the rate used.
			p.Rate, p.RateNote = derivedRate(*p, rep.Runs)
		}
		rounds := sc.rounds(o.Rounds)
		for round := 1; round <= rounds; round++ {
			for _, name := range servers {
				if ctx.Err() != nil {
					return rep, ctx.Err()
				}
				n++
				live := &Live{}
				prog.start(fmt.Sprintf("[%d/%d] %s · %s · round %d/%d", n, total, sc.Name, name, round, rounds), sc.Unit(), live)
				m, err := measure(ctx, sc, name, bins, live)
				prog.stop()
				r := Run{Scenario: sc.Name, Server: name, Round: round, Metrics: m}
				if err != nil {
					r.Err = err.Error()
				}
				rep.Runs = append(rep.Runs, r)
				if o.Log != nil {
					fmt.Fprintln(o.Log, runLine(sc, r))
				}
			}
		}
	}
	rep.summarize()
	if o.Profile {
		profileMisses(ctx, rep, bins, o.Log)
	}
	return rep, nil
}

// measure starts the server, runs the scenario once and stops the server.
func measure(ctx context.Context, sc Scenario, name string, bins Bins, live *Live) (Metrics, error) {
	if sc.Kind == KindBroadcast2Nodes {
		return measureTwoNodes(ctx, sc, name, bins, live) // three processes, not one
	}
	addr, err := freeAddr()
	if err != nil {
		return Metrics{}, err
	}
	argv, err := bins.serverCmd(name, sc.Kind, addr, sc.TLS)
	if err != nil {
		return Metrics{}, err
	}
	p, err := startServer(argv, addr)
	if err != nil {
		return Metrics{}, err
	}
	defer p.stop()
	ctx, cancel := context.WithTimeout(ctx, runTimeout)
	defer cancel()
	m, err := sc.run(ctx, env{
		addr: addr, pid: p.Pid(), srcs: sourceAddrs(2, 8), live: live,
		self: bins.Switchyard, childArgs: []string{"bench", "-hold-child"},
	})
	if err == nil && !p.alive() {
		err = fmt.Errorf("server exited during the run: %s", lastLines(p.out.Bytes(), 3))
	}
	return m, err
}

// runTimeout bounds one run, so a server that crawls cannot take the suite past its budget.
const runTimeout = 60 * time.Second

func needsTLS(scs []Scenario) bool {
	for _, sc := range scs {
		if sc.TLS {
			return true
		}
	}
	return false
}

// serversFor is who runs sc under -servers only: its servers, and its extras when
// named.
func (sc *Scenario) serversFor(only []string) []string {
	if len(only) == 0 {
		return sc.Servers
	}
	return keep(append(slices.Clip(sc.Servers), sc.Extra...), only)
}

func keep(servers, only []string) []string {
	if len(only) == 0 {
		return servers
	}
	var out []string
	for _, s := range servers {
		for _, o := range only {
			if s == o || (s == "switchyard" && isVariant(o)) {
				out = append(out, o)
			}
		}
	}
	return out
}

// rounds is how many alternations sc runs when the suite asks for suite rounds.
func (sc *Scenario) rounds(suite int) int {
	if sc.Rounds > 0 && sc.Rounds < suite {
		return sc.Rounds
	}
	return suite
}

// derivedRate is a paced scenario's rate from a saturated one that ran before it in the
// suite (PacedParams.RateOf): RateFrac of the median over servers of their median rates,
// rounded to a thousand (at least 1,000), or p.Fallback when none of its runs succeeded.
func derivedRate(p PacedParams, runs []Run) (int, string) {
	byServer := map[string][]float64{}
	var order []string
	for _, r := range runs {
		if r.Scenario != p.RateOf || r.Err != "" || r.Metrics.Rate <= 0 {
			continue
		}
		if _, ok := byServer[r.Server]; !ok {
			order = append(order, r.Server)
		}
		byServer[r.Server] = append(byServer[r.Server], r.Metrics.Rate)
	}
	if len(order) == 0 {
		return p.Fallback, fmt.Sprintf("%s did not run: fixed %d/s", p.RateOf, p.Fallback)
	}
	var medians []float64
	for _, s := range order {
		medians = append(medians, median(byServer[s]))
	}
	sat := median(medians)
	rate := max(1000, int(sat*p.RateFrac/1000+0.5)*1000)
	return rate, fmt.Sprintf("%.0f%% of %.0f/s, the median over %d servers of %s", p.RateFrac*100, sat, len(order), p.RateOf)
}

func runLine(sc Scenario, r Run) string {
	m := r.Metrics
	if sc.Kind == KindWSIdle || sc.IsPaced() {
		s := fmt.Sprintf("%-26s %-10s r%d  %8.0f %s/s  srv %6.2f%% of a core %7.2f µs/op  cli %6.2f%%  p50 %7.0fµs p99 %7.0fµs  %d conns  err %d  %s",
			sc.Name, r.Server, r.Round, m.Rate, sc.Unit(), pct(m.ServerCPU, m.Seconds), m.ServerUsPer, pct(m.ClientCPU, m.Seconds),
			m.Latency.P50, m.Latency.P99, m.Conns, m.Errors, m.Note)
		if r.Err != "" {
			s += "  ERROR: " + r.Err
		}
		return s
	}
	s := fmt.Sprintf("%-26s %-10s r%d  %10.0f %s/s  srv %6.2f µs/op  cli %6.2f µs/op  p50 %7.0fµs p99 %7.0fµs  err %d",
		sc.Name, r.Server, r.Round, m.Rate, sc.Unit(), m.ServerUsPer, m.ClientUsPer, m.Latency.P50, m.Latency.P99, m.Errors)
	if sc.Kind == KindHold {
		s += fmt.Sprintf("  %d conns %.2f KiB/conn", m.Conns, m.KiBPerConn)
	}
	if r.Err != "" {
		s += "  ERROR: " + r.Err
	}
	return s
}

// resultDir is OutDir/YYYY-MM-DD-HHMM.
func resultDir(root string, t time.Time) string {
	return filepath.Join(root, t.Format("2006-01-02-1504"))
}

// pct is cpu seconds over secs as a percentage of one core.
func pct(cpu, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return cpu / secs * 100
}

func machine() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s, %d CPUs, %s/%s, %s", host, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
}
