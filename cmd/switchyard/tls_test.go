package main

import (
	"strings"
	"testing"
)

// The config file's "tls" section and the -tls-* flags: flags win, and contradictions
// stop the server at start naming the key.
func TestTLSSettings(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		args       []string
		want       tlsSettings
		wantErr    string
	}{
		{"file", `{"tls": {"addr": ":9443", "cert": "c.pem", "key": "k.pem"}}`, nil,
			tlsSettings{Addr: ":9443", Cert: "c.pem", Key: "k.pem"}, ""},
		{"flags override the file", `{"tls": {"addr": ":9443", "cert": "c.pem", "key": "k.pem"}}`,
			[]string{"-tls-addr", "127.0.0.1:1", "-tls-cert", "d.pem", "-tls-key", "e.pem"},
			tlsSettings{Addr: "127.0.0.1:1", Cert: "d.pem", Key: "e.pem"}, ""},
		{"self-signed", `{}`, []string{"-tls-self-signed"}, tlsSettings{SelfSigned: true}, ""},
		{"cert without key", `{"tls": {"cert": "c.pem"}}`, nil, tlsSettings{}, "tls: cert and key go together"},
		{"self-signed and a cert", `{"tls": {"cert": "c.pem", "key": "k.pem", "self_signed": true}}`, nil, tlsSettings{}, "exclude each other"},
		{"address without a certificate", `{}`, []string{"-tls-addr", ":8443"}, tlsSettings{}, "tls.addr"},
		{"unknown key", `{"tls": {"certificate": "c.pem"}}`, nil, tlsSettings{}, `unknown key "certificate"`},
		{"client CAs from the file", `{"tls": {"self_signed": true, "client_ca": "ca.pem", "client_auth": "request"}}`, nil,
			tlsSettings{SelfSigned: true, ClientCA: "ca.pem", ClientAuth: "request"}, ""},
		{"client CAs by flag", `{}`, []string{"-tls-self-signed", "-tls-client-ca", "ca.pem"},
			tlsSettings{SelfSigned: true, ClientCA: "ca.pem"}, ""},
		{"client CAs without TLS", `{"tls": {"client_ca": "ca.pem"}}`, nil, tlsSettings{}, "tls.client_ca"},
		{"client_auth without client CAs", `{"tls": {"self_signed": true, "client_auth": "require"}}`, nil, tlsSettings{}, "tls.client_auth: set tls.client_ca"},
		{"client_auth unknown", `{}`, []string{"-tls-self-signed", "-tls-client-ca", "ca.pem", "-tls-client-auth", "optional"}, tlsSettings{}, `"optional" is not one of require, request`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseServeArgs(append([]string{"-config", writeConfig(t, tc.file)}, tc.args...))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.TLS != tc.want {
				t.Fatalf("got %+v, want %+v", cfg.TLS, tc.want)
			}
		})
	}
}
