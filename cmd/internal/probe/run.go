package probe

import (
	"context"
	"fmt"
	"time"
)

// Run probes the endpoint at rawURL (http, https, ws or wss; no scheme means http), each
// probe on a fresh connection bounded by opts.Timeout, and returns the report. The error
// wraps ErrUsage for a bad URL or option, ErrUnreachable when the first connection cannot
// be opened (the report then holds that probe alone), or is ctx's error. Whatever the
// endpoint answers, even nothing useful, is a report and a nil error.
func Run(ctx context.Context, rawURL string, opts Options) (Report, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return Report{}, err
	}
	t, err := parseTarget(rawURL)
	if err != nil {
		return Report{}, err
	}
	r := Report{URL: rawURL, Address: t.addr, TLS: t.tls, Timeout: opts.Timeout.String()}
	p := &prober{t: t, o: opts, r: &r, now: time.Now()}

	get := p.probeGET(ctx)
	r.Probes = append(r.Probes, get)
	if err := ctx.Err(); err != nil {
		return r, err
	}
	if get.dialErr != nil {
		r.judge(opts.Subprotocols)
		r.diagnoseTLS(p.now)
		return r, fmt.Errorf("%w: %s: %v%s", ErrUnreachable, t.addr, get.dialErr, r.certificateHint(p.now))
	}
	for _, v := range p.wsVariants() {
		r.Probes = append(r.Probes, p.probeWS(ctx, v))
	}
	r.Probes = append(r.Probes, p.probeH2C(ctx), p.probePriorKnowledge(ctx), p.probeH2WebSocket(ctx))
	if err := ctx.Err(); err != nil {
		return r, err
	}
	r.judge(opts.Subprotocols)
	r.diagnose()
	r.diagnoseH2WebSocket()
	r.diagnoseTLS(p.now)
	return r, nil
}

// probeGET is the baseline: a plain request, as a browser's address bar sends it.
func (p *prober) probeGET(ctx context.Context) Probe {
	lines := []string{"Accept: */*"}
	pr := Probe{ID: "get", Title: "plain GET", Sent: p.sent(lines)}
	if s := p.exchange(ctx, &pr, []string{"http/1.1"}, lines); s != nil {
		s.close()
	}
	return pr
}
