package bench

import (
	"sort"
	"testing"
)

// sendsOf walks every loop's schedule until its sends are due at or after horizon and
// returns them as (connection index, due) in time order, as the loops together send.
func sendsOf(loops []pace, horizon int64) (conn []int, due []int64) {
	type send struct {
		j   int
		due int64
	}
	var all []send
	for i := range loops {
		p := &loops[i]
		for {
			slot, d := p.next()
			if d >= horizon {
				break
			}
			all = append(all, send{p.ids[slot], d})
			p.advance()
		}
	}
	sort.SliceStable(all, func(a, b int) bool { return all[a].due < all[b].due })
	for _, s := range all {
		conn, due = append(conn, s.j), append(due, s.due)
	}
	return conn, due
}

func pacesFor(start, rate int64, loopOf []int, loops int) []pace {
	ids := splitIDs(loopOf, loops)
	out := make([]pace, 0, loops)
	for _, l := range ids {
		if len(l) > 0 {
			out = append(out, pace{start: start, rate: rate, conns: int64(len(loopOf)), ids: l})
		}
	}
	return out
}

func TestPaceSchedule(t *testing.T) {
	cases := []struct {
		name   string
		rate   int64
		loopOf []int // the loop each connection is on
		loops  int
	}{
		{"one loop sends in connection order", 1000, []int{0, 0, 0, 0}, 1},
		{"round-robin loops interleave into one even sequence", 1000, []int{0, 1, 0, 1, 0, 1, 0, 1, 0, 1}, 2},
		{"uneven loops (a connection failed to enroll) still interleave evenly", 5000, []int{0, 0, 1, 0, 1, 1, 1}, 2},
		{"a rate that does not divide a second keeps the gaps within a nanosecond", 30000, []int{0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1}, 3},
		{"a loop with no connection sends nothing", 1000, []int{1, 1, 1}, 3},
		{"more messages a second than connections", 30000, []int{0, 1}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			const start = 7_000_000
			n := int64(len(c.loopOf))
			rounds := int64(5)
			horizon := start + rounds*n*1e9/c.rate
			conn, due := sendsOf(pacesFor(start, c.rate, c.loopOf, c.loops), horizon)
			if int64(len(conn)) != rounds*n {
				t.Fatalf("%d sends before the horizon, want %d (%d rounds of %d connections)", len(conn), rounds*n, rounds, n)
			}
			// The client as a whole: send k is connection k mod n, due at start + k/rate.
			lo, hi := 1e9/c.rate, (1e9+c.rate-1)/c.rate
			for k := range conn {
				if conn[k] != k%int(n) {
					t.Fatalf("send %d went to connection %d, want %d", k, conn[k], k%int(n))
				}
				if want := start + int64(k)*1e9/c.rate; due[k] != want {
					t.Fatalf("send %d due at %d, want %d", k, due[k], want)
				}
				if k > 0 {
					if gap := due[k] - due[k-1]; gap < lo || gap > hi {
						t.Fatalf("gap %d ns before send %d, want %d..%d", gap, k, lo, hi)
					}
				}
			}
			// Each connection: one message every n/rate s, its share of the rate.
			last := map[int]int64{}
			for k, j := range conn {
				if prev, ok := last[j]; ok {
					if gap, want := due[k]-prev, n*1e9/c.rate; gap < want-1 || gap > want+1 {
						t.Fatalf("connection %d: %d ns between its sends, want %d", j, gap, want)
					}
				}
				last[j] = due[k]
			}
		})
	}
}

// TestPaceLoopOrder: a loop's own sends come in time order, so a loop that sends what is
// due and sleeps until its next one never skips a send that is due earlier.
func TestPaceLoopOrder(t *testing.T) {
	p := pace{start: 0, rate: 7000, conns: 9, ids: []int{1, 4, 5, 8}}
	prev := int64(-1)
	for k := 0; k < 100; k++ {
		slot, due := p.next()
		if due < prev {
			t.Fatalf("send %d (connection %d) due at %d, before the previous at %d", k, p.ids[slot], due, prev)
		}
		if slot != k%len(p.ids) {
			t.Fatalf("send %d went to slot %d, want %d", k, slot, k%len(p.ids))
		}
		prev = due
		p.advance()
	}
}

func TestDerivedRate(t *testing.T) {
	echo := "ws-echo-64B-c10000"
	p := PacedParams{RateOf: echo, RateFrac: 0.5, Fallback: 60000}
	rate := func(server string, v float64) Run {
		return Run{Scenario: echo, Server: server, Metrics: Metrics{Rate: v}}
	}
	cases := []struct {
		name string
		runs []Run
		want int
	}{
		{"no saturated run: the fallback", nil, 60000},
		{"half the median over servers of their medians, to a thousand", []Run{
			rate("a", 100000), rate("a", 120000), rate("a", 110000),
			rate("b", 80000), rate("c", 200000), {Scenario: "other", Server: "d", Metrics: Metrics{Rate: 1e9}},
		}, 55000},
		{"failed runs do not count", []Run{rate("a", 90000), {Scenario: echo, Server: "b", Err: "boom"}}, 45000},
		{"never below a thousand", []Run{rate("a", 100)}, 1000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, note := derivedRate(p, c.runs)
			if got != c.want {
				t.Fatalf("rate %d (%s), want %d", got, note, c.want)
			}
		})
	}
}

func TestScenarioRounds(t *testing.T) {
	paced := Scenario{Rounds: 1}
	if got := paced.rounds(3); got != 1 {
		t.Fatalf("a paced scenario capped at 1 ran %d rounds", got)
	}
	if got := (&Scenario{}).rounds(3); got != 3 {
		t.Fatalf("an uncapped scenario ran %d rounds of 3", got)
	}
	if got := (&Scenario{Rounds: 2}).rounds(1); got != 1 {
		t.Fatalf("a cap of 2 ran %d rounds when the suite asked for 1", got)
	}
}
