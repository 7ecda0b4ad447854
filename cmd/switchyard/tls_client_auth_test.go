package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/cmd/internal/testpki"
	"github.com/switchyard-dev/switchyard/server"
)

// -tls-client-ca makes the TLS listener ask for client certificates from those CAs:
// with "require" a client without one, or with one another CA issued, gets no handshake;
// with "request" it is let in without one, and the handler sees who presented one.
func TestServeTLSClientCertificates(t *testing.T) {
	ca, other := testpki.NewCA(t, "clients"), testpki.NewCA(t, "someone else")
	now := time.Now()
	ann := testpki.Leaf(t, []string{"ann"}, now.Add(-time.Hour), now.Add(time.Hour), x509.ExtKeyUsageClientAuth, ca)
	mallory := testpki.Leaf(t, []string{"mallory"}, now.Add(-time.Hour), now.Add(time.Hour), x509.ExtKeyUsageClientAuth, other)
	for _, tc := range []struct {
		auth   string
		cert   *tls.Certificate
		answer string // the body, or "" for a refused handshake
	}{
		{"require", &ann, "ann"},
		{"require", nil, ""},
		{"require", &mallory, ""},
		{"request", &ann, "ann"},
		{"request", nil, "anonymous"},
		{"request", &mallory, ""},
	} {
		name := "none"
		if tc.cert != nil {
			name = tc.cert.Leaf.Subject.CommonName
		}
		t.Run(tc.auth+"/"+name, func(t *testing.T) {
			args := []string{"-tls-self-signed", "-tls-client-ca", ca.PEMFile(t), "-tls-client-auth", tc.auth}
			addr := serveTLSWhoAmI(t, args)
			cfg := &tls.Config{InsecureSkipVerify: true} // the server's own certificate is self-signed
			if tc.cert != nil {
				// Sent whatever CAs the server names, as a client that tries its luck would.
				cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return tc.cert, nil }
			}
			c, err := tls.Dial("tcp", addr, cfg)
			if err == nil {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second)) // only a hang meets it
				_, err = c.Write([]byte("GET /whoami HTTP/1.1\r\nHost: x\r\n\r\n"))
			}
			var got string
			if err == nil {
				// TLS 1.3: the server's verdict on the client's certificate arrives with
				// the first read.
				var resp *http.Response
				if resp, err = http.ReadResponse(bufio.NewReader(c), nil); err == nil {
					b := make([]byte, 64)
					n, _ := resp.Body.Read(b)
					got = string(b[:n])
				}
			}
			if tc.answer == "" {
				if err == nil {
					t.Fatalf("the server answered %q, want a refused handshake", got)
				}
				return
			}
			if err != nil || got != tc.answer {
				t.Fatalf("got %q (%v), want %q", got, err, tc.answer)
			}
		})
	}
}

// serveTLSWhoAmI runs serve's TLS listener as args configure it, with a /whoami route
// that answers the client certificate's common name.
func serveTLSWhoAmI(t *testing.T, args []string) string {
	t.Helper()
	cfg, err := parseServeArgs(append([]string{"-addr", ""}, args...))
	if err != nil {
		t.Fatal(err)
	}
	tc, _, err := cfg.TLS.config()
	if err != nil {
		t.Fatal(err)
	}
	sc := cfg.serverConfig()
	sc.Addr, sc.TLS = "127.0.0.1:0", tc
	srv := server.New(sc)
	srv.Route("/whoami", server.Route{HTTP: func(w *server.ResponseWriter, r *server.Request) {
		st, _ := r.Conn().TLSConnectionState()
		if len(st.PeerCertificates) == 0 {
			_, _ = w.WriteString("anonymous")
			return
		}
		_, _ = w.WriteString(st.PeerCertificates[0].Subject.CommonName)
	}})
	runServer(t, srv)
	return srv.Addr().String()
}
