package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/switchyard-dev/switchyard/parser"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/topics"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

// serveConfig is everything `switchyard serve` can be told, from a JSON config file
// (-config) and from flags, which win over the file. Zero values mean the server's
// defaults.
type serveConfig struct {
	// Addr: host:port, or a Unix-domain socket's path after "unix:" (server.Config.Addr).
	Addr string `json:"addr"`
	// UnixMode: the permission bits of the socket files of "unix:" addresses, in octal
	// ("0660"); unset: the umask's (server.Config.UnixSocketMode).
	UnixMode fileMode `json:"unix_mode"`
	Admin    string   `json:"admin"` // admin listener for /metrics, /debug/pprof/, /healthz; off when empty
	Loops    int      `json:"loops"`
	// ReusePort: a listening socket per event loop (SO_REUSEPORT); see server.Config.
	ReusePort bool `json:"reuseport"`
	// IdleSpins: polls a loop makes, yielding the CPU between them, before it sleeps
	// (0: the default, 50; -1: sleep at once); see server.Config.
	IdleSpins int `json:"idle_spins"`
	// ProxyProtocol: every connection begins with a PROXY protocol header (v1 or v2)
	// from the L4 balancer in front, whose client address handlers see; see
	// server.Config. Both listeners, plain and TLS.
	ProxyProtocol bool `json:"proxy_protocol"`
	// AccessLog: a line per answered request (server.Config.AccessLog), to the server's
	// log output in its format, at Info whatever log_level says.
	AccessLog bool `json:"access_log"`
	// HoldP: loops sleep keeping their Go P while busy (see server.Config); default on,
	// but off when NATS is set, whose client's goroutines must not wait for the loops.
	HoldP *bool `json:"hold_p"`
	// ReturnMemory: the spare heap goes back to the OS once a burst of connections has
	// settled (see server.Config); default on.
	ReturnMemory  *bool          `json:"return_memory"`
	MaxConns      int            `json:"max_conns"`
	MaxConnsPerIP int            `json:"max_conns_per_ip"`
	LogLevel      string         `json:"log_level"`
	Timeouts      timeoutsConfig `json:"timeouts"`
	Limits        limitsConfig   `json:"limits"`
	HTTP2         http2Config    `json:"http2"`
	TLS           tlsSettings    `json:"tls"` // a TLS listener beside addr (tls.go)
	Routes        []routeConfig  `json:"routes"`
	// NATS makes every broadcast route one room across the nodes that share this NATS
	// server (nats://host:port); empty: rooms span this process only.
	NATS string `json:"nats"`

	rooms *topics.Topics // the broadcast rooms over NATS, set by serve when NATS is on
	// logTo is where the logs go: standard error unless a test says otherwise.
	logTo io.Writer
	// accessOut carries the access log's lines to logTo, for both listeners' servers.
	accessOut *asyncLog
}

type timeoutsConfig struct {
	Header   duration `json:"header"`
	Body     duration `json:"body"`
	Idle     duration `json:"idle"`
	Shutdown duration `json:"shutdown"`
}

type limitsConfig struct {
	MaxRequestLine int   `json:"max_request_line"`
	MaxHeaderBytes int   `json:"max_header_bytes"`
	MaxHeaders     int   `json:"max_headers"`
	MaxBody        int64 `json:"max_body"`
	MinBodyRate    int   `json:"min_body_rate"` // bytes/s a body must keep up on average (0: 16 KiB/s)
	AllowBareLF    bool  `json:"allow_bare_lf"`
}

type http2Config struct {
	Disabled             bool   `json:"disabled"`
	MaxConcurrentStreams uint32 `json:"max_concurrent_streams"`
}

// routeConfig is one route. Kinds: "text" answers 200 with Text; "echo" echoes WebSocket
// messages and, over HTTP/2, request bodies; "broadcast" sends every WebSocket message it
// receives to all the route's clients.
type routeConfig struct {
	Path           string           `json:"path"`
	Kind           string           `json:"kind"`
	Text           string           `json:"text"`
	RequireUpgrade *bool            `json:"require_upgrade"` // default: true for echo and broadcast
	WebSocket      *websocketConfig `json:"websocket"`
}

type websocketConfig struct {
	Compression *bool `json:"compression"` // default true
	// ContextTakeover keeps a compressor per connection between messages (better ratios
	// for similar messages, ~800 KiB of memory per connection); default false: every
	// message is compressed afresh with a pooled compressor (server_no_context_takeover).
	ContextTakeover   bool     `json:"context_takeover"`
	CompressThreshold int      `json:"compress_threshold"`
	MaxMessageSize    int      `json:"max_message_size"`
	MaxInflateRatio   int      `json:"max_inflate_ratio"` // default 32: these routes echo or relay
	SendBudget        int      `json:"send_budget"`
	Overflow          string   `json:"overflow"` // drop | close-1013 | close-1008
	Origins           []string `json:"origins"`  // empty: any origin
	Subprotocols      []string `json:"subprotocols"`
	PingInterval      duration `json:"ping_interval"`
	CloseTimeout      duration `json:"close_timeout"`
}

// duration reads "10s"-style strings.
type duration time.Duration

func (d *duration) UnmarshalJSON(b []byte) error {
	// A *json.UnmarshalTypeError gets the key's path from the decoder (loadConfigFile).
	bad := &json.UnmarshalTypeError{Value: string(b), Type: reflect.TypeFor[duration]()}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return bad
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return bad
	}
	*d = duration(v)
	return nil
}

// defaultRoutes are the standalone routes: / (exactly: other paths get 404) and the
// /echo endpoint.
var defaultRoutes = []routeConfig{
	{Path: "/{$}", Kind: "text", Text: rootText},
	{Path: "/echo", Kind: "echo"},
}

// stringTypes are the types read from strings of their own syntax, and what they want.
var stringTypes = map[reflect.Type]string{
	reflect.TypeFor[duration](): `a duration string such as "10s"`,
	reflect.TypeFor[fileMode](): `an octal mode string such as "0660"`,
}

// loadConfigFile reads a JSON config, naming the key at fault in any error.
func loadConfigFile(path string, into *serveConfig) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr) && stringTypes[typeErr.Type] != "":
			return fmt.Errorf("%s: key %q: want %s, not %s", path, typeErr.Field, stringTypes[typeErr.Type], typeErr.Value)
		case errors.As(err, &typeErr):
			return fmt.Errorf("%s: key %q: want %s", path, typeErr.Field, typeErr.Type)
		case errors.As(err, &syntaxErr):
			return fmt.Errorf("%s: JSON syntax error at byte %d: %v", path, syntaxErr.Offset, err)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return fmt.Errorf("%s: unknown key %s", path, strings.TrimPrefix(err.Error(), "json: unknown field "))
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	if _, err := dec.Token(); err != io.EOF { // a second object, or anything else
		return fmt.Errorf("%s: more after the config object (at byte %d)", path, dec.InputOffset())
	}
	return nil
}

// validate checks what JSON types cannot, naming the key.
func (c *serveConfig) validate() error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return fmt.Errorf("log_level: %q is not one of debug, info, warn, error", c.LogLevel)
	}
	for key, v := range map[string]int{"loops": c.Loops, "max_conns": c.MaxConns, "max_conns_per_ip": c.MaxConnsPerIP,
		"limits.max_request_line": c.Limits.MaxRequestLine, "limits.max_header_bytes": c.Limits.MaxHeaderBytes,
		"limits.max_headers": c.Limits.MaxHeaders, "limits.min_body_rate": c.Limits.MinBodyRate} {
		if v < 0 {
			return fmt.Errorf("%s: must not be negative", key)
		}
	}
	if c.IdleSpins < -1 {
		return errors.New("idle_spins: must be -1 (sleep at once), 0 (default) or more")
	}
	if c.ReusePort && (isUnixAddr(c.Addr) || isUnixAddr(c.TLS.Addr)) {
		return errors.New("reuseport: does not apply to a Unix-domain socket (a \"unix:\" addr): one process listens on a socket file")
	}
	if c.Limits.MaxBody < 0 {
		return errors.New("limits.max_body: must not be negative")
	}
	if err := c.TLS.validate(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, r := range c.Routes {
		key := fmt.Sprintf("routes[%d]", i)
		if r.Path == "" {
			return fmt.Errorf("%s.path: missing", key)
		}
		if err := server.CheckPattern(r.Path); err != nil { // "/x", "/rooms/{id}", "GET /x", "/static/"
			return fmt.Errorf("%s.path: %w", key, err)
		}
		if seen[r.Path] {
			return fmt.Errorf("%s.path: %q is listed twice", key, r.Path)
		}
		seen[r.Path] = true
		switch r.Kind {
		case "text":
			if r.WebSocket != nil {
				return fmt.Errorf("%s.websocket: a text route has no WebSocket settings", key)
			}
		case "echo", "broadcast":
		default:
			return fmt.Errorf("%s.kind: %q is not one of text, echo, broadcast", key, r.Kind)
		}
		if w := r.WebSocket; w != nil {
			if _, err := overflowPolicy(w.Overflow); err != nil {
				return fmt.Errorf("%s.websocket.overflow: %v", key, err)
			}
			if w.MaxMessageSize < 0 || w.SendBudget < 0 || w.CompressThreshold < 0 {
				return fmt.Errorf("%s.websocket: sizes must not be negative", key)
			}
		}
	}
	return nil
}

func overflowPolicy(s string) (websocket.OverflowPolicy, error) {
	switch s {
	case "", "drop":
		return websocket.DropMessages, nil
	case "close-1013":
		return websocket.CloseTryAgainLater, nil
	case "close-1008":
		return websocket.ClosePolicyViolation, nil
	}
	return 0, fmt.Errorf("%q is not one of drop, close-1013, close-1008", s)
}

// serverConfig turns the validated config into the server's.
func (c *serveConfig) serverConfig() server.Config {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel))
	limits := parser.Limits{
		MaxRequestLine: c.Limits.MaxRequestLine, MaxHeaderBytes: c.Limits.MaxHeaderBytes,
		MaxHeaders: c.Limits.MaxHeaders, MaxBodyBytes: c.Limits.MaxBody, AllowBareLF: c.Limits.AllowBareLF,
	}
	out := c.logTo
	if out == nil {
		out = os.Stderr
	}
	var access *slog.Logger
	if c.AccessLog {
		// A logger of its own on the same output and format, so that -log-level warn or
		// error, meant for the server's own lines, does not silence the access log; its
		// lines leave through asyncLog, so that the output never holds up a loop.
		if c.accessOut == nil {
			c.accessOut = newAsyncLog(out)
		}
		access = slog.New(slog.NewTextHandler(c.accessOut, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return server.Config{
		Addr: c.Addr, UnixSocketMode: fs.FileMode(c.UnixMode), Loops: c.Loops, ReusePort: c.ReusePort, IdleSpins: c.IdleSpins, HoldP: c.holdP(),
		ReturnMemory: c.ReturnMemory == nil || *c.ReturnMemory, MaxConns: c.MaxConns, MaxConnsPerIP: c.MaxConnsPerIP,
		ProxyProtocol: c.ProxyProtocol, Limits: limits,
		HeaderTimeout: time.Duration(c.Timeouts.Header), BodyTimeout: time.Duration(c.Timeouts.Body),
		IdleTimeout: time.Duration(c.Timeouts.Idle), ShutdownTimeout: time.Duration(c.Timeouts.Shutdown),
		MinBodyRate: c.Limits.MinBodyRate,
		Logger:      slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level})),
		AccessLog:   access,
	}
}

// holdP is HoldP with its default: on for a server that is the whole program, off when a
// NATS client shares the process.
func (c *serveConfig) holdP() bool {
	if c.HoldP != nil {
		return *c.HoldP
	}
	return c.NATS == ""
}
