package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/switchyard-dev/switchyard/cmd/internal/probe"
)

const probeUsage = `usage: switchyard probe [flags] URL

Tries, each on a fresh connection, a plain GET, WebSocket handshakes (correct, without
'upgrade' in Connection, version 8, with subprotocols, with permessage-deflate), an h2c
upgrade, HTTP/2 with prior knowledge and a WebSocket over HTTP/2 (RFC 8441: the
server's ENABLE_CONNECT_PROTOCOL setting, then extended CONNECT with a ping, a text
message and a close), then says what each got and why a handshake
fails: a proxy stripping hop-by-hop headers, another protocol required, a version
mismatch, an endpoint that speaks only HTTP/1.1.

URL is http://, https://, ws:// or wss://. Over TLS it also reports the version, what
each ALPN offer got and the certificate (names, issuer, expiry, self-signed or untrusted);
a certificate that does not verify makes the endpoint unreachable unless -insecure.
Exit status: 0 when the probe ran (whatever it found), 1 when the endpoint is not
reachable, 2 for usage errors.

flags:
`

// headerList collects repeated -H flags.
type headerList []string

func (h *headerList) String() string     { return strings.Join(*h, "; ") }
func (h *headerList) Set(v string) error { *h = append(*h, v); return nil }

// probeCmd runs `switchyard probe` and returns the exit status.
func probeCmd(args []string) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		opts    probe.Options
		headers headerList
		asJSON  = fs.Bool("json", false, "print the report as JSON")
		subs    = fs.String("subprotocol", "chat,superchat", "comma-separated subprotocols the subprotocol probe offers")
	)
	fs.DurationVar(&opts.Timeout, "timeout", probe.DefaultTimeout, "time allowed for each probe (connect, request, answer)")
	fs.StringVar(&opts.Origin, "origin", "", "Origin header sent with the WebSocket handshakes, as a browser would")
	fs.Var(&headers, "H", "extra request header 'Name: value' (repeatable), e.g. for Authorization")
	fs.Var(&headers, "header", "same as -H")
	fs.BoolVar(&opts.Insecure, "insecure", false, "https/wss: do not verify the server's certificate")

	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printProbeUsage(os.Stdout, fs)
				return 0
			}
			fmt.Fprintf(os.Stderr, "switchyard probe: %v\n\n", err)
			printProbeUsage(os.Stderr, fs)
			return 2
		}
		// Flags may follow the URL too: parse what comes after each positional argument.
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(positional) != 1 {
		fmt.Fprintf(os.Stderr, "switchyard probe: want exactly one URL, got %d\n\n", len(positional))
		printProbeUsage(os.Stderr, fs)
		return 2
	}
	opts.Header = headers
	opts.Subprotocols = splitList(*subs)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	report, err := probe.Run(ctx, positional[0], opts)
	switch {
	case errors.Is(err, probe.ErrUsage):
		fmt.Fprintf(os.Stderr, "switchyard %v\n", err) // the package's errors start with "probe: "
		return 2
	case err != nil:
		fmt.Fprintf(os.Stderr, "switchyard %v\n", err)
		if *asJSON && len(report.Probes) > 0 {
			_ = report.WriteJSON(os.Stdout)
		}
		return 1
	}
	if *asJSON {
		err = report.WriteJSON(os.Stdout)
	} else {
		err = report.WriteText(os.Stdout)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "switchyard probe: %v\n", err)
		return 1
	}
	return 0
}

func printProbeUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, probeUsage)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}
