package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Report is a suite's runs, medians, bars and profiles; Write saves it.
type Report struct {
	Started   time.Time  `json:"started"`
	Finished  time.Time  `json:"finished"`
	Machine   string     `json:"machine"`
	Rounds    int        `json:"rounds"`
	Bins      Bins       `json:"bins"`
	Scenarios []Scenario `json:"scenarios"`
	Runs      []Run      `json:"runs"`
	Summaries []Summary  `json:"summaries"`
	Bars      []Bar      `json:"bars"`
	Profiles  []Profile  `json:"profiles,omitempty"`
	Dir       string     `json:"-"`
	only      []string
}

func newReport(o Options, b Bins) *Report {
	now := time.Now()
	return &Report{Started: now, Machine: machine(), Rounds: o.Rounds, Bins: b,
		Scenarios: o.Scenarios, only: o.Only, Dir: resultDir(o.OutDir, now)}
}

// Write saves results.json, report.md and chart.svg in r.Dir.
func (r *Report) Write() error {
	if err := os.MkdirAll(r.Dir, 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(r.Dir, "results.json"), js, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(r.Dir, "chart.svg"), []byte(r.Chart()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(r.Dir, "report.md"), []byte(r.Markdown()), 0o644)
}

// Markdown renders the report: what ran, the bars, then a table per scenario.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# switchyard bench, %s\n\n", r.Started.Format("2006-01-02 15:04"))
	fmt.Fprintf(&b, "Machine: %s. %d rounds, servers alternating (A B C … A B C …), a fresh server process per run; "+
		"figures are medians, ×sy is this server's median divided by switchyard's. Client and servers share the cores: "+
		"*srv cores* and *cli cores* are CPU-seconds per second of the server and of the load generator "+
		"(when they add up to the machine's cores, the client was part of the limit); *other cores* is what every other process "+
		"used meanwhile (from /proc/stat): high values mean a noisy run. Server CPU per op is from /proc/PID/stat. On loopback the kernel "+
		"does much of the receiver's TCP work in the sender's system call, so the server/client split of kernel time is approximate.\n\n",
		r.Machine, r.Rounds)
	fmt.Fprintf(&b, "Took %s. Chart: [chart.svg](chart.svg); raw runs: results.json.\n\n", r.Finished.Sub(r.Started).Round(time.Second))

	b.WriteString("## Bars (issue 5; HTTP/2 from issue 4; paced and idle from issue 15; TLS from issue 16)\n\n| bar | scenario | want | got | |\n|---|---|---|---|---|\n")
	for _, x := range r.Bars {
		verdict := "MISSED"
		switch {
		case !x.Checked:
			verdict = "not checked"
		case x.Met:
			verdict = "met"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | **%s** |\n", x.Name, x.Scenario, x.Want, x.Got, verdict)
	}
	b.WriteString("\n")
	r.pacedOverview(&b)

	for _, sc := range r.Scenarios {
		desc := describe(sc)
		if sc.TLS {
			desc = tlsDescribe(sc)
		}
		fmt.Fprintf(&b, "## %s\n\n%s\n\n", sc.Name, desc)
		if sc.IsPaced() || sc.Kind == KindWSIdle {
			r.pacedTable(&b, sc)
			b.WriteString("\n")
			continue
		}
		unit := sc.Unit()
		if sc.Kind == KindHold {
			b.WriteString("| server | conns held | KiB/conn | ×sy | RSS before (KiB) | RSS after (KiB) | srv µs/conn | errors | note |\n|---|---|---|---|---|---|---|---|---|\n")
		} else {
			fmt.Fprintf(&b, "| server | %s/s | ×sy | srv µs/op | ×sy | cli µs/op | srv cores | cli cores | other cores | p50 µs | p90 µs | p99 µs | p99.9 µs | errors | note |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n", unit)
		}
		for _, s := range r.Summaries {
			if s.Scenario != sc.Name {
				continue
			}
			note := s.Note
			switch {
			case s.Failed > 0:
				note = strings.TrimSpace(fmt.Sprintf("%s %d/%d runs failed; e.g. %s", note, s.Failed, s.Runs, s.ErrorSample))
			case s.Errors > 0:
				note = strings.TrimSpace(fmt.Sprintf("%s e.g. %s", note, s.ErrorSample))
			}
			note = strings.ReplaceAll(note, "|", "/")
			if sc.Kind == KindHold {
				fmt.Fprintf(&b, "| %s | %d | %.2f | %s | %.0f | %.0f | %.1f | %d | %s |\n", s.Server, s.Conns, s.KiBPerConn, x(s.KiBX),
					s.RSSBefore, s.RSSAfter, s.ServerUsPer, s.Errors, note)
				continue
			}
			fmt.Fprintf(&b, "| %s | %.0f | %s | %.2f | %s | %.2f | %.2f | %.2f | %.2f | %s | %s | %s | %s | %d | %s |\n",
				s.Server, s.Rate, x(s.RateX), s.ServerUsPer, x(s.CPUX), s.ClientUsPer, s.ServerCores, s.ClientCores, s.OtherCores,
				us(s.P50), us(s.P90), us(s.P99), us(s.P999), s.Errors, note)
		}
		b.WriteString("\n")
	}
	if len(r.Profiles) > 0 {
		b.WriteString("## Where switchyard's time goes (CPU profiles of missed bars)\n\n")
		for _, p := range r.Profiles {
			fmt.Fprintf(&b, "### %s\n\n%s\n\n```\n%s\n```\n\n", p.Scenario, p.How, strings.TrimSpace(p.Top))
		}
	}
	b.WriteString(notes)
	return b.String()
}

const notes = `## Notes

- Load generator: the harness's own (gobwas/ws handshakes, then two epoll loops of raw,
  non-blocking system calls that yield and poll again up to 50 times before they sleep, frames
  masked once and reused), so ten thousand connections cost a few goroutines. Echo latency is per message,
  write to read; broadcast latency is publisher write to each subscriber's read.
- Paced scenarios (ws-paced, h1-paced): the same client loops, but they never spin: each sleeps
  (parked in Go's netpoller on its epoll set) until a timerfd says its next send is due, and sends
  what is due (connection j's m-th message at (m·conns + j)/rate s). Latency is from the write, not
  the due time; the note says how late the client's sends were. h2-paced is h2load --rps; ws-idle
  holds its connections in child processes, as ws-hold. These run one round.
- Compressed echoes are counted but not inflated (the client checks uncompressed echoes byte for byte).
- ws-hold: children of the harness each hold at most 9,500 connections from their own 127.0.0.x
  address; KiB/conn is (server VmRSS after − before) ÷ connections held, so it includes what the
  server's allocator and garbage collector keep.
- ws-handshake: each connection sends a close frame and is reset (SO_LINGER 0) to keep ports out of
  TIME_WAIT; servers see an abortive close.
- TLS scenarios (tls-*): every server serves one ECDSA P-256 self-signed certificate made for the
  run. Clients: Go crypto/tls, TLS 1.3, X25519 only (Go's default would offer X25519MLKEM768, which
  nbio's crypto/tls fork lacks), no session cache, so every handshake is a full one; the chain is
  not verified, the handshake signature is. tls-ws-echo runs on the load client's loops, crypto/tls
  reading and writing the loop's buffers after a handshake and upgrade on a goroutine;
  tls-handshake uses 32 goroutines (its client CPU is *cli µs/op*); tls-ws-hold holds wss
  connections from child processes as ws-hold; tls-h2-get is h2load over https (ALPN h2).
  Peers: gws (Server.RunTLS), nbio (nbhttp AddrsTLS: llib's non-blocking TLS on its pollers),
  gorilla (net/http's http.ListenAndServeTLS), nghttpd (key and certificate instead of --no-tls).
  Not profiled when a bar is missed (the profiling server has no TLS listener).
- Peers: gnet is gnet's websocket example (no limits, no UTF-8 checks, no compression); gobwas and
  gnet are left out of the compression scenario; fasthttp and net/http serve HTTP/1.1 only; nghttpd
  (one worker, its default) and the x/net h2c server serve HTTP/2.
`

func x(v float64) string {
	if v == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", v)
}

func us(v float64) string {
	if v == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f", v)
}

func describe(sc Scenario) string {
	servers := strings.Join(sc.Servers, ", ")
	switch {
	case sc.Echo != nil:
		p := sc.Echo
		comp := "off"
		if p.Deflate {
			comp = "permessage-deflate (no context takeover)"
		}
		return fmt.Sprintf("WebSocket echo: %d connections, %d message(s) in flight each, %d-byte binary messages, compression %s, %s measured after %s warm-up. Servers: %s.",
			p.Conns, p.InFlight, p.Size, comp, p.Duration, p.Warmup, servers)
	case sc.Handshake != nil:
		return fmt.Sprintf("Connect, upgrade, close: %d handshakes kept in flight by one epoll loop per CPU, for %s. Latency is from socket(2) to the 101. Servers: %s.", sc.Handshake.Par, sc.Handshake.Duration, servers)
	case sc.Hold != nil:
		return fmt.Sprintf("%d idle upgraded connections (target), at most %d per client process. Servers: %s.", sc.Hold.Conns, sc.Hold.PerChild, servers)
	case sc.Broadcast != nil:
		p := sc.Broadcast
		return fmt.Sprintf("One publisher on /pub, %d subscribers on /sub, %d-byte messages, at most %d broadcasts in flight, %s. Rate is messages delivered to subscribers. Servers: %s.",
			p.Subs, p.Size, p.Window, p.Duration, servers)
	case sc.Nodes != nil:
		return describeTwoNodes(sc)
	case sc.WSH2 != nil:
		return describeWSH2(sc)
	case sc.Wrk != nil:
		return fmt.Sprintf("`wrk -t%d -c%d -d%s --latency` GET /. Servers: %s.", sc.Wrk.Threads, sc.Wrk.Conns, sc.Wrk.Duration, servers)
	case sc.Paced != nil || sc.Idle != nil:
		return describePaced(sc)
	case sc.H2 != nil:
		return fmt.Sprintf("`h2load -n %d -c %d -m %d` GET / over cleartext HTTP/2 (h2load gives no percentiles: p50/p90 columns empty, mean and max in results.json). Servers: %s.",
			sc.H2.Requests, sc.H2.Conns, sc.H2.Streams, servers)
	}
	return ""
}

// tlsDescribe is describe for a TLS scenario.
func tlsDescribe(sc Scenario) string {
	servers := strings.Join(sc.Servers, ", ")
	switch {
	case sc.Handshake != nil:
		return fmt.Sprintf("TLS handshake and upgrade: %d goroutines each dial, complete a full TLS 1.3 handshake (ECDSA P-256 certificate, X25519, no resumption), "+
			"upgrade to WebSocket, send a close frame and reset, for %s; an op is the handshake plus the upgrade (what every peer serves alike), latency is from dial to the 101. Servers: %s.",
			sc.Handshake.Par, sc.Handshake.Duration, servers)
	case sc.Echo != nil:
		p := sc.Echo
		return fmt.Sprintf("WebSocket echo over TLS (wss): %d connections on the load client's loops (crypto/tls over their buffers), %d message(s) in flight each, %d-byte binary messages, no compression, %s measured after %s warm-up. Servers: %s.",
			p.Conns, p.InFlight, p.Size, p.Duration, p.Warmup, servers)
	case sc.Hold != nil:
		return fmt.Sprintf("%d idle upgraded wss connections (target; each a full TLS handshake, then the upgrade), at most %d per client process. Servers: %s.", sc.Hold.Conns, sc.Hold.PerChild, servers)
	case sc.H2 != nil:
		return fmt.Sprintf("`h2load -n %d -c %d -m %d https://…/` GET / over HTTP/2 over TLS (ALPN h2; h2load gives no percentiles). Servers: %s.",
			sc.H2.Requests, sc.H2.Conns, sc.H2.Streams, servers)
	}
	return "Over TLS: " + describe(sc)
}

func mkdirAll(dir string) error { return os.MkdirAll(dir, 0o755) }
