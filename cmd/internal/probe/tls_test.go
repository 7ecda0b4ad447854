package probe

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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

func TestRunTLSUntrustedCertificateIsUnreachable(t *testing.T) {
	addr := startTLS(t, func(http.ResponseWriter, *http.Request) {}, false)
	_, err := Run(context.Background(), "https://"+addr+"/", Options{Timeout: testTimeout})
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("error %v, want ErrUnreachable naming the certificate", err)
	}
}
