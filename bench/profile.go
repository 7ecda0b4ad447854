package bench

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
)

// Profile is a CPU profile of switchyard under one scenario.
type Profile struct {
	Scenario string `json:"scenario"`
	File     string `json:"file"`
	How      string `json:"how"`
	Top      string `json:"top"`
}

// profileMisses runs switchyard once more under each scenario whose bar it missed, as
// `switchyard bench -serve -cpuprofile` (serve's routes, same code), and keeps the
// profile and `go tool pprof -top` of it in the report when a Go toolchain is at hand.
// Memory bars get no CPU profile: their table already shows RSS before and after; nor
// does ws-idle (a tenth of a percent of a core gives a profile a few samples). Of the
// paced scenarios only the first miss of each kind is profiled (the lowest rate, where
// wake-ups weigh most), to keep the suite's wall time. Nor are the TLS scenarios (`bench
// -serve` listens in cleartext): profile `switchyard serve -tls-*` by hand for those.
func profileMisses(ctx context.Context, r *Report, bins Bins, log io.Writer) {
	done := map[string]bool{}
	for _, bar := range r.Bars {
		if !bar.Checked || bar.Met || done[bar.Scenario] {
			continue
		}
		var sc *Scenario
		for i := range r.Scenarios {
			if r.Scenarios[i].Name == bar.Scenario {
				sc = &r.Scenarios[i]
			}
		}
		// `bench -serve` has no TLS listener: the TLS scenarios are not profiled here.
		if sc == nil || sc.TLS || sc.Kind == KindHold || sc.Kind == KindWSIdle || sc.Kind == KindBroadcast2Nodes || (sc.IsPaced() && done["kind:"+sc.Kind]) {
			continue
		}
		done[bar.Scenario] = true
		if sc.IsPaced() {
			done["kind:"+sc.Kind] = true
		}
		p, err := profileOne(ctx, *sc, bins, r.Dir)
		if err != nil {
			if log != nil {
				fmt.Fprintf(log, "profile %s: %v\n", sc.Name, err)
			}
			continue
		}
		r.Profiles = append(r.Profiles, p)
	}
}

func profileOne(ctx context.Context, sc Scenario, bins Bins, dir string) (Profile, error) {
	addr, err := freeAddr()
	if err != nil {
		return Profile{}, err
	}
	file := filepath.Join(dir, "cpu-"+sc.Name+".pprof")
	if err := mkdirAll(dir); err != nil {
		return Profile{}, err
	}
	proc, err := startServer([]string{bins.Switchyard, "bench", "-serve", "-addr", addr, "-cpuprofile", file}, addr)
	if err != nil {
		return Profile{}, err
	}
	_, runErr := sc.run(ctx, env{addr: addr, pid: proc.Pid(), srcs: sourceAddrs(2, 8), live: &Live{},
		self: bins.Switchyard, childArgs: []string{"bench", "-hold-child"}})
	proc.stop() // SIGTERM: the profile is written on the way out
	if runErr != nil {
		return Profile{}, runErr
	}
	p := Profile{Scenario: sc.Name, File: filepath.Base(file),
		How: fmt.Sprintf("`switchyard bench -serve -cpuprofile` under one run of %s; `go tool pprof -top -cum %s %s` (cumulative: the syscalls show under the code that made them).", sc.Name, filepath.Base(bins.Switchyard), filepath.Base(file))}
	if goBin, err := exec.LookPath("go"); err == nil {
		out, err := exec.CommandContext(ctx, goBin, "tool", "pprof", "-top", "-cum", "-nodecount=30", bins.Switchyard, file).CombinedOutput()
		if err != nil {
			return p, fmt.Errorf("pprof: %v: %s", err, lastLines(out, 3))
		}
		p.Top = string(out)
	} else {
		p.Top = "(no Go toolchain in PATH: open " + p.File + " with go tool pprof)"
	}
	return p, nil
}
