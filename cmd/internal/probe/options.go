package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Options tune Run. The zero value is ready to use.
type Options struct {
	// Timeout bounds each probe: dialling, the request and the answer. Default 5s.
	Timeout time.Duration
	// Subprotocols are offered by the subprotocol probe, most preferred first.
	// Default: chat, superchat (the example of RFC 6455 §1.9).
	Subprotocols []string
	// Origin, when set, is sent with every WebSocket handshake, as a browser would.
	Origin string
	// Header lines ("Name: value") added to every request, for endpoints behind
	// authentication (Authorization, Cookie).
	Header []string
	// Insecure skips TLS certificate verification (https:// and wss:// only).
	Insecure bool
	// Dial opens the TCP connection; nil uses a net.Dialer. TLS is layered on top.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// DefaultTimeout is Options.Timeout's default.
const DefaultTimeout = 5 * time.Second

var defaultSubprotocols = []string{"chat", "superchat"}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if len(o.Subprotocols) == 0 {
		o.Subprotocols = defaultSubprotocols
	}
	if o.Dial == nil {
		d := &net.Dialer{}
		o.Dial = d.DialContext
	}
	return o
}

// Errors Run returns; a command maps ErrUsage to a usage error and ErrUnreachable to
// "not reachable".
var (
	ErrUsage       = errors.New("probe: usage")
	ErrUnreachable = errors.New("probe: endpoint not reachable")
)

func (o Options) validate() error {
	for _, h := range o.Header {
		name, _, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" || strings.ContainsAny(name, " \t") {
			return fmt.Errorf("%w: header %q is not 'Name: value'", ErrUsage, h)
		}
		if strings.ContainsAny(h, "\r\n\x00") {
			return fmt.Errorf("%w: header %q contains CR, LF or NUL", ErrUsage, h)
		}
	}
	for _, p := range o.Subprotocols {
		if p == "" || strings.ContainsAny(p, " \t,\r\n\x00") {
			return fmt.Errorf("%w: subprotocol %q is not a token", ErrUsage, p)
		}
	}
	if strings.ContainsAny(o.Origin, "\r\n\x00") {
		return fmt.Errorf("%w: origin contains CR, LF or NUL", ErrUsage)
	}
	return nil
}

// target is where the probes go and how requests name it.
type target struct {
	tls        bool
	addr       string // host:port to dial
	host       string // Host header and :authority
	serverName string // TLS SNI
	uri        string // request-target (origin-form)
	scheme     string // http or https, for :scheme
}

// parseTarget accepts http, https, ws and wss URLs (ws and wss are the same endpoints
// as http and https, RFC 6455 §3); a URL without a scheme is taken as http.
func parseTarget(raw string) (target, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return target{}, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	var t target
	port := "80"
	switch strings.ToLower(u.Scheme) {
	case "http", "ws":
		t.scheme = "http"
	case "https", "wss":
		t.scheme, t.tls, port = "https", true, "443"
	default:
		return target{}, fmt.Errorf("%w: scheme %q: want http, https, ws or wss", ErrUsage, u.Scheme)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return target{}, fmt.Errorf("%w: %q has no host", ErrUsage, raw)
	}
	if p := u.Port(); p != "" {
		port = p
	}
	t.addr = net.JoinHostPort(u.Hostname(), port)
	t.host = u.Host
	t.serverName = u.Hostname()
	t.uri = u.RequestURI()
	if strings.ContainsAny(t.uri+t.host, " \r\n\x00") {
		return target{}, fmt.Errorf("%w: URL contains spaces or control characters", ErrUsage)
	}
	return t, nil
}
