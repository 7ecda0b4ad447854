package main

import (
	"crypto/tls"
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
}

func (s *tlsSettings) enabled() bool { return s.Cert != "" || s.SelfSigned }

func (s *tlsSettings) flags(fs *flag.FlagSet) {
	fs.StringVar(&s.Addr, "tls-addr", s.Addr, "address of the TLS listener (https, wss; HTTP/2 by ALPN), beside -addr (default :8443 when TLS is on; -addr \"\" for TLS only)")
	fs.StringVar(&s.Cert, "tls-cert", s.Cert, "PEM certificate chain for the TLS listener (read again on SIGHUP)")
	fs.StringVar(&s.Key, "tls-key", s.Key, "PEM private key of -tls-cert")
	fs.BoolVar(&s.SelfSigned, "tls-self-signed", s.SelfSigned, "TLS with a throw-away self-signed certificate for localhost, for local tries only")
}

func (s *tlsSettings) validate() error {
	switch {
	case s.SelfSigned && s.Cert != "":
		return errors.New("tls: self_signed and cert exclude each other")
	case (s.Cert == "") != (s.Key == ""):
		return errors.New("tls: cert and key go together")
	case s.Addr != "" && !s.enabled():
		return errors.New("tls.addr: set tls.cert and tls.key (or tls.self_signed) too")
	}
	return nil
}

// config builds the listener's tls.Config. A certificate from files is served through
// server.CertificateFile, which SIGHUP reloads (watchReload).
func (s *tlsSettings) config() (*tls.Config, *server.CertificateFile, error) {
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
