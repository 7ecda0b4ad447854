package bench

import (
	"strings"
	"testing"
)

func pacedResult(scenario, server string, cores, usPer, p99 float64, conns int) Run {
	return Run{Scenario: scenario, Server: server, Round: 1, Metrics: Metrics{
		Rate: 1000, ServerUsPer: usPer, ServerCPU: cores, Seconds: 1, Conns: conns,
		Latency: Latency{P50: Micros(p99 / 2), P99: Micros(p99)},
	}}
}

// TestPacedReport: the paced and idle scenarios get the overview, their own tables, the
// issue-15 bars and a line chart; the bars follow the thresholds.
func TestPacedReport(t *testing.T) {
	servers := []string{"switchyard", "gws", "gnet"}
	lo := Scenario{Name: "ws-paced-1k", Kind: KindWSPaced, Servers: servers, Paced: &PacedParams{Conns: 10000, Rate: 1000, Size: 64}}
	hi := Scenario{Name: "ws-paced-30k", Kind: KindWSPaced, Servers: servers, Paced: &PacedParams{Conns: 10000, Rate: 30000, Size: 64}}
	idle := Scenario{Name: "ws-idle-15000", Kind: KindWSIdle, Servers: servers, Idle: &IdleParams{Conns: 15000, PerChild: 7500}}
	r := &Report{Scenarios: []Scenario{lo, hi, idle}, Runs: []Run{
		// 1k: switchyard at 0.75x the cheapest peer and the best p99: met.
		pacedResult(lo.Name, "switchyard", 0.03, 30, 200, 10000), pacedResult(lo.Name, "gws", 0.05, 50, 300, 10000), pacedResult(lo.Name, "gnet", 0.04, 40, 250, 10000),
		// 30k: cheaper, but a worse p99 than gnet's: missed.
		pacedResult(hi.Name, "switchyard", 0.3, 10, 900, 10000), pacedResult(hi.Name, "gws", 0.6, 20, 800, 10000), pacedResult(hi.Name, "gnet", 0.5, 16, 500, 10000),
		// idle: 0.05 % of a core, gws at 0.
		pacedResult(idle.Name, "switchyard", 0.0005, 0, 0, 15000), pacedResult(idle.Name, "gws", 0, 0, 0, 15000), pacedResult(idle.Name, "gnet", 0.001, 0, 0, 15000),
	}}
	r.summarize()
	cases := []struct {
		name, bar, scenario string
		met                 bool
	}{
		{"cheaper by 0.8x with the best p99 meets the paced bar", "paced CPU per op and p99", lo.Name, true},
		{"cheaper but with a worse p99 misses the paced bar", "paced CPU per op and p99", hi.Name, false},
		{"idle above a peer misses even under 0.1 %", "idle CPU", idle.Name, false},
	}
	for _, c := range cases {
		if b := barNamed(t, r.Bars, c.bar, c.scenario); !b.Checked || b.Met != c.met {
			t.Errorf("%s: %+v", c.name, b)
		}
	}
	md := r.Markdown()
	for _, want := range []string{"## Paced and idle load (issue 15)", "| ws-paced | 1000/s (ws-paced-1k) | 30.0k/s (ws-paced-30k) |\n",
		"| switchyard | 3.0 % · 30.0 µs · 200 | 30.0 % · 10.0 µs · 900 |\n", "| server | msgs/s | srv % of a core |", "| server | conns held | srv % of a core |"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	svg := r.Chart()
	if !strings.Contains(svg, "ws-paced: server CPU") || strings.Count(svg, "<polyline") != len(servers) {
		t.Errorf("chart: no CPU-against-rate lines, one per server:\n%s", svg)
	}
}
