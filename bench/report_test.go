package bench

import (
	"strings"
	"testing"
)

// runsFor makes one successful run per (server, rate, µs/op, KiB/conn, conns).
func runsFor(scenario string, rows ...Run) []Run {
	for i := range rows {
		rows[i].Scenario = scenario
	}
	return rows
}

func run(server string, rate, usPer, kib float64, conns int) Run {
	return Run{Server: server, Round: 1, Metrics: Metrics{Rate: rate, ServerUsPer: usPer, KiBPerConn: kib, Conns: conns, Seconds: 1}}
}

func barNamed(t *testing.T, bars []Bar, name, scenario string) Bar {
	t.Helper()
	for _, b := range bars {
		if b.Name == name && b.Scenario == scenario {
			return b
		}
	}
	t.Fatalf("no bar %q for %s", name, scenario)
	return Bar{}
}

func TestBars(t *testing.T) {
	echo := Scenario{Name: "ws-echo-64B-c1000", Kind: KindEcho, Servers: []string{"switchyard", "gws", "gnet"}}
	hold := Scenario{Name: "ws-hold-19000", Kind: KindHold, Servers: []string{"switchyard", "gnet"}}
	h1 := Scenario{Name: "h1-get", Kind: KindH1, Servers: []string{"switchyard", "fasthttp"}}
	echoVariant := echo
	echoVariant.Servers = []string{"switchyard", "switchyard+-reuseport", "gws"}
	cases := []struct {
		name, bar, scenario string
		sc                  Scenario
		runs                []Run
		met                 bool
	}{
		{"echo CPU at 0.8x the best peer meets the bar", "echo CPU per message", echo.Name, echo,
			runsFor(echo.Name, run("switchyard", 100, 8, 0, 0), run("gws", 90, 10, 0, 0), run("gnet", 95, 12, 0, 0)), true},
		{"echo CPU judged against the cheapest peer, not the fastest", "echo CPU per message", echo.Name, echo,
			runsFor(echo.Name, run("switchyard", 100, 8, 0, 0), run("gws", 99, 12, 0, 0), run("gnet", 50, 9, 0, 0)), false},
		{"echo rate below 1.1x the best peer misses", "echo messages/s", echo.Name, echo,
			runsFor(echo.Name, run("switchyard", 105, 8, 0, 0), run("gws", 100, 10, 0, 0), run("gnet", 10, 12, 0, 0)), false},
		{"idle memory must be under 0.75 KiB", "idle memory per connection", hold.Name, hold,
			runsFor(hold.Name, run("switchyard", 0, 0, 0.8, 19000), run("gnet", 0, 0, 1.0, 19000)), false},
		{"idle memory must be measured at 15,000 connections or more", "idle memory per connection", hold.Name, hold,
			runsFor(hold.Name, run("switchyard", 0, 0, 0.5, 14000), run("gnet", 0, 0, 1.0, 19000)), false},
		{"idle memory lowest and small at 19,000 meets the bar", "idle memory per connection", hold.Name, hold,
			runsFor(hold.Name, run("switchyard", 0, 0, 0.5, 19000), run("gnet", 0, 0, 0.6, 19000)), true},
		{"a variant of switchyard is not a peer", "echo CPU per message", echo.Name, echoVariant,
			runsFor(echo.Name, run("switchyard", 100, 8, 0, 0), run("switchyard+-reuseport", 200, 5, 0, 0), run("gws", 90, 10, 0, 0)), true},
		{"h1 at 1.2x fasthttp meets the bar", "HTTP/1.1 GET / requests/s", h1.Name, h1,
			runsFor(h1.Name, run("switchyard", 120, 5, 0, 0), run("fasthttp", 100, 5, 0, 0)), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &Report{Scenarios: []Scenario{c.sc}, Runs: c.runs}
			r.summarize()
			b := barNamed(t, r.Bars, c.bar, c.scenario)
			if !b.Checked || b.Met != c.met {
				t.Fatalf("checked %v met %v (%s), want met %v", b.Checked, b.Met, b.Got, c.met)
			}
		})
	}
}

// An experiment run beside the peers (a scenario's extra, named in -servers) has its row
// in the report but is no peer of the bars.
func TestBarsLeaveExtrasOut(t *testing.T) {
	sc := Scenario{Name: "ws-echo-64B-c1000", Kind: KindEcho, Servers: []string{"switchyard", "gws"}, Extra: []string{"uring-lean"}}
	r := &Report{Scenarios: []Scenario{sc}, only: []string{"switchyard", "gws", "uring-lean"},
		Runs: runsFor(sc.Name, run("switchyard", 100, 8, 0, 0), run("uring-lean", 200, 5, 0, 0), run("gws", 90, 10, 0, 0))}
	r.summarize()
	if r.summary(sc.Name, "uring-lean") == nil {
		t.Fatal("no row for the extra")
	}
	if b := barNamed(t, r.Bars, "echo CPU per message", sc.Name); !b.Met || !strings.Contains(b.Got, "gws") {
		t.Fatalf("bar %+v: want met against gws", b)
	}
}

func TestReportRendersTablesRatiosAndChart(t *testing.T) {
	sc := Scenario{Name: "ws-echo-64B-c1000", Kind: KindEcho, Servers: []string{"switchyard", "gws"},
		Echo: &EchoParams{Conns: 1000, InFlight: 1, Size: 64}}
	r := &Report{Scenarios: []Scenario{sc}, Rounds: 3, Runs: runsFor(sc.Name,
		run("switchyard", 200, 5, 0, 0), run("gws", 100, 10, 0, 0), Run{Server: "gws", Round: 2, Err: "server exited"})}
	r.summarize()
	gws := r.summary(sc.Name, "gws")
	if gws.RateX != 0.5 || gws.CPUX != 2 || gws.Failed != 1 || gws.Runs != 2 {
		t.Fatalf("gws summary %+v", gws)
	}
	md := r.Markdown()
	for _, want := range []string{"## ws-echo-64B-c1000", "| gws | 100 | 0.50 | 10.00 | 2.00 |", "1/2 runs failed", "| echo CPU per message | ws-echo-64B-c1000 |", "**met**", "**not checked**"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	svg := r.Chart()
	if !strings.HasPrefix(svg, "<svg") || strings.Count(svg, "<rect") != 5 { // background + 2 panels × 2 bars
		t.Errorf("chart: %d rects\n%s", strings.Count(svg, "<rect"), svg)
	}
}

// A bar's ratio of medians comes with the range of its round-by-round ratios, over the
// rounds that measured both servers.
func TestBarsGiveTheRoundsSpread(t *testing.T) {
	sc := Scenario{Name: "ws-echo-64B-c1000", Kind: KindEcho, Servers: []string{"switchyard", "gws"}}
	at := func(r Run, round int) Run { r.Round = round; return r }
	r := &Report{Scenarios: []Scenario{sc}, Runs: runsFor(sc.Name,
		at(run("switchyard", 100, 8, 0, 0), 1), at(run("gws", 90, 10, 0, 0), 1),
		at(run("switchyard", 100, 9, 0, 0), 2), at(run("gws", 90, 10, 0, 0), 2),
		at(run("switchyard", 100, 6, 0, 0), 3), at(run("gws", 90, 12, 0, 0), 3),
		at(run("switchyard", 100, 1, 0, 0), 4), // no gws run in round 4: not a pair
	)}
	r.summarize()
	if b := barNamed(t, r.Bars, "echo CPU per message", sc.Name); !strings.Contains(b.Got, "(rounds 0.50-0.90×)") {
		t.Fatalf("bar %q: want the rounds' spread 0.50-0.90×", b.Got)
	}
	one := &Report{Scenarios: []Scenario{sc}, Runs: runsFor(sc.Name, run("switchyard", 100, 8, 0, 0), run("gws", 90, 10, 0, 0))}
	one.summarize()
	if b := barNamed(t, one.Bars, "echo CPU per message", sc.Name); strings.Contains(b.Got, "rounds") {
		t.Fatalf("bar %q: a single round has no spread", b.Got)
	}
}
