package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/cmd/internal/testpki"
	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/http2"
	"github.com/switchyard-dev/switchyard/server/websocket"
)

func startTLS(t *testing.T, h http.HandlerFunc, http2 bool) string {
	t.Helper()
	ts := httptest.NewUnstartedServer(h)
	ts.EnableHTTP2 = http2
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return ts.Listener.Addr().String()
}

func TestRunTLS(t *testing.T) {
	plain := func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "hello\n") }
	cases := []struct {
		name     string
		url      func(t *testing.T) string
		verdicts map[string]string
		findings []string
		absent   []string
	}{
		{
			name:     "https_with_ALPN_h2_RFC9113_3.2",
			url:      func(t *testing.T) string { return "https://" + startTLS(t, plain, true) + "/" },
			verdicts: map[string]string{"get": "ok", "ws": "ignored", "h2c": "skipped", "h2": "supported"},
			findings: []string{"upgrade-ignored", "h2-supported"},
			absent:   []string{"http1-only", "h2c-supported", "h2c-not-supported"},
		},
		{
			name:     "https_HTTP1_only_ALPN_declines_h2",
			url:      func(t *testing.T) string { return "https://" + startTLS(t, plain, false) + "/" },
			verdicts: map[string]string{"get": "ok", "ws": "ignored", "h2c": "skipped", "h2": "not-supported"},
			findings: []string{"http1-only", "h2-not-supported"},
		},
		{
			name:     "wss_gobwas_RFC6455_over_TLS",
			url:      func(t *testing.T) string { return "wss://" + startTLS(t, gobwasHandler, false) + "/" },
			verdicts: map[string]string{"ws": "upgraded", "ws-version-8": "version-mismatch-detected"},
			findings: []string{"websocket-ok"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.url(t), Options{Insecure: true})
			defer dump(t, &r)
			if !r.TLS {
				t.Error("report does not say TLS")
			}
			got := verdictCodes(&r)
			for id, want := range tc.verdicts {
				if got[id] != want {
					t.Errorf("probe %s: verdict %q, want %q (%s)", id, got[id], want, r.Probe(id).Verdict.Text)
				}
			}
			for _, f := range tc.findings {
				if !r.HasFinding(f) {
					t.Errorf("diagnosis lacks %q", f)
				}
			}
			for _, f := range tc.absent {
				if r.HasFinding(f) {
					t.Errorf("diagnosis has %q", f)
				}
			}
		})
	}
}

// Without --insecure a certificate that does not verify makes the endpoint unreachable,
// and the error and the report still say what the certificate is.
func TestRunTLSUntrustedCertificateIsUnreachable(t *testing.T) {
	addr := startTLS(t, func(http.ResponseWriter, *http.Request) {}, false)
	r, err := Run(context.Background(), "https://"+addr+"/", Options{Timeout: testTimeout})
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("error %v, want ErrUnreachable naming the certificate", err)
	}
	// httptest's certificate: example.com and 127.0.0.1, issued by its own CA.
	for _, want := range []string{"names example.com, *.example.com, 127.0.0.1, ::1", "issuer O=Acme Co", "-insecure probes it anyway"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
	if c := r.Certificate; c == nil || c.Trusted || c.TrustError == "" || !r.HasFinding("certificate") {
		t.Errorf("report's certificate %+v, findings %v: want it described and untrusted", c, r.Findings)
	}
}

// startSwitchyardTLS runs switchyard in-process over TLS with cert: the reference /echo
// and / routes, HTTP/2 by ALPN.
func startSwitchyardTLS(t *testing.T, cert tls.Certificate) string {
	t.Helper()
	srv := server.New(server.Config{Addr: "127.0.0.1:0", Loops: 1, TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	srv.Route("/echo", server.Route{RequireUpgrade: true, Upgraders: []server.Upgrader{websocket.New(websocket.Handler{
		OnMessage: echo, CheckOrigin: websocket.AllowAnyOrigin,
	})}})
	srv.Route("/", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) { _, _ = w.WriteString("hello\n") }})
	srv.Upgrade(http2.New(http2.Config{}))
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(hangGuard):
			t.Error("switchyard did not stop")
		}
	})
	return srv.Addr().String()
}

// https:// and wss:// against switchyard over TLS with its self-signed certificate: the
// report gives the TLS version, what each ALPN offer got (RFC 7301 §3.2) and the
// certificate (names, issuer, expiry, days left, self-signed), and the diagnosis says so.
func TestRunTLSReportsCertificateAndALPN(t *testing.T) {
	cert, err := server.SelfSignedCertificate()
	if err != nil {
		t.Fatal(err)
	}
	addr := startSwitchyardTLS(t, cert)
	for _, url := range []string{"https://" + addr + "/", "wss://" + addr + "/echo"} {
		t.Run(url, func(t *testing.T) {
			r := run(t, url, Options{Insecure: true})
			defer dump(t, &r)
			if r.TLSVersion != "TLS 1.3" || r.CipherSuite == "" {
				t.Errorf("TLS %q %q, want TLS 1.3 and a cipher suite", r.TLSVersion, r.CipherSuite)
			}
			wantALPN := []ALPNOutcome{{Offered: []string{"http/1.1"}, Chosen: "http/1.1"}, {Offered: []string{"h2", "http/1.1"}, Chosen: "h2"}}
			if !reflect.DeepEqual(r.ALPN, wantALPN) {
				t.Errorf("ALPN %+v, want %+v", r.ALPN, wantALPN)
			}
			c := r.Certificate
			if c == nil {
				t.Fatal("no certificate in the report")
			}
			if !reflect.DeepEqual(c.Names, []string{"localhost", "127.0.0.1", "::1"}) || c.Subject != "CN=localhost,O=switchyard self-signed" ||
				c.Issuer != c.Subject || !c.SelfSigned || c.Trusted || !c.MatchesHost || c.Key != "ECDSA P-256" || c.Chain != 1 ||
				!c.NotAfter.Equal(cert.Leaf.NotAfter) || c.DaysLeft != 0 {
				t.Errorf("certificate %+v", c)
			}
			for _, f := range []string{"tls", "certificate", "certificate-self-signed", "certificate-expires-soon"} {
				if !r.HasFinding(f) {
					t.Errorf("diagnosis lacks %q", f)
				}
			}
			for _, f := range []string{"certificate-name-mismatch", "certificate-untrusted", "certificate-expired"} {
				if r.HasFinding(f) {
					t.Errorf("diagnosis has %q", f)
				}
			}
			if f := r.Finding("tls"); f != nil && !strings.Contains(f.Text, "offered h2, http/1.1 → h2") {
				t.Errorf("tls finding %q does not give the ALPN outcome", f.Text)
			}
			if f := r.Finding("certificate"); f != nil && !strings.Contains(f.Text, "names localhost, 127.0.0.1, ::1") {
				t.Errorf("certificate finding %q does not name the certificate's names", f.Text)
			}
		})
	}
}

// What is wrong with a certificate is a finding of its own, with --insecure (the probe
// goes on) as without (the error says it).
func TestRunTLSCertificateProblems(t *testing.T) {
	ca := testpki.NewCA(t, "probe test CA")
	now := time.Now()
	day := 24 * time.Hour
	for _, tc := range []struct {
		name     string
		cert     tls.Certificate
		findings []string
		absent   []string
		days     int
	}{
		{"expired", testpki.Leaf(t, []string{"127.0.0.1"}, now.Add(-30*day), now.Add(-36*time.Hour), x509.ExtKeyUsageServerAuth, nil),
			[]string{"certificate-expired", "certificate-self-signed"}, []string{"certificate-expires-soon", "certificate-name-mismatch"}, -2},
		{"not yet valid", testpki.Leaf(t, []string{"127.0.0.1"}, now.Add(day), now.Add(90*day+time.Hour), x509.ExtKeyUsageServerAuth, nil),
			[]string{"certificate-not-yet-valid"}, []string{"certificate-expired", "certificate-expires-soon"}, 90},
		{"expires soon", testpki.Leaf(t, []string{"127.0.0.1"}, now.Add(-day), now.Add(10*day+time.Hour), x509.ExtKeyUsageServerAuth, nil),
			[]string{"certificate-expires-soon"}, []string{"certificate-expired"}, 10},
		{"valid for long", testpki.Leaf(t, []string{"127.0.0.1"}, now.Add(-day), now.Add(200*day+time.Hour), x509.ExtKeyUsageServerAuth, nil),
			nil, []string{"certificate-expires-soon", "certificate-expired", "certificate-name-mismatch"}, 200},
		{"another host's", testpki.Leaf(t, []string{"example.org"}, now.Add(-day), now.Add(60*day+time.Hour), x509.ExtKeyUsageServerAuth, nil),
			[]string{"certificate-name-mismatch", "certificate-self-signed"}, []string{"certificate-untrusted"}, 60},
		{"unknown CA", testpki.Leaf(t, []string{"127.0.0.1"}, now.Add(-day), now.Add(60*day+time.Hour), x509.ExtKeyUsageServerAuth, ca),
			[]string{"certificate-untrusted"}, []string{"certificate-self-signed", "certificate-name-mismatch"}, 60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "hello\n") }))
			ts.TLS = &tls.Config{Certificates: []tls.Certificate{tc.cert}}
			ts.StartTLS()
			t.Cleanup(ts.Close)
			url := "https://" + ts.Listener.Addr().String() + "/"
			r := run(t, url, Options{Insecure: true})
			defer dump(t, &r)
			if r.Certificate == nil || r.Certificate.DaysLeft != tc.days || r.Certificate.Trusted {
				t.Errorf("certificate %+v, want %d days left and untrusted", r.Certificate, tc.days)
			}
			for _, f := range append([]string{"tls", "certificate"}, tc.findings...) {
				if !r.HasFinding(f) {
					t.Errorf("diagnosis lacks %q", f)
				}
			}
			for _, f := range tc.absent {
				if r.HasFinding(f) {
					t.Errorf("diagnosis has %q", f)
				}
			}
			// Without --insecure: unreachable, and the error describes the certificate.
			_, err := Run(context.Background(), url, Options{Timeout: testTimeout})
			if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "-insecure probes it anyway") {
				t.Errorf("without --insecure: %v", err)
			}
		})
	}
}

// What ALPN chose when offered h2 decides whether browsers speak HTTP/2 (RFC 9113 §3.2):
// a server may choose nothing (RFC 7301 §3.2) or http/1.1, and the diagnosis says which.
func TestRunTLSALPNOutcomes(t *testing.T) {
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "hello\n") })
	for _, tc := range []struct {
		name, chosen, text string
		start              func(t *testing.T) string
	}{
		{"no ALPN", "", "chose no protocol by ALPN", func(t *testing.T) string { return startNoALPN(t, hello) }},
		{"http/1.1 preferred", "http/1.1", "prefers http/1.1 to h2", func(t *testing.T) string { return startTLS(t, hello, false) }},
		{"h2", "h2", "Browsers get HTTP/2 here", func(t *testing.T) string { return startTLS(t, hello, true) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, "https://"+tc.start(t)+"/", Options{Insecure: true})
			defer dump(t, &r)
			if got := r.alpnChosen("h2"); got != tc.chosen {
				t.Errorf("ALPN %+v: offering h2 got %q, want %q", r.ALPN, got, tc.chosen)
			}
			if f := r.Finding("tls"); f == nil || !strings.Contains(f.Text, tc.text) {
				t.Errorf("tls finding %v, want one saying %q", f, tc.text)
			}
		})
	}
}

// startNoALPN serves h over TLS without ALPN (no NextProtos: the server's answer has no
// ALPN extension whatever the client offers).
func startNoALPN(t *testing.T, h http.Handler) string {
	t.Helper()
	cert, err := server.SelfSignedCertificate()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: testTimeout}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	return ln.Addr().String()
}

func TestDaysLeft(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		after time.Duration
		want  int
	}{
		{0, 0}, {time.Hour, 0}, {24 * time.Hour, 1}, {47 * time.Hour, 1}, {-time.Hour, -1}, {-24 * time.Hour, -1}, {-25 * time.Hour, -2},
	} {
		if got := daysLeft(now.Add(tc.after), now); got != tc.want {
			t.Errorf("daysLeft(now%+v) = %d, want %d", tc.after, got, tc.want)
		}
	}
}
