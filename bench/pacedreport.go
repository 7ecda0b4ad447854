package bench

import (
	"fmt"
	"strings"
)

// The paced and idle scenarios' part of the report (issue 15): an overview per kind in
// the layout (servers down, rates across), then a table per scenario.

// pacedKinds are the open-loop kinds, in the order the overview shows them.
var pacedKinds = []string{KindWSPaced, KindH1Paced, KindH2Paced}

// pacedRate is the rate a paced scenario asked for (0 before it ran, if derived).
func pacedRate(sc Scenario) int {
	if sc.Paced == nil {
		return 0
	}
	return sc.Paced.Rate
}

// scenariosOf are the report's scenarios of kind, in suite order.
func (r *Report) scenariosOf(kind string) []Scenario {
	var out []Scenario
	for _, sc := range r.Scenarios {
		if sc.Kind == kind {
			out = append(out, sc)
		}
	}
	return out
}

// serversOf are the servers with a row in any of scs, in first-seen order.
func (r *Report) serversOf(scs []Scenario) []string {
	seen := map[string]bool{}
	var out []string
	for _, sc := range scs {
		for _, name := range sc.serversFor(r.only) {
			if !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	return out
}

// pacedOverview writes one table per paced kind that ran, and the idle figures.
func (r *Report) pacedOverview(b *strings.Builder) {
	var any bool
	for _, kind := range append(pacedKinds, KindWSIdle) {
		any = any || len(r.scenariosOf(kind)) > 0
	}
	if !any {
		return
	}
	b.WriteString("## Paced and idle load (issue 15)\n\n" +
		"Open loop: the client sends at a fixed total rate spread evenly over its connections and over time, " +
		"whatever the server does, and never spins (it sleeps until a timerfd says its next send is due), so a server pays " +
		"for its own wake-ups. Each cell: server CPU as % of one core · server CPU µs per message (request) · p99 latency in µs " +
		"(h2: from h2load's per-request log, its own delays included). Server CPU is summed over the server's threads from /proc/PID/task/*/schedstat.\n\n")
	for _, kind := range pacedKinds {
		scs := r.scenariosOf(kind)
		if len(scs) == 0 {
			continue
		}
		fmt.Fprintf(b, "| %s |", kind)
		sep := "|---|"
		for _, sc := range scs {
			fmt.Fprintf(b, " %s/s (%s) |", num(float64(pacedRate(sc))), sc.Name)
			sep += "---|"
		}
		b.WriteString("\n" + sep + "\n")
		for _, server := range r.serversOf(scs) {
			fmt.Fprintf(b, "| %s |", server)
			for _, sc := range scs {
				s := r.summary(sc.Name, server)
				if s == nil || s.Runs == s.Failed {
					b.WriteString(" — |")
					continue
				}
				fmt.Fprintf(b, " %.1f %% · %.1f µs · %s |", s.ServerCores*100, s.ServerUsPer, us(s.P99))
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	if scs := r.scenariosOf(KindWSIdle); len(scs) > 0 {
		b.WriteString("| ws-idle | connections | server % of a core | client % of a core |\n|---|---|---|---|\n")
		for _, sc := range scs {
			for _, server := range r.serversOf([]Scenario{sc}) {
				if s := r.summary(sc.Name, server); s != nil && s.Runs > s.Failed {
					fmt.Fprintf(b, "| %s (%s) | %d | %.2f | %.2f |\n", server, sc.Name, s.Conns, s.ServerCores*100, s.ClientCores*100)
				}
			}
		}
		b.WriteString("\n")
	}
}

// pacedTable is a paced or idle scenario's own table: achieved rate, CPU as % of a core
// and per op for server and client, latency.
func (r *Report) pacedTable(b *strings.Builder, sc Scenario) {
	if sc.Kind == KindWSIdle {
		b.WriteString("| server | conns held | srv % of a core | ×sy | cli % of a core | other cores | errors | note |\n|---|---|---|---|---|---|---|---|\n")
	} else {
		fmt.Fprintf(b, "| server | %s/s | srv %% of a core | srv µs/op | ×sy | cli %% of a core | cli µs/op | other cores | p50 µs | p90 µs | p99 µs | p99.9 µs | mean µs | errors | note |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n", sc.Unit())
	}
	var sy *Summary
	if s := r.summary(sc.Name, "switchyard"); s != nil && s.Runs > s.Failed {
		sy = s
	}
	for _, s := range r.Summaries {
		if s.Scenario != sc.Name {
			continue
		}
		note := rowNote(s)
		if sc.Kind == KindWSIdle {
			xsy := 0.0
			if sy != nil {
				xsy = ratio(s.ServerCores, sy.ServerCores)
			}
			fmt.Fprintf(b, "| %s | %d | %.2f | %s | %.2f | %.2f | %d | %s |\n", s.Server, s.Conns, s.ServerCores*100, x(xsy),
				s.ClientCores*100, s.OtherCores, s.Errors, note)
			continue
		}
		fmt.Fprintf(b, "| %s | %.0f | %.1f | %.2f | %s | %.1f | %.2f | %.2f | %s | %s | %s | %s | %s | %d | %s |\n",
			s.Server, s.Rate, s.ServerCores*100, s.ServerUsPer, x(s.CPUX), s.ClientCores*100, s.ClientUsPer, s.OtherCores,
			us(s.P50), us(s.P90), us(s.P99), us(s.P999), us(s.Mean), s.Errors, note)
	}
}

// rowNote is a summary's note with its failures and an example error, safe in a table.
func rowNote(s Summary) string {
	note := s.Note
	switch {
	case s.Failed > 0:
		note = strings.TrimSpace(fmt.Sprintf("%s %d/%d runs failed; e.g. %s", note, s.Failed, s.Runs, s.ErrorSample))
	case s.Errors > 0:
		note = strings.TrimSpace(fmt.Sprintf("%s e.g. %s", note, s.ErrorSample))
	}
	return strings.ReplaceAll(note, "|", "/")
}

// describePaced is the sentence under a paced or idle scenario's heading.
func describePaced(sc Scenario) string {
	servers := strings.Join(sc.Servers, ", ")
	if p := sc.Idle; p != nil {
		return fmt.Sprintf("%d upgraded WebSocket connections (target) that send nothing, held by client processes of at most %d each; server CPU over %s, %s after the last upgrade. Servers: %s.",
			p.Conns, p.PerChild, p.Duration, p.Settle, servers)
	}
	p := sc.Paced
	rate := fmt.Sprintf("%d", p.Rate)
	if p.RateNote != "" {
		rate += " (" + p.RateNote + ")"
	}
	switch sc.Kind {
	case KindWSPaced:
		return fmt.Sprintf("Open loop: %d WebSocket connections on /echo, %d-byte binary messages, %s messages/s in all, evenly spaced over connections and time; %s measured after %s; client loops sleep between sends (no spinning). Latency: write to echo. Servers: %s.",
			p.Conns, p.Size, rate, p.Duration, p.Warmup, servers)
	case KindH1Paced:
		return fmt.Sprintf("Open loop: %d keep-alive HTTP/1.1 connections, `GET /` at %s requests/s in all, evenly spaced; %s measured after %s (the harness's client: wrk has no fixed rate). Servers: %s.",
			p.Conns, rate, p.Duration, p.Warmup, servers)
	case KindH2Paced:
		return fmt.Sprintf("`h2load -c %d -m 1 --rps %g -D %s`: %s requests/s in all over cleartext HTTP/2; latency percentiles from its --log-file (request start to end of response, h2load's own delays included); the window includes its connects. Servers: %s.",
			p.Conns, float64(p.Rate)/float64(max(p.Conns, 1)), p.Duration, rate, servers)
	}
	return ""
}
