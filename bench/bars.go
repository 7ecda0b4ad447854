package bench

import (
	"fmt"
	"math"
	"slices"
)

// Bar is one of issue 5's targets checked against the medians.
type Bar struct {
	Name     string `json:"name"`
	Scenario string `json:"scenario"`
	Want     string `json:"want"`
	Got      string `json:"got"`
	Met      bool   `json:"met"`
	Checked  bool   `json:"checked"` // false when the scenario or a server did not run
}

// peersOf returns the usable rows of scenario other than switchyard's, its variants' and
// the scenario's extras' (experiments, not peers).
func (r *Report) peersOf(scenario string) (sy *Summary, peers []*Summary) {
	for i := range r.Summaries {
		s := &r.Summaries[i]
		if s.Scenario != scenario || s.Runs == s.Failed || isVariant(s.Server) || r.isExtra(scenario, s.Server) {
			continue
		}
		if s.Server == "switchyard" {
			sy = s
		} else {
			peers = append(peers, s)
		}
	}
	return sy, peers
}

// isExtra reports whether server is one of scenario's extras.
func (r *Report) isExtra(scenario, server string) bool {
	for _, sc := range r.Scenarios {
		if sc.Name == scenario && slices.Contains(sc.Extra, server) {
			return true
		}
	}
	return false
}

func best(peers []*Summary, better func(a, b *Summary) bool) *Summary {
	var b *Summary
	for _, p := range peers {
		if b == nil || better(p, b) {
			b = p
		}
	}
	return b
}

func byRate(a, b *Summary) bool { return a.Rate > b.Rate }
func byCPU(a, b *Summary) bool  { return a.ServerUsPer < b.ServerUsPer }
func byKiB(a, b *Summary) bool  { return a.KiBPerConn < b.KiBPerConn }

// evaluateBars checks issue 5's bars (and issue 4's HTTP/2 bar) where the suite ran the
// scenarios they need, under the default suite's names.
func evaluateBars(r *Report) []Bar {
	var bars []Bar
	check := func(name, scenario, want string, f func(sy *Summary, peers []*Summary) (string, bool)) {
		b := Bar{Name: name, Scenario: scenario, Want: want}
		sy, peers := r.peersOf(scenario)
		if sy != nil && len(peers) > 0 {
			b.Checked = true
			b.Got, b.Met = f(sy, peers)
		} else {
			b.Got = "not measured"
		}
		bars = append(bars, b)
	}
	for _, sc := range []string{"ws-echo-64B-c1000", "ws-echo-64B-c10000"} {
		check("echo CPU per message", sc, "≤ 0.8× the best peer's server µs/msg", func(sy *Summary, peers []*Summary) (string, bool) {
			p := best(peers, byCPU)
			x := ratio(sy.ServerUsPer, p.ServerUsPer)
			return fmt.Sprintf("%.2f µs vs %s %.2f µs = %.2f×%s", sy.ServerUsPer, p.Server, p.ServerUsPer, x, r.roundSpread(sy, p, cpuPerOp)), x <= 0.8
		})
		check("echo messages/s", sc, "≥ 1.1× the best peer's msgs/s", func(sy *Summary, peers []*Summary) (string, bool) {
			p := best(peers, byRate)
			x := ratio(sy.Rate, p.Rate)
			return fmt.Sprintf("%.0f vs %s %.0f = %.2f×%s", sy.Rate, p.Server, p.Rate, x, r.roundSpread(sy, p, opRate)), x >= 1.1
		})
	}
	check("idle memory per connection", "ws-hold-19000", "< 0.75 KiB, lowest of all, at ≥ 15,000 connections", func(sy *Summary, peers []*Summary) (string, bool) {
		p := best(peers, byKiB)
		return fmt.Sprintf("%.2f KiB at %d conns vs %s %.2f KiB", sy.KiBPerConn, sy.Conns, p.Server, p.KiBPerConn),
			sy.KiBPerConn < 0.75 && sy.KiBPerConn < p.KiBPerConn && sy.Conns >= 15000
	})
	check("handshakes/s", "ws-handshake", "≥ 1.2× the best peer, lowest server CPU per upgrade", func(sy *Summary, peers []*Summary) (string, bool) {
		p, c := best(peers, byRate), best(peers, byCPU)
		x := ratio(sy.Rate, p.Rate)
		return fmt.Sprintf("%.0f/s vs %s %.0f/s = %.2f×%s; %.1f µs/upgrade vs %s %.1f µs", sy.Rate, p.Server, p.Rate, x,
			r.roundSpread(sy, p, opRate), sy.ServerUsPer, c.Server, c.ServerUsPer), x >= 1.2 && sy.ServerUsPer < c.ServerUsPer
	})
	check("HTTP/1.1 GET / requests/s", "h1-get", "≥ 1.2× fasthttp's", func(sy *Summary, peers []*Summary) (string, bool) {
		for _, p := range peers {
			if p.Server == "fasthttp" {
				x := ratio(sy.Rate, p.Rate)
				return fmt.Sprintf("%.0f vs fasthttp %.0f = %.2f×%s", sy.Rate, p.Rate, x, r.roundSpread(sy, p, opRate)), x >= 1.2
			}
		}
		return "fasthttp not measured", false
	})
	check("HTTP/2 GET / requests/s (issue 4)", "h2-get", "≥ 4× x/net h2c and ≥ 0.7× nghttpd", func(sy *Summary, peers []*Summary) (string, bool) {
		var h2c, ng float64
		for _, p := range peers {
			switch p.Server {
			case "h2c":
				h2c = p.Rate
			case "nghttpd":
				ng = p.Rate
			}
		}
		a, b := ratio(sy.Rate, h2c), ratio(sy.Rate, ng)
		return fmt.Sprintf("%.0f: %.2f× h2c, %.2f× nghttpd", sy.Rate, a, b), a >= 4 && b >= 0.7 && sy.Errors == 0
	})
	// Issue 16: the same comparisons over TLS, against gws, nbio and gorilla with their
	// TLS, and nghttpd (and net/http) for HTTP/2 over TLS.
	check("TLS handshakes/s", "tls-handshake", "≥ 1.0× the best peer, lowest server CPU per handshake", func(sy *Summary, peers []*Summary) (string, bool) {
		p, c := best(peers, byRate), best(peers, byCPU)
		x := ratio(sy.Rate, p.Rate)
		return fmt.Sprintf("%.0f/s vs %s %.0f/s = %.2f×; %.1f µs/handshake vs %s %.1f µs", sy.Rate, p.Server, p.Rate, x,
			sy.ServerUsPer, c.Server, c.ServerUsPer), x >= 1.0 && sy.ServerUsPer < c.ServerUsPer
	})
	check("TLS echo CPU per message", "tls-ws-echo-64B-c1000", "≤ 0.8× the best peer's server µs/msg", func(sy *Summary, peers []*Summary) (string, bool) {
		p := best(peers, byCPU)
		x := ratio(sy.ServerUsPer, p.ServerUsPer)
		return fmt.Sprintf("%.2f µs vs %s %.2f µs = %.2f×%s", sy.ServerUsPer, p.Server, p.ServerUsPer, x, r.roundSpread(sy, p, cpuPerOp)), x <= 0.8
	})
	check("idle memory per TLS connection", "tls-ws-hold-10000", "lowest of all, at ≥ 10,000 upgraded TLS connections", func(sy *Summary, peers []*Summary) (string, bool) {
		p := best(peers, byKiB)
		return fmt.Sprintf("%.2f KiB at %d conns vs %s %.2f KiB", sy.KiBPerConn, sy.Conns, p.Server, p.KiBPerConn),
			sy.KiBPerConn < p.KiBPerConn && sy.Conns >= 10000
	})
	check("HTTP/2 over TLS GET / requests/s", "tls-h2-get", "≥ 1.0× nghttpd", func(sy *Summary, peers []*Summary) (string, bool) {
		for _, p := range peers {
			if p.Server == "nghttpd" {
				x := ratio(sy.Rate, p.Rate)
				return fmt.Sprintf("%.0f vs nghttpd %.0f = %.2f×", sy.Rate, p.Rate, x), x >= 1.0 && sy.Errors == 0
			}
		}
		return "nghttpd not measured", false
	})
	// Issue 18: a broadcast spanning two nodes over NATS, against centrifuge on its NATS broker.
	check("two-node broadcast deliveries/s and p99", KindBroadcast2Nodes, "deliveries/s ≥ centrifuge's, p99 ≤ centrifuge's, nothing lost", twoNodeBar)
	check("two-node broadcast p99 at a fixed rate", twoNodePacedName, "p99 ≤ centrifuge's at the same load, nothing lost", twoNodePacedBar)
	bars = append(bars, rfc8441Bars(r)...) // issue 17: WebSocket over HTTP/2
	// Issue 15: at every paced rate, and idle.
	for _, sc := range r.Scenarios {
		switch {
		case sc.IsPaced():
			check("paced CPU per op and p99", sc.Name, "≤ 0.8× the best peer's server µs/op, p99 ≤ the best peer's", func(sy *Summary, peers []*Summary) (string, bool) {
				p, l := best(peers, byCPU), best(peers, byLatency)
				x := ratio(sy.ServerUsPer, p.ServerUsPer)
				return fmt.Sprintf("%.1f µs vs %s %.1f µs = %.2f×%s; %s %s µs vs %s %s µs", sy.ServerUsPer, p.Server, p.ServerUsPer, x,
						r.roundSpread(sy, p, cpuPerOp), latName(sy), us(latOf(sy)), l.Server, us(latOf(l))),
					x <= 0.8 && latOf(sy) <= latOf(l) && sy.Errors == 0
			})
		case sc.Kind == KindWSIdle:
			check("idle CPU", sc.Name, "≤ 0.1 % of a core at ≥ 15,000 connections, not above any peer", func(sy *Summary, peers []*Summary) (string, bool) {
				p := best(peers, byCores)
				return fmt.Sprintf("%.2f %% at %d conns vs %s %.2f %%", sy.ServerCores*100, sy.Conns, p.Server, p.ServerCores*100),
					sy.ServerCores <= 0.001 && sy.ServerCores <= p.ServerCores && sy.Conns >= 15000
			})
		}
	}
	return bars
}

func byCores(a, b *Summary) bool   { return a.ServerCores < b.ServerCores }
func byLatency(a, b *Summary) bool { return latOf(a) < latOf(b) }

// latOf is the latency a paced bar compares: p99, or the mean where the tool gives no
// percentiles (h2load).
func latOf(s *Summary) float64 {
	if s.P99 > 0 {
		return s.P99
	}
	return s.Mean
}

func latName(s *Summary) string {
	if s.P99 > 0 {
		return "p99"
	}
	return "mean"
}

func cpuPerOp(m *Metrics) float64 { return m.ServerUsPer }
func opRate(m *Metrics) float64   { return m.Rate }

// roundSpread is the range of a's ratio to b, round by round, as " (rounds 0.89-1.02×)",
// or "" when fewer than two rounds measured both. The bars judge the ratio of medians; the
// spread says how far single rounds strayed from it. Within a round the servers ran one
// after another, so a drift of the machine's speed moves a round's pair alike and its
// ratio less than the medians.
func (r *Report) roundSpread(a, b *Summary, metric func(*Metrics) float64) string {
	of := func(server string) map[int]float64 {
		m := map[int]float64{}
		for i := range r.Runs {
			run := &r.Runs[i]
			if run.Scenario == a.Scenario && run.Server == server && run.Err == "" && metric(&run.Metrics) > 0 {
				m[run.Round] = metric(&run.Metrics)
			}
		}
		return m
	}
	av, bv := of(a.Server), of(b.Server)
	lo, hi, n := math.Inf(1), math.Inf(-1), 0
	for round, x := range av {
		if y, ok := bv[round]; ok {
			q := x / y
			lo, hi, n = math.Min(lo, q), math.Max(hi, q), n+1
		}
	}
	if n < 2 {
		return ""
	}
	return fmt.Sprintf(" (rounds %.2f-%.2f×)", lo, hi)
}
