package probe

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// textWidth is where WriteText wraps prose.
const textWidth = 100

// WriteText writes the report for a person: per probe what was sent, what came back and
// the verdict, then the diagnosis.
func (r *Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	tls := ""
	if r.TLS {
		tls = ", TLS"
	}
	fmt.Fprintf(bw, "switchyard probe %s (%s%s, timeout %s per probe)\n", r.URL, r.Address, tls, r.Timeout)
	for i := range r.Probes {
		writeProbe(bw, i+1, &r.Probes[i])
	}
	fmt.Fprintf(bw, "\nDiagnosis\n")
	for _, f := range r.Findings {
		wrap(bw, "  * ", "    ", "["+f.Code+"] "+f.Text)
	}
	return bw.Flush()
}

func writeProbe(w *bufio.Writer, n int, p *Probe) {
	fmt.Fprintf(w, "\n[%d] %s\n", n, p.Title)
	field := func(label, value string) {
		fmt.Fprintf(w, "    %-8s %s\n", label, value)
	}
	for i, s := range p.Sent {
		label := ""
		if i == 0 {
			label = "sent"
		}
		field(label, s)
	}
	if p.Error != "" {
		field("error", p.Error)
	}
	if r := p.Response; r != nil {
		field("got", r.StatusLine)
		lines := responseLines(p, r)
		for _, l := range lines {
			field("", l)
		}
		if r.Body != "" {
			wrap(w, fmt.Sprintf("    %-8s %s ", "", "body:"), strings.Repeat(" ", 15), r.Body)
		}
	}
	if p.AfterUpgrade != "" {
		field("then", p.AfterUpgrade)
	}
	if h := p.H2; h != nil {
		if h.ALPN != "" || p.tls {
			field("alpn", orNone(h.ALPN))
		}
		if len(h.Frames) > 0 {
			field("frames", strings.Join(h.Frames, " "))
		}
		if h.SettingsReceived {
			field("settings", orNone(strings.Join(h.Settings, " ")))
		}
		if h.Status != "" {
			field(":status", h.Status)
		}
		if h.GoAway != "" {
			field("goaway", h.GoAway)
		}
		if h.Error != "" {
			field("h2 error", h.Error)
		}
	}
	if h := p.H2WebSocket; h != nil {
		writeH2WS(w, field, h, p.tls)
	}
	wrap(w, fmt.Sprintf("    %-8s %s ", "verdict", strings.ToUpper(p.Verdict.Level)), strings.Repeat(" ", 13),
		p.Verdict.Code+": "+p.Verdict.Text)
}

// responseLines are the header lines worth showing for this probe: the upgrade headers
// always (their absence is the news), the WebSocket ones on WebSocket probes.
func responseLines(p *Probe, r *Response) []string {
	l := []string{"Upgrade: " + orNone(r.Upgrade), "Connection: " + orNone(r.Connection)}
	isWS := strings.HasPrefix(p.ID, "ws")
	if (isWS && r.Status != 101) || r.WSVersion != "" {
		l = append(l, "Sec-WebSocket-Version: "+orNone(r.WSVersion))
	}
	if isWS && r.Status == 101 {
		l = append(l, "Sec-WebSocket-Accept: "+orNone(r.WSAccept)+" ("+r.AcceptCheck+")")
	}
	if r.WSProtocol != "" || (p.ID == "ws-subprotocol" && r.Status == 101) {
		l = append(l, "Sec-WebSocket-Protocol: "+orNone(r.WSProtocol))
	}
	if r.WSExtensions != "" || (p.ID == "ws-deflate" && r.Status == 101) {
		l = append(l, "Sec-WebSocket-Extensions: "+orNone(r.WSExtensions))
	}
	if r.Location != "" {
		l = append(l, "Location: "+r.Location)
	}
	if r.Via != "" {
		l = append(l, "Via: "+r.Via)
	}
	if r.Server != "" {
		l = append(l, "Server: "+r.Server)
	}
	return l
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// wrap writes text after first, continuing on lines that start with rest, breaking at
// spaces near textWidth.
func wrap(w *bufio.Writer, first, rest, text string) {
	line, prefix := first, first
	for _, word := range strings.Fields(text) {
		if len(line) > len(prefix) && len(line)+1+len(word) > textWidth {
			w.WriteString(line + "\n")
			line, prefix = rest, rest
		}
		if len(line) > len(prefix) {
			line += " "
		}
		line += word
	}
	w.WriteString(line + "\n")
}
