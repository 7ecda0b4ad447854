package probe

import (
	"fmt"
	"slices"
	"strings"
)

// judge sets every probe's verdict. Some verdicts compare with the correct WebSocket
// handshake, which is judged first.
func (r *Report) judge(offered []string) {
	ws := r.Probe("ws")
	for i := range r.Probes {
		p := &r.Probes[i]
		if p.Verdict.Code != "" { // decided while probing (skipped)
			continue
		}
		switch p.ID {
		case "get":
			p.Verdict = judgeGET(p)
		case "ws":
			p.Verdict = judgeWS(p, r.Probe("ws-no-connection-upgrade"), r.Probe("ws-subprotocol"), r.Probe("ws-deflate"))
		case "ws-no-connection-upgrade":
			p.Verdict = judgeNoConnUpgrade(p)
		case "ws-version-8":
			p.Verdict = judgeVersion8(p, ws)
		case "ws-subprotocol":
			p.Verdict = judgeSubprotocol(p, ws, offered)
		case "ws-deflate":
			p.Verdict = judgeDeflate(p, ws)
		case "h2c":
			p.Verdict = judgeH2C(p)
		case "h2":
			p.Verdict = judgeH2(p)
		}
	}
}

func noResponse(p *Probe, level string) Verdict {
	return Verdict{level, "no-response", "no HTTP answer: " + p.Error}
}

func judgeGET(p *Probe) Verdict {
	r := p.Response
	switch {
	case r == nil:
		return noResponse(p, LevelFail)
	case r.Status == 426:
		return Verdict{LevelInfo, "upgrade-required", "plain requests are refused with 426: this URL requires 'Upgrade: " + r.Upgrade + "'"}
	case r.Status >= 200 && r.Status < 300:
		return Verdict{LevelOK, "ok", "served over HTTP/1.x (" + r.StatusLine + ")"}
	case r.Status >= 400 && r.WSVersion != "":
		return Verdict{LevelInfo, "websocket-endpoint", r.StatusLine + " with Sec-WebSocket-Version: " + r.WSVersion +
			": a WebSocket endpoint refusing plain requests (426 with 'Upgrade: websocket' would say so plainly, RFC 9110 §15.5.22)"}
	}
	return Verdict{LevelInfo, "status", r.StatusLine}
}

func quote(s string) string { return "\u201c" + s + "\u201d" }

// upgradeMissingWords are how servers word a refusal of a request lacking Upgrade or
// Connection: upgrade (switchyard's 426 bodies, gobwas/ws's 400s, the error text of
// gorilla/websocket when an application writes it, and the usual phrasings).
var upgradeMissingWords = []string{"missing", "not found", "no upgrade", "not using the websocket",
	"does not list", "without", "expected", "must", "required", "not a websocket", `bad "upgrade"`, `bad "connection"`}

func bodySaysUpgradeMissing(body string) bool {
	b := strings.ToLower(body)
	if !strings.Contains(b, "upgrade") && !strings.Contains(b, "connection") {
		return false
	}
	for _, w := range upgradeMissingWords {
		if strings.Contains(b, w) {
			return true
		}
	}
	return false
}

// refusal classifies a non-101 answer to a handshake that carried Upgrade: websocket and
// Connection: Upgrade.
func refusal(r *Response) (code, text string) {
	switch {
	case r.WSVersion != "" && !hasToken(r.WSVersion, "13"):
		return "version-mismatch", r.StatusLine + " with Sec-WebSocket-Version: " + r.WSVersion +
			": the server speaks another WebSocket version than 13 (RFC 6455 §4.4)"
	case r.Status == 426 && hasToken(r.Upgrade, "websocket"):
		return "upgrade-not-seen", "426 asking for 'Upgrade: " + r.Upgrade + "', which the request carried: " +
			"the server did not see the Upgrade or Connection header"
	case r.Status == 426 && r.Upgrade != "":
		return "requires-other-protocol", "426: the server requires 'Upgrade: " + r.Upgrade + "', not websocket"
	case r.Status == 401 || r.Status == 407:
		return "auth-required", r.StatusLine + ": credentials required (try --header)"
	case r.Status == 403:
		return "forbidden", r.StatusLine + ": refused; servers answer 403 to an Origin they do not allow (RFC 6455 §4.2.2, §10.2) or to missing credentials"
	case r.Status == 404:
		return "not-found", r.StatusLine + ": nothing at this path"
	case r.Status >= 400 && r.Status < 500 && bodySaysUpgradeMissing(r.Body):
		return "upgrade-not-seen", r.StatusLine + ": the server says the upgrade headers are missing, though the request carried them"
	case r.Status >= 200 && r.Status < 300:
		return "ignored", r.StatusLine + ": answered as a plain request, the upgrade was ignored"
	case r.Status >= 300 && r.Status < 400:
		return "redirected", r.StatusLine + " to " + quote(r.Location) + ": WebSocket clients do not follow redirects (RFC 6455 §4.1); use the final URL"
	case r.Status == 502 || r.Status == 503 || r.Status == 504:
		return "gateway-error", r.StatusLine + ": a gateway or proxy could not get an answer from its upstream"
	}
	return "refused", r.StatusLine
}

// check101 lists what makes a WebSocket 101 invalid to a client (RFC 6455 §4.1, the
// client's checks of the server's handshake, items 1-4).
func check101(r *Response) []string {
	var bad []string
	if !hasToken(r.Upgrade, "websocket") {
		bad = append(bad, "Upgrade is "+quote(r.Upgrade)+", not websocket")
	}
	if !hasToken(r.Connection, "upgrade") {
		bad = append(bad, "Connection is "+quote(r.Connection)+", without upgrade")
	}
	if r.AcceptCheck != "valid" {
		bad = append(bad, "Sec-WebSocket-Accept "+r.AcceptCheck)
	}
	return bad
}

// judgeWS judges the correct handshake; noConn, the same without 'upgrade' in
// Connection, tells a refusal of the upgrade from one of what it carried, unless one of
// the handshakes with offers got through, which proves the upgrade reaches the server.
func judgeWS(p, noConn *Probe, offers ...*Probe) Verdict {
	r := p.Response
	if r == nil {
		return noResponse(p, LevelFail)
	}
	if r.Status != 101 {
		code, text := refusal(r)
		if code == "refused" && sameRefusal(p, noConn) && !slices.ContainsFunc(offers, got101) {
			// Servers that explain nothing (gorilla/websocket answers "Bad Request") still
			// give themselves away: an answer identical to the one for a request whose
			// Connection lacks 'upgrade' is what a server that never saw it would give.
			return Verdict{LevelFail, "upgrade-not-seen", text + ": exactly the answer to the handshake without 'upgrade' " +
				"in Connection, so the server did not see the upgrade"}
		}
		return Verdict{LevelFail, code, text}
	}
	bad := check101(r)
	if r.WSProtocol != "" {
		bad = append(bad, "Sec-WebSocket-Protocol "+quote(r.WSProtocol)+" though none was offered (RFC 6455 §4.1 item 6)")
	}
	if r.WSExtensions != "" {
		bad = append(bad, "Sec-WebSocket-Extensions "+quote(r.WSExtensions)+" though none was offered (RFC 6455 §4.1 item 5)")
	}
	if len(bad) > 0 {
		return Verdict{LevelFail, "bad-101", "101, but clients must fail it: " + strings.Join(bad, "; ")}
	}
	return Verdict{LevelOK, "upgraded", "101 Switching Protocols with a valid Sec-WebSocket-Accept: WebSocket works"}
}

func judgeNoConnUpgrade(p *Probe) Verdict {
	r := p.Response
	switch {
	case r == nil:
		return noResponse(p, LevelWarn)
	case r.Status == 101:
		return Verdict{LevelWarn, "upgraded-anyway", "101 although Connection did not list 'upgrade': RFC 9110 §7.8 and RFC 6455 §4.2.1 say not to upgrade; " +
			"harmless here, but it hides a proxy that drops the Connection header"}
	}
	return Verdict{LevelOK, "not-upgraded", r.StatusLine + ": no upgrade without 'Connection: upgrade' (RFC 9110 §7.8); " +
		"this is what a client behind a proxy that strips hop-by-hop headers gets"}
}

func judgeVersion8(p, ws *Probe) Verdict {
	r := p.Response
	switch {
	case r == nil:
		return noResponse(p, LevelWarn)
	case r.Status == 101:
		return Verdict{LevelWarn, "accepted-version-8", "101 for Sec-WebSocket-Version: 8: RFC 6455 §4.4 asks a server speaking only 13 to refuse it with Sec-WebSocket-Version: 13"}
	case r.WSVersion != "":
		text := "version mismatch detected: " + r.StatusLine + " with Sec-WebSocket-Version: " + r.WSVersion + " (RFC 6455 §4.4)"
		if r.Status != 426 {
			text += "; RFC 6455 §4.2.2 suggests 426 Upgrade Required as the status"
		}
		return Verdict{LevelOK, "version-mismatch-detected", text}
	case sameRefusal(p, ws):
		code, text := refusal(r)
		return Verdict{LevelInfo, code, "same answer as the correct handshake: " + text}
	case r.Status >= 200 && r.Status < 300:
		return Verdict{LevelInfo, "ignored", r.StatusLine + ": answered as a plain request"}
	}
	return Verdict{LevelWarn, "refused-without-version", r.StatusLine + " without a Sec-WebSocket-Version header naming the versions the server speaks (RFC 6455 §4.4)"}
}

// sameRefusal reports whether two probes were refused with the same status and words.
func sameRefusal(a, b *Probe) bool {
	if a == nil || b == nil || a.Response == nil || b.Response == nil {
		return false
	}
	return a.Response.Status != 101 && a.Response.Status == b.Response.Status && a.Response.Body == b.Response.Body
}

func wsUpgraded(p *Probe) bool { return p != nil && p.Verdict.Code == "upgraded" }

func got101(p *Probe) bool { return p != nil && p.Response != nil && p.Response.Status == 101 }

// judgeOffer judges the probes that add an offer to the correct handshake: a refusal is
// the offer's fault only when the correct handshake worked.
func judgeOffer(p, ws *Probe, what string, on101 func(r *Response) Verdict) Verdict {
	r := p.Response
	switch {
	case r == nil:
		return noResponse(p, LevelWarn)
	case r.Status == 101:
		if bad := check101(r); len(bad) > 0 {
			return Verdict{LevelFail, "bad-101", "101, but clients must fail it: " + strings.Join(bad, "; ")}
		}
		return on101(r)
	case wsUpgraded(ws):
		code, text := refusal(r)
		return Verdict{LevelFail, "refused-with-" + what, "refused when offered " + what + " though the plain handshake works (" + code + "): " + text}
	}
	code, text := refusal(r)
	return Verdict{LevelInfo, code, "like the correct handshake: " + text}
}

func judgeSubprotocol(p, ws *Probe, offered []string) Verdict {
	return judgeOffer(p, ws, "subprotocols", func(r *Response) Verdict {
		switch {
		case r.WSProtocol == "":
			return Verdict{LevelInfo, "none-selected", "101; the server selected none of " + quote(strings.Join(offered, ", ")) +
				" (a server without subprotocols answers so; a client that requires one must close)"}
		case slices.Contains(offered, r.WSProtocol):
			return Verdict{LevelOK, "selected", "101; the server selected " + quote(r.WSProtocol)}
		}
		return Verdict{LevelFail, "not-offered-selected", "101 selecting " + quote(r.WSProtocol) + ", which was not offered: clients must fail it (RFC 6455 §4.1 item 6)"}
	})
}

func judgeDeflate(p, ws *Probe) Verdict {
	return judgeOffer(p, ws, "permessage-deflate", func(r *Response) Verdict {
		switch {
		case r.WSExtensions == "":
			return Verdict{LevelInfo, "declined", "101 without Sec-WebSocket-Extensions: the server does not compress (permessage-deflate declined)"}
		case len(tokens(r.WSExtensions)) == 1 && hasToken(r.WSExtensions, "permessage-deflate"):
			return Verdict{LevelOK, "negotiated", "permessage-deflate accepted: " + quote(r.WSExtensions)}
		}
		return Verdict{LevelFail, "not-offered-extension", fmt.Sprintf("101 with Sec-WebSocket-Extensions %s, not what was offered: clients must fail it (RFC 6455 §4.1 item 5, RFC 7692 §5)", quote(r.WSExtensions))}
	})
}

func judgeH2C(p *Probe) Verdict {
	r := p.Response
	switch {
	case r == nil:
		return noResponse(p, LevelWarn)
	case r.Status == 101 && !hasToken(r.Upgrade, "h2c"):
		return Verdict{LevelFail, "bad-101", "101 with 'Upgrade: " + r.Upgrade + "', not h2c"}
	case r.Status == 101 && p.H2 != nil && p.H2.SettingsReceived:
		text := "101, then the server's SETTINGS: h2c works"
		if p.H2.Status != "" {
			text += "; the response on stream 1 has :status " + p.H2.Status
		}
		if p.H2.Error != "" {
			text += "; but " + p.H2.Error
		}
		return Verdict{LevelOK, "upgraded", text}
	case r.Status == 101:
		why := "no SETTINGS frame followed"
		if p.H2 != nil && p.H2.Error != "" {
			why += ": " + p.H2.Error
		}
		return Verdict{LevelFail, "no-settings", "101, but " + why + " (RFC 7540 §3.5 requires the server's SETTINGS first)"}
	case r.Status == 426:
		return Verdict{LevelInfo, "not-supported", "426 requiring 'Upgrade: " + r.Upgrade + "': no h2c here"}
	}
	if r.Status >= 400 {
		return Verdict{LevelInfo, "not-supported", r.StatusLine + ": refused: no h2c here"}
	}
	return Verdict{LevelInfo, "not-supported", r.StatusLine + ": the server ignored the h2c upgrade, as RFC 7540 §3.2 allows: no h2c here"}
}

func judgeH2(p *Probe) Verdict {
	h := p.H2
	switch {
	case p.Response != nil:
		return Verdict{LevelInfo, "not-supported", "answered over HTTP/1.x (" + p.Response.StatusLine + "): no HTTP/2 with prior knowledge"}
	case h != nil && h.SettingsReceived:
		text := "the server's SETTINGS came back: HTTP/2 works"
		if h.ALPN != "" {
			text = "ALPN chose h2 and the server's SETTINGS came back: HTTP/2 works"
		}
		if h.Status != "" {
			text += "; GET on stream 1 got :status " + h.Status
		}
		if h.GoAway != "" {
			text += "; then GOAWAY " + h.GoAway
		}
		if h.Error != "" {
			text += "; but " + h.Error
		}
		return Verdict{LevelOK, "supported", text}
	case h != nil && p.dialErr == nil && p.tls && h.ALPN != "h2":
		alpn := h.ALPN
		if alpn == "" {
			alpn = "nothing"
		}
		return Verdict{LevelInfo, "not-supported", "ALPN chose " + alpn + ", not h2: no HTTP/2 over TLS"}
	case h != nil && h.GoAway != "":
		return Verdict{LevelInfo, "not-supported", "GOAWAY " + h.GoAway + " without SETTINGS"}
	case h != nil && h.Error != "":
		return Verdict{LevelInfo, "not-supported", "no SETTINGS came back: " + h.Error}
	case p.Error != "":
		return Verdict{LevelInfo, "not-supported", "no answer to the preface: " + p.Error}
	}
	return Verdict{LevelInfo, "not-supported", "no SETTINGS came back"}
}
