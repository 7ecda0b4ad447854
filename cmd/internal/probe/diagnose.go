package probe

import (
	"strings"
)

// nginxHint is the configuration most proxies in front of WebSocket servers lack.
const nginxHint = "nginx: proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection \"upgrade\""

// diagnose sets the summary flags and the findings, the most important first: what
// decides whether WebSocket works, then the facts about HTTP/2.
func (r *Report) diagnose() {
	get, ws := r.Probe("get"), r.Probe("ws")
	noConn, v8 := r.Probe("ws-no-connection-upgrade"), r.Probe("ws-version-8")
	sub, defl := r.Probe("ws-subprotocol"), r.Probe("ws-deflate")
	h2c, pk := r.Probe("h2c"), r.Probe("h2")

	r.WebSocket = wsUpgraded(ws)
	r.H2C = h2c.Verdict.Code == "upgraded"
	r.H2PriorKnowledge = pk.Verdict.Code == "supported"
	add := func(code, text string) { r.Findings = append(r.Findings, Finding{code, text}) }

	code := ws.Verdict.Code
	offerWorked := func(p *Probe) bool { return got101(p) && p.Verdict.Level != LevelFail }
	if !got101(ws) && (offerWorked(sub) || offerWorked(defl)) {
		code = "needs-offer"
	}
	switch code {
	case "needs-offer":
		var what []string
		if offerWorked(sub) {
			what = append(what, "subprotocols ("+offerSummary(sub)+")")
		}
		if offerWorked(defl) {
			what = append(what, "permessage-deflate ("+offerSummary(defl)+")")
		}
		add("websocket-needs-offer", "WebSocket works only when the handshake offers "+strings.Join(what, " or ")+
			"; the plain handshake got "+ws.Verdict.Text+". Clients must offer what the server requires.")
	case "upgraded":
		text := "WebSocket works at this URL: the correct handshake got 101 with a valid Sec-WebSocket-Accept"
		if strings.HasPrefix(ws.AfterUpgrade, "close handshake completed") {
			text += ", and the close handshake completed"
		}
		text += ". Subprotocols: " + offerSummary(sub) + ". Compression: " + offerSummary(defl) + "."
		add("websocket-ok", text)
	case "bad-101":
		add("websocket-broken", "The server answers the WebSocket handshake with 101, but "+strings.TrimPrefix(ws.Verdict.Text, "101, but ")+
			". Every RFC 6455 client will fail this handshake; if a proxy sits in front, it may be rewriting the response.")
	case "upgrade-not-seen":
		text := "A proxy that strips hop-by-hop headers is the likely cause: the correct handshake, which carried " +
			"'Upgrade: websocket' and 'Connection: Upgrade', was refused as if it had neither (" + ws.Response.StatusLine + ")"
		if sameRefusal(ws, noConn) {
			text += ", exactly as the handshake without 'upgrade' in Connection was"
		}
		text += ". Upgrade and Connection are hop-by-hop headers (RFC 9110 §7.6.1): a proxy or load balancer drops them unless " +
			"configured to pass them on (" + nginxHint + ")."
		if v := firstVia(r); v != "" {
			text += " The response's Via header names a proxy on the way: " + quote(v) + "."
		}
		if ws.Response.Body != "" {
			text += " The server said: " + quote(ws.Response.Body)
		}
		add("hop-by-hop-stripped", text)
	case "ignored":
		if r.H2C {
			add("no-websocket-here", "The WebSocket handshake was served as a plain request ("+ws.Response.StatusLine+
				"), while the h2c upgrade works, so upgrades reach the server: nothing at this URL speaks WebSocket.")
		} else {
			add("upgrade-ignored", "The WebSocket handshake was served as a plain request ("+ws.Response.StatusLine+
				"): nothing at this URL speaks WebSocket, or a proxy in front removes Upgrade and Connection (hop-by-hop "+
				"headers, RFC 9110 §7.6.1). If WebSocket should work here, check the proxy ("+nginxHint+").")
		}
	case "version-mismatch":
		add("version-mismatch", "Version mismatch: the server wants Sec-WebSocket-Version "+quote(ws.Response.WSVersion)+
			", but RFC 6455 clients send 13. The server predates RFC 6455 or speaks a draft; upgrade it.")
	case "requires-other-protocol":
		add("requires-other-protocol", "The server requires another protocol: 426 with 'Upgrade: "+ws.Response.Upgrade+
			"'. A WebSocket client cannot connect here; speak one of those, or find the WebSocket endpoint.")
	case "forbidden":
		add("forbidden", "The handshake was refused with 403: the server checks the Origin header (RFC 6455 §10.2) or "+
			"credentials. Browsers send Origin; try --origin with the page's origin, or --header for credentials.")
	case "auth-required":
		add("auth-required", "The handshake needs credentials ("+ws.Response.StatusLine+"); pass them with --header.")
	case "not-found":
		add("not-found", "Nothing at this path ("+ws.Response.StatusLine+"); check the URL.")
	case "redirected":
		add("redirected", "The handshake was redirected to "+quote(ws.Response.Location)+
			"; WebSocket clients do not follow redirects (RFC 6455 §4.1): connect to the final URL.")
	case "gateway-error":
		text := "A gateway answered " + ws.Response.StatusLine + ": a proxy in front could not reach its upstream, or cannot proxy WebSocket."
		if v := firstVia(r); v != "" {
			text += " Via: " + quote(v) + "."
		}
		add("gateway-error", text)
	case "no-response":
		add("websocket-no-response", "The WebSocket handshake got no HTTP answer: "+ws.Error+".")
	default:
		add("websocket-refused", "The WebSocket handshake was refused: "+ws.Verdict.Text+".")
	}

	if get.Verdict.Code == "websocket-endpoint" {
		add("upgrade-only", "Plain HTTP requests get "+get.Response.StatusLine+" with Sec-WebSocket-Version: this URL is a WebSocket endpoint.")
	}
	if get.Verdict.Code == "upgrade-required" && ws.Verdict.Code != "requires-other-protocol" {
		if hasToken(get.Response.Upgrade, "websocket") || get.Response.Upgrade == "" {
			add("upgrade-only", "Plain HTTP requests get 426 Upgrade Required ('Upgrade: "+get.Response.Upgrade+"'): this URL is for upgrades only.")
		} else {
			add("requires-other-protocol", "Plain HTTP requests get 426 requiring 'Upgrade: "+get.Response.Upgrade+"': the server requires another protocol.")
		}
	}
	if r.http1Only() {
		text := "The endpoint speaks only HTTP/1.1: no upgrade was accepted (WebSocket, h2c) and HTTP/2 " +
			"with prior knowledge got no SETTINGS."
		if get.Response != nil && strings.HasPrefix(get.Response.StatusLine, "HTTP/1.0") {
			text += " It answers as HTTP/1.0, which cannot upgrade at all (RFC 9110 §7.8); a proxy speaking HTTP/1.0 " +
				"to its upstream (nginx's default proxy_http_version) has the same effect."
		}
		add("http1-only", text)
	}
	if noConn.Verdict.Code == "upgraded-anyway" {
		add("lenient-connection", "The server upgrades even without 'upgrade' in Connection (RFC 9110 §7.8 says not to); a proxy that drops Connection alone would go unnoticed.")
	}
	switch v8.Verdict.Code {
	case "accepted-version-8":
		add("accepts-version-8", "The server accepted Sec-WebSocket-Version: 8; RFC 6455 §4.4 asks it to answer with the versions it speaks.")
	case "refused-without-version":
		add("version-not-advertised", "A wrong version is refused without Sec-WebSocket-Version: clients cannot tell a version mismatch from other errors (RFC 6455 §4.4).")
	}

	switch h2c.Verdict.Code {
	case "upgraded":
		add("h2c-supported", "h2c: supported (101, then the server's SETTINGS).")
	case "skipped":
	default:
		add("h2c-not-supported", "h2c: not supported ("+h2c.Verdict.Text+").")
	}
	if r.H2PriorKnowledge {
		add("h2-supported", "HTTP/2: "+pk.Verdict.Text+".")
	} else {
		add("h2-not-supported", "HTTP/2: not supported ("+pk.Verdict.Text+").")
	}
	var silent []string
	for _, p := range r.Probes {
		if p.Verdict.Code == "no-response" {
			silent = append(silent, p.ID)
		}
	}
	if len(silent) > 0 {
		add("no-response", "No HTTP answer to: "+strings.Join(silent, ", ")+" (see each probe's error).")
	}
}

// http1Only: the endpoint answered over HTTP/1.x, accepted no upgrade and no HTTP/2, and
// served or plainly refused the WebSocket handshake.
func (r *Report) http1Only() bool {
	answered := false
	for _, p := range r.Probes {
		if p.Response != nil {
			answered = true
			if p.Response.Status == 101 {
				return false
			}
		}
	}
	// Other refusals (a proxy, a version, another protocol, an Origin, a 404) say the
	// question did not reach a WebSocket endpoint, not that none is there.
	switch r.Probe("ws").Verdict.Code {
	case "ignored", "refused":
	default:
		return false
	}
	return answered && !r.H2PriorKnowledge
}

func firstVia(r *Report) string {
	for _, p := range r.Probes {
		if p.Response != nil && p.Response.Via != "" {
			return p.Response.Via
		}
	}
	return ""
}

// offerSummary says in a few words what became of a subprotocol or extension offer.
func offerSummary(p *Probe) string {
	switch p.Verdict.Code {
	case "selected":
		return "the server selected " + quote(p.Response.WSProtocol) + " of those offered"
	case "none-selected":
		return "none of those offered was selected"
	case "negotiated":
		return "permessage-deflate negotiated (" + quote(p.Response.WSExtensions) + ")"
	case "declined":
		return "permessage-deflate declined"
	}
	return p.Verdict.Code + ", " + p.Verdict.Text
}
