// Command switchyard runs the switchyard server (`switchyard serve`).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
)

const usage = `usage: switchyard <command> [flags]

commands:
  serve   run the standalone server (switchyard serve -h for its flags)
  bench   compare switchyard with its peers (switchyard bench -h; make bench)
  probe   diagnose an endpoint's upgrades: WebSocket, h2c, HTTP/2 (switchyard probe -h)
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "bench":
		err = benchCmd(os.Args[2:])
	case "probe":
		os.Exit(probeCmd(os.Args[2:]))
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "switchyard: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	switch {
	case errors.Is(err, flag.ErrHelp): // -h: the flag set printed the usage
	case err != nil:
		fmt.Fprintln(os.Stderr, "switchyard:", err)
		os.Exit(1)
	}
}
