package bench

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"net"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
)

// The suite's certificate is ECDSA P-256, names 127.0.0.1 and localhost, and loads as a
// key pair (what every server does with the two files); the key file is not world-readable.
func TestWriteTLSFiles(t *testing.T) {
	f, err := WriteTLSFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		t.Fatal(err)
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		t.Fatalf("private key %T, want ECDSA P-256", pair.PrivateKey)
	}
	leaf := pair.Leaf
	if err := leaf.VerifyHostname("127.0.0.1"); err != nil {
		t.Error(err)
	}
	if err := leaf.VerifyHostname("localhost"); err != nil {
		t.Error(err)
	}
	if st, err := os.Stat(f.Key); err != nil || st.Mode().Perm()&0o077 != 0 {
		t.Errorf("key file mode %v, %v: want no access for others", st.Mode(), err)
	}
}

// Each TLS server is given the suite's certificate in its own way.
func TestTLSServerCommands(t *testing.T) {
	b := Bins{Switchyard: "/sy", Peer: "/peer", Nghttpd: "/nghttpd", DocRoot: "/doc", TLS: TLSFiles{Cert: "/c.pem", Key: "/k.pem"}}
	for _, tc := range []struct {
		name, kind string
		want       []string
	}{
		{"switchyard", KindEcho, []string{"/sy", "serve", "-addr", "", "-tls-addr", "127.0.0.1:9", "-tls-cert", "/c.pem", "-tls-key", "/k.pem", "-log-level", "error"}},
		{"switchyard+-loops+1", KindHandshake, []string{"/sy", "serve", "-addr", "", "-tls-addr", "127.0.0.1:9", "-tls-cert", "/c.pem", "-tls-key", "/k.pem", "-log-level", "error", "-loops", "1"}},
		{"nghttpd", KindH2, []string{"/nghttpd", "-d", "/doc", "-a", "127.0.0.1", "9", "/k.pem", "/c.pem"}},
		{"gws", KindHold, []string{"/peer", "-server", "gws", "-addr", "127.0.0.1:9", "-tls-cert", "/c.pem", "-tls-key", "/k.pem"}},
	} {
		got, err := b.serverCmd(tc.name, tc.kind, "127.0.0.1:9", true)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	if got, err := b.serverCmd("switchyard", KindBroadcast, "127.0.0.1:9", true); err == nil {
		t.Errorf("TLS broadcast: got %q, want an error (bench -serve has no TLS)", got)
	}
	b.TLS = TLSFiles{}
	if got, err := b.serverCmd("gws", KindEcho, "127.0.0.1:9", true); err == nil {
		t.Errorf("no certificate: got %q, want an error", got)
	}
}

// -scenarios picks TLS scenarios by name, by "tls-"+kind or all by "tls"; a cleartext
// kind does not pick its TLS twin.
func TestSelectTLS(t *testing.T) {
	names := func(scs []Scenario) []string {
		var n []string
		for _, sc := range scs {
			n = append(n, sc.Name)
		}
		return n
	}
	suite := DefaultSuite()
	for _, tc := range []struct {
		sel  []string
		want []string
	}{
		{[]string{"tls"}, []string{"tls-handshake", "tls-ws-echo-64B-c1000", "tls-ws-hold-10000", "tls-h2-get"}},
		{[]string{"tls-ws-echo"}, []string{"tls-ws-echo-64B-c1000"}},
		{[]string{"tls-ws-handshake"}, []string{"tls-handshake"}},
		{[]string{"ws-handshake"}, []string{"ws-handshake"}},
		{[]string{"h2"}, []string{"h2-get"}},
		{[]string{"tls-h2-get", "h2-get"}, []string{"h2-get", "tls-h2-get"}},
	} {
		if got := names(Select(suite, tc.sel)); !slices.Equal(got, tc.want) {
			t.Errorf("Select(%q) = %q, want %q", tc.sel, got, tc.want)
		}
	}
	for _, sc := range Select(QuickSuite(), []string{"tls"}) {
		if sc.Hold != nil && sc.Hold.Conns > 2000 {
			t.Errorf("quick %s holds %d connections", sc.Name, sc.Hold.Conns)
		}
	}
}

func TestSplitWSS(t *testing.T) {
	for _, tc := range []struct {
		in, addr string
		tls      bool
	}{
		{"wss://127.0.0.1:9", "127.0.0.1:9", true},
		{"127.0.0.1:9", "127.0.0.1:9", false},
		{"ws://127.0.0.1:9", "ws://127.0.0.1:9", false},
	} {
		if addr, tls := splitWSS(tc.in); addr != tc.addr || tls != tc.tls {
			t.Errorf("splitWSS(%q) = %q, %v; want %q, %v", tc.in, addr, tls, tc.addr, tc.tls)
		}
	}
}

// startSwitchyardTLS serves the bench routes over TLS with the suite's kind of certificate.
func startSwitchyardTLS(t *testing.T) string {
	t.Helper()
	f, err := WriteTLSFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{Addr: "127.0.0.1:0", Logger: quietSlog(), TLS: &tls.Config{Certificates: []tls.Certificate{pair}}})
	BenchRoutes(srv)
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	})
	return srv.Addr().String()
}

// The TLS clients work end to end against an in-process switchyard over TLS: handshakes
// and upgrades complete, echoes come back intact, and nothing fails.
func TestTLSClientsSmoke(t *testing.T) {
	addr := startSwitchyardTLS(t)
	srcs := []net.IP{net.IPv4(127, 0, 0, 1)}

	live := &Live{}
	hp := HandshakeParams{Par: 4, Duration: hangGuard, Warmup: 10 * time.Millisecond}
	m, err := RunTLSHandshake(runUntil(t, func() bool { return live.load() >= 20 }), addr, 0, hp, srcs, live)
	if err != nil || m.Ops < 20 || m.Errors != 0 || m.Latency.P50 <= 0 {
		t.Fatalf("handshakes: %v; %d ops, %d errors (%s), latency %+v", err, m.Ops, m.Errors, m.ErrorSample, m.Latency)
	}

	// The load client's loops over TLS (tlsloop.go), small messages and large ones: 4 in
	// flight, so records arrive several at a time and split across reads.
	for _, size := range []int{64, 3000} {
		live = &Live{}
		ep := EchoParams{Conns: 10, InFlight: 4, Size: size, Duration: hangGuard, Warmup: 10 * time.Millisecond, TLS: true}
		m, err = RunEcho(runUntil(t, func() bool { return live.load() >= 200 }), addr, 0, ep, srcs, live)
		if err != nil || m.Conns != 10 || m.Ops < 200 || m.Errors != 0 || m.Note != "" {
			t.Fatalf("echo of %d B: %v; %d conns, %d echoes, %d errors (%s), note %q", size, err, m.Conns, m.Ops, m.Errors, m.ErrorSample, m.Note)
		}
	}
}

// Issue 16's bars read the TLS scenarios' medians like the cleartext bars do.
func TestTLSBars(t *testing.T) {
	var hs, echo, hold, h2 Scenario
	for _, sc := range tlsSuite() {
		switch sc.Kind {
		case KindHandshake:
			hs = sc
		case KindEcho:
			echo = sc
		case KindHold:
			hold = sc
		case KindH2:
			h2 = sc
		}
	}
	cases := []struct {
		name, bar string
		sc        Scenario
		runs      []Run
		met       bool
	}{
		{"as fast as the best peer and cheapest per handshake meets the bar", "TLS handshakes/s", hs,
			runsFor(hs.Name, run("switchyard", 2000, 300, 0, 0), run("gws", 2000, 350, 0, 0), run("nbio", 1500, 320, 0, 0)), true},
		{"faster but not the cheapest per handshake misses", "TLS handshakes/s", hs,
			runsFor(hs.Name, run("switchyard", 2500, 330, 0, 0), run("gws", 2000, 350, 0, 0), run("nbio", 1500, 320, 0, 0)), false},
		{"echo CPU above 0.8x the cheapest peer misses", "TLS echo CPU per message", echo,
			runsFor(echo.Name, run("switchyard", 30000, 17, 0, 0), run("gws", 25000, 20, 0, 0)), false},
		{"echo CPU at 0.75x meets", "TLS echo CPU per message", echo,
			runsFor(echo.Name, run("switchyard", 30000, 15, 0, 0), run("gws", 25000, 20, 0, 0)), true},
		{"lowest memory at 10,000 connections meets", "idle memory per TLS connection", hold,
			runsFor(hold.Name, run("switchyard", 0, 0, 9, 10000), run("nbio", 0, 0, 9.5, 10000)), true},
		{"lowest memory below 10,000 connections is not the bar", "idle memory per TLS connection", hold,
			runsFor(hold.Name, run("switchyard", 0, 0, 9, 2000), run("nbio", 0, 0, 9.5, 2000)), false},
		{"h2 over TLS below nghttpd misses", "HTTP/2 over TLS GET / requests/s", h2,
			runsFor(h2.Name, run("switchyard", 40000, 5, 0, 0), run("nghttpd", 50000, 5, 0, 0)), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &Report{Scenarios: []Scenario{c.sc}, Runs: c.runs}
			r.summarize()
			b := barNamed(t, r.Bars, c.bar, c.sc.Name)
			if !b.Checked || b.Met != c.met {
				t.Fatalf("checked %v met %v (%s), want met %v", b.Checked, b.Met, b.Got, c.met)
			}
		})
	}
}
