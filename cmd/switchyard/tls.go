package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/switchyard-dev/switchyard/server"
)

// tlsSettings is the TLS listener of `switchyard serve` (the config file's "tls" section
// and the -tls-* flags). TLS is on when a certificate is given or self_signed is set; it
// listens on Addr beside the cleartext listener (-addr), whose routes it serves too. For
// TLS only, give -addr "" (or "addr": "" in the file).
type tlsSettings struct {
	Addr       string `json:"addr"` // default ":8443"
	Cert       string `json:"cert"` // PEM certificate chain; read again on SIGHUP
	Key        string `json:"key"`  // PEM private key
	SelfSigned bool   `json:"self_signed"`
	// ClientCA, a PEM bundle, has the listener ask each client for a certificate that one
	// of its CAs issued (mutual TLS, nginx's ssl_verify_client). ClientAuth says what a
	// client without one meets: "require" (the default) fails its handshake, "request"
	// lets it in, and a handler tells the two apart by Conn.TLSConnectionState's
	// PeerCertificates. A certificate that is given is always verified.
	ClientCA   string `json:"client_ca"`
	ClientAuth string `json:"client_auth"`
}

func (s *tlsSettings) enabled() bool { return s.Cert != "" || s.SelfSigned }

func (s *tlsSettings) flags(fs *flag.FlagSet) {
	fs.StringVar(&s.Addr, "tls-addr", s.Addr, "address of the TLS listener (https, wss; HTTP/2 by ALPN), host:port or unix:/path, beside -addr (default :8443 when TLS is on; -addr \"\" for TLS only)")
	fs.StringVar(&s.Cert, "tls-cert", s.Cert, "PEM certificate chain for the TLS listener (read again on SIGHUP)")
	fs.StringVar(&s.Key, "tls-key", s.Key, "PEM private key of -tls-cert")
	fs.BoolVar(&s.SelfSigned, "tls-self-signed", s.SelfSigned, "TLS with a throw-away self-signed certificate for localhost, for local tries only")
	fs.StringVar(&s.ClientCA, "tls-client-ca", s.ClientCA, "PEM bundle of the CAs whose client certificates the TLS listener accepts (mutual TLS)")
	fs.StringVar(&s.ClientAuth, "tls-client-auth", s.ClientAuth, "with -tls-client-ca: require (default: no certificate, no handshake) or request (let clients without one in)")
}

func (s *tlsSettings) validate() error {
	switch {
	case s.SelfSigned && s.Cert != "":
		return errors.New("tls: self_signed and cert exclude each other")
	case (s.Cert == "") != (s.Key == ""):
		return errors.New("tls: cert and key go together")
	case s.Addr != "" && !s.enabled():
		return errors.New("tls.addr: set tls.cert and tls.key (or tls.self_signed) too")
	case s.ClientCA != "" && !s.enabled():
		return errors.New("tls.client_ca: set tls.cert and tls.key (or tls.self_signed) too")
	case s.ClientAuth != "" && s.ClientCA == "":
		return errors.New("tls.client_auth: set tls.client_ca, the CAs client certificates are checked against")
	case s.ClientAuth != "" && s.ClientAuth != "require" && s.ClientAuth != "request":
		return fmt.Errorf("tls.client_auth: %q is not one of require, request", s.ClientAuth)
	}
	return nil
}

// clientAuth sets cfg up to verify client certificates against ClientCA, if set.
func (s *tlsSettings) clientAuth(cfg *tls.Config) error {
	if s.ClientCA == "" {
		return nil
	}
	b, err := os.ReadFile(s.ClientCA)
	if err != nil {
		return fmt.Errorf("tls.client_ca: %w", err)
	}
	cfg.ClientCAs = x509.NewCertPool()
	if !cfg.ClientCAs.AppendCertsFromPEM(b) {
		return fmt.Errorf("tls.client_ca: no PEM certificate in %s", s.ClientCA)
	}
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	if s.ClientAuth == "request" {
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return nil
}

// config builds the listener's tls.Config. A certificate from files is served through
// server.CertificateFile, which SIGHUP reloads (watchReload).
func (s *tlsSettings) config() (*tls.Config, *server.CertificateFile, error) {
	cfg, cf, err := s.serverCertificate()
	if err == nil {
		err = s.clientAuth(cfg)
	}
	if err != nil {
		return nil, nil, err
	}
	return cfg, cf, nil
}

// serverCertificate is the listener's tls.Config with its own certificate.
func (s *tlsSettings) serverCertificate() (*tls.Config, *server.CertificateFile, error) {
	if s.SelfSigned {
		cert, err := server.SelfSignedCertificate()
		if err != nil {
			return nil, nil, err
		}
		fmt.Fprintln(os.Stderr, "***************************************************************************")
		fmt.Fprintln(os.Stderr, "* WARNING: -tls-self-signed: a throw-away certificate for localhost,      *")
		fmt.Fprintln(os.Stderr, "* 127.0.0.1 and ::1, valid 24 hours, made at start and trusted by no one: *")
		fmt.Fprintln(os.Stderr, "* clients must skip verification (curl -k). For local tries only.         *")
		fmt.Fprintln(os.Stderr, "***************************************************************************")
		return &tls.Config{Certificates: []tls.Certificate{cert}}, nil, nil
	}
	cf, err := server.LoadCertificateFile(s.Cert, s.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: %w", err)
	}
	return &tls.Config{GetCertificate: cf.GetCertificate}, cf, nil
}

// watchReload reads the certificate files again on every SIGHUP; a failed reload keeps
// the certificate in use and says why, and without files (nil cf) there is nothing to
// reload, which it says too. It returns the function that stops watching.
func watchReload(cf *server.CertificateFile) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				if cf == nil {
					fmt.Fprintln(os.Stderr, "switchyard: SIGHUP: nothing to reload (no -tls-cert/-tls-key files)")
					continue
				}
				if err := cf.Reload(); err != nil {
					fmt.Fprintf(os.Stderr, "switchyard: SIGHUP: certificate not reloaded, the old one stays: %v\n", err)
					continue
				}
				leaf := cf.Certificate().Leaf
				fmt.Printf("switchyard: SIGHUP: certificate reloaded (%v, expires %s)\n", leaf.DNSNames, leaf.NotAfter.Format("2006-01-02"))
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(hup); close(done) }
}
