package bench

import (
	"fmt"
	"strings"
	"time"
)

// Issue 17's RFC 8441 scenario names, which the bars look up.
const (
	wsh2EchoName  = "ws-over-h2-64B-s1000-c10"
	wsh2OpenName  = "ws-h2-open"
	h1EchoName    = "ws-echo-64B-c1000" // echo over HTTP/1.1 upgrades, the echo bar's reference
	h1UpgradeName = "ws-handshake"      // new TCP connection + HTTP/1.1 upgrade, the open bar's
)

// wsh2Servers are the HTTP/2 servers: the peers have no RFC 8441 (x/net's h2c handler and
// nghttpd do not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL), so their rows say n/a; the
// client finds that out from their SETTINGS, it is not assumed.
var wsh2Servers = []string{"switchyard", "h2c", "nghttpd"}

// rfc8441Suite is issue 17's WebSocket-over-HTTP/2 scenarios, about 40 s on two cores for
// three rounds: 1,000 WebSockets multiplexed over 10 connections echoing 64-byte
// messages, and WebSockets opened and closed on 2 existing connections (one per server
// loop on two cores), 16 at a time on each (32 in all, as ws-handshake keeps 32 upgrades
// in flight). Closing cleanly rather
// than by RST_STREAM matters: a client resetting streams by the thousand is a rapid-reset
// attack to a server (RFC 9113 §10.5, CVE-2023-44487), and switchyard answers it with
// GOAWAY ENHANCE_YOUR_CALM.
func rfc8441Suite() []Scenario {
	const d, warm = 2 * time.Second, 300 * time.Millisecond
	return []Scenario{
		{Name: wsh2EchoName, Kind: KindWSH2Echo, Servers: wsh2Servers,
			WSH2: &WSH2Params{Conns: 10, Streams: 1000, Size: 64, Duration: d, Warmup: warm}},
		{Name: wsh2OpenName, Kind: KindWSH2Open, Servers: wsh2Servers,
			WSH2: &WSH2Params{Conns: 2, InFlight: 16, Duration: d, Warmup: warm}},
	}
}

func describeWSH2(sc Scenario) string {
	p := sc.WSH2
	servers := strings.Join(sc.Servers, ", ")
	if sc.Kind == KindWSH2Open {
		return fmt.Sprintf("WebSockets opened on existing HTTP/2 connections (RFC 8441): %d cleartext connections (prior knowledge), %d WebSockets opening or "+
			"closing on each at any time; every 200 to an extended CONNECT (:protocol websocket) is an open, closed at once (a close frame with END_STREAM; the "+
			"server's close frame and END_STREAM end the stream, and the next CONNECT goes out); %s measured after %s. Latency is CONNECT to 200. Client loops sleep in the netpoller (no spinning). Compare with %s (a new TCP "+
			"connection and an HTTP/1.1 upgrade per op). A server without SETTINGS_ENABLE_CONNECT_PROTOCOL is n/a. Servers: %s.",
			p.Conns, p.InFlight, p.Duration, p.Warmup, h1UpgradeName, servers)
	}
	return fmt.Sprintf("WebSocket echo over HTTP/2 streams (RFC 8441): %d WebSockets multiplexed over %d cleartext connections (prior knowledge), one %d-byte "+
		"binary message in flight on each, %s measured after %s. Latency is write to whole echo. Client loops sleep in the netpoller (no spinning). "+
		"Compare with %s (one connection per WebSocket). A server without SETTINGS_ENABLE_CONNECT_PROTOCOL is n/a. Servers: %s.",
		p.Streams, p.Conns, p.Size, p.Duration, p.Warmup, h1EchoName, servers)
}

// summaryOf is server's usable row in scenario, or nil.
func (r *Report) summaryOf(scenario, server string) *Summary {
	for i := range r.Summaries {
		s := &r.Summaries[i]
		if s.Scenario == scenario && s.Server == server && s.Runs > s.Failed {
			return s
		}
	}
	return nil
}

// naPeers names the servers of scenario whose runs all found no RFC 8441.
func (r *Report) naPeers(scenario string) string {
	var na []string
	for _, s := range r.Summaries {
		if s.Scenario == scenario && s.Server != "switchyard" && s.Runs > 0 && s.Runs == s.Failed && strings.HasPrefix(s.ErrorSample, "n/a") {
			na = append(na, s.Server+" n/a")
		}
	}
	if len(na) == 0 {
		return ""
	}
	return "; " + strings.Join(na, ", ")
}

// rfc8441Bars are issue 17's bars. They compare switchyard with itself across transports:
// the peers have no RFC 8441 (n/a).
func rfc8441Bars(r *Report) []Bar {
	open := Bar{Name: "WebSocket opens on an existing HTTP/2 connection (RFC 8441)", Scenario: wsh2OpenName,
		Want: "≥ 5× the upgrades/s of " + h1UpgradeName + " (new TCP connection + HTTP/1.1 upgrade), at lower server CPU per open"}
	if sy, h1 := r.summaryOf(wsh2OpenName, "switchyard"), r.summaryOf(h1UpgradeName, "switchyard"); sy != nil && h1 != nil {
		x := ratio(sy.Rate, h1.Rate)
		open.Checked = true
		open.Got = fmt.Sprintf("%.0f opens/s vs %.0f upgrades/s = %.2f×; %.1f vs %.1f µs server CPU per open%s",
			sy.Rate, h1.Rate, x, sy.ServerUsPer, h1.ServerUsPer, r.naPeers(wsh2OpenName))
		open.Met = x >= 5 && sy.ServerUsPer < h1.ServerUsPer && sy.Errors == 0
	} else {
		open.Got = "not measured" + r.naPeers(wsh2OpenName)
	}
	echo := Bar{Name: "echo CPU per message over HTTP/2 streams (RFC 8441)", Scenario: wsh2EchoName,
		Want: "≤ 1.5× the server µs/msg of echo over HTTP/1.1 upgrades (" + h1EchoName + ")"}
	if sy, h1 := r.summaryOf(wsh2EchoName, "switchyard"), r.summaryOf(h1EchoName, "switchyard"); sy != nil && h1 != nil {
		x := ratio(sy.ServerUsPer, h1.ServerUsPer)
		echo.Checked = true
		echo.Got = fmt.Sprintf("%.2f µs vs %.2f µs = %.2f×; %.0f vs %.0f msgs/s%s", sy.ServerUsPer, h1.ServerUsPer, x, sy.Rate, h1.Rate, r.naPeers(wsh2EchoName))
		echo.Met = x <= 1.5 && sy.Errors == 0
	} else {
		echo.Got = "not measured" + r.naPeers(wsh2EchoName)
	}
	return []Bar{open, echo}
}
