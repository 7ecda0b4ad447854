package probe

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// Certificate is the server's leaf certificate as the first TLS handshake showed it.
type Certificate struct {
	Subject string `json:"subject"`
	// Names are the subject alternative names (DNS names, then IP addresses), which are
	// what clients check the host against (RFC 9110 §4.3.4; the subject's CN is not).
	Names     []string  `json:"names"`
	Issuer    string    `json:"issuer"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	// DaysLeft is whole days until NotAfter when the probe ran (negative: expired).
	DaysLeft int `json:"days_left"`
	// SelfSigned: the certificate is its own issuer and signed with its own key.
	SelfSigned bool   `json:"self_signed"`
	Key        string `json:"key"`   // e.g. "ECDSA P-256", "RSA 2048"
	Chain      int    `json:"chain"` // certificates the server sent, the leaf included
	// MatchesHost: the URL's host is among Names.
	MatchesHost bool `json:"matches_host"`
	// Trusted: the chain verifies against the system's roots for the URL's host, at the
	// time of the probe. With --insecure the handshake goes on regardless; TrustError
	// says what verification found.
	Trusted    bool   `json:"trusted"`
	TrustError string `json:"trust_error,omitempty"`
}

// ALPNOutcome is what the server chose from one ALPN offer (RFC 7301 §3.2): "" when it
// chose nothing (no ALPN extension in its answer).
type ALPNOutcome struct {
	Offered []string `json:"offered"`
	Chosen  string   `json:"chosen"`
}

// observeTLS records, over the probes' handshakes, the version, the certificate and
// what each distinct ALPN offer got.
func (p *prober) observeTLS(cs tls.ConnectionState, offered []string) {
	r := p.r
	if r.TLSVersion == "" {
		r.TLSVersion = tls.VersionName(cs.Version)
		r.CipherSuite = tls.CipherSuiteName(cs.CipherSuite)
	}
	for _, o := range r.ALPN {
		if slices.Equal(o.Offered, offered) {
			return
		}
	}
	r.ALPN = append(r.ALPN, ALPNOutcome{Offered: slices.Clone(offered), Chosen: cs.NegotiatedProtocol})
}

// tlsConfig is the client's configuration: certificate verification is done in
// VerifyConnection, as crypto/tls would do it, so the certificate is recorded even when it
// fails verification, and verified (for the report) even under --insecure.
func (p *prober) tlsConfig(alpn []string) *tls.Config {
	return &tls.Config{
		ServerName:         p.t.serverName,
		NextProtos:         alpn,
		InsecureSkipVerify: true, //nolint:gosec // verified in VerifyConnection unless --insecure
		VerifyConnection: func(cs tls.ConnectionState) error {
			err := verifyChain(cs, p.t.serverName, p.now)
			if p.r.Certificate == nil && len(cs.PeerCertificates) > 0 {
				p.r.Certificate = describeCertificate(cs.PeerCertificates, p.t.serverName, p.now, err)
			}
			if err != nil && !p.o.Insecure {
				return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
			}
			return nil
		},
	}
}

// verifyChain is crypto/tls's own check of a server's chain: against the system's
// roots, for serverName, at now.
func verifyChain(cs tls.ConnectionState, serverName string, now time.Time) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("the server sent no certificate")
	}
	opts := x509.VerifyOptions{DNSName: serverName, CurrentTime: now, Intermediates: x509.NewCertPool()}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(opts)
	return err
}

func describeCertificate(chain []*x509.Certificate, host string, now time.Time, verifyErr error) *Certificate {
	leaf := chain[0]
	c := &Certificate{
		Subject:   leaf.Subject.String(),
		Issuer:    leaf.Issuer.String(),
		NotBefore: leaf.NotBefore.UTC(),
		NotAfter:  leaf.NotAfter.UTC(),
		DaysLeft:  daysLeft(leaf.NotAfter, now),
		// CheckSignatureFrom would refuse a leaf that is not a CA, as most self-signed
		// certificates for local use are not: check the signature itself.
		SelfSigned: bytes.Equal(leaf.RawIssuer, leaf.RawSubject) &&
			leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature) == nil,
		Key:         keyName(leaf.PublicKey),
		Chain:       len(chain),
		MatchesHost: leaf.VerifyHostname(host) == nil,
		Trusted:     verifyErr == nil,
	}
	c.Names = append(c.Names, leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		c.Names = append(c.Names, ip.String())
	}
	if verifyErr != nil {
		c.TrustError = clean(verifyErr.Error(), 300)
	}
	return c
}

// daysLeft is whole days from now to t, rounded down (so -1 the day after expiry).
func daysLeft(t, now time.Time) int {
	d := t.Sub(now)
	days := int(d / (24 * time.Hour))
	if d < 0 && d%(24*time.Hour) != 0 {
		days--
	}
	return days
}

func keyName(k any) string {
	switch k := k.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", k)
}

// certificateExpiresSoon is when a certificate's expiry becomes a warning.
const certificateExpiresSoon = 14

// diagnoseTLS adds what the handshakes showed: the version and ALPN outcomes, the
// certificate, and what is wrong with it.
func (r *Report) diagnoseTLS(now time.Time) {
	if !r.TLS {
		return
	}
	add := func(code, text string) { r.Findings = append(r.Findings, Finding{code, text}) }
	if r.TLSVersion != "" {
		text := r.TLSVersion + " (" + r.CipherSuite + ")."
		if len(r.ALPN) > 0 {
			var outs []string
			for _, o := range r.ALPN {
				outs = append(outs, "offered "+strings.Join(o.Offered, ", ")+" → "+orNone(o.Chosen))
			}
			text += " ALPN: " + strings.Join(outs, "; ") + "."
		}
		switch chosen := r.alpnChosen("h2"); {
		case chosen == "h2":
			text += " Browsers get HTTP/2 here."
		case chosen == "":
			text += " The server chose no protocol by ALPN when offered h2 (RFC 7301 §3.2): clients fall back to HTTP/1.1; browsers speak HTTP/2 only when ALPN chooses h2."
		case chosen != "-":
			text += " The server prefers " + chosen + " to h2: browsers speak HTTP/1.1 here."
		}
		add("tls", text)
	}
	c := r.Certificate
	if c == nil {
		return
	}
	text := "Certificate: subject " + orNone(c.Subject) + "; names " + orNone(strings.Join(c.Names, ", ")) +
		"; issuer " + orNone(c.Issuer)
	if c.SelfSigned {
		text += " (self-signed)"
	}
	text += "; " + c.Key + "; valid " + c.NotBefore.Format(time.DateTime) + " to " + c.NotAfter.Format(time.DateTime) +
		" UTC, " + leftText(c, now) + "; "
	if c.Trusted {
		text += "trusted by this system for " + quote(r.host()) + "."
	} else {
		text += "not trusted by this system: " + c.TrustError + "."
	}
	add("certificate", text)
	switch {
	case now.After(c.NotAfter):
		add("certificate-expired", "The certificate expired on "+c.NotAfter.Format(time.DateTime)+" UTC: every client that verifies it refuses the connection.")
	case now.Before(c.NotBefore):
		add("certificate-not-yet-valid", "The certificate is valid only from "+c.NotBefore.Format(time.DateTime)+" UTC: clients refuse it until then (or this clock is wrong).")
	case c.DaysLeft < certificateExpiresSoon:
		add("certificate-expires-soon", "The certificate expires on "+c.NotAfter.Format(time.DateTime)+" UTC, "+leftText(c, now)+": renew it; `switchyard serve` reloads it on SIGHUP.")
	}
	if !c.MatchesHost {
		add("certificate-name-mismatch", "The certificate is not for "+quote(r.host())+": its names are "+orNone(strings.Join(c.Names, ", "))+
			". Clients that verify refuse it; connect by one of its names, or serve a certificate naming this host.")
	}
	switch {
	case c.SelfSigned:
		add("certificate-self-signed", "The certificate is self-signed: no client trusts it unless told to (curl -k, --insecure, "+
			"a browser's warning page). Fine for local tries; serve one from a certificate authority to anyone else.")
	case !c.Trusted && c.MatchesHost && !now.After(c.NotAfter) && !now.Before(c.NotBefore):
		add("certificate-untrusted", "The certificate does not verify against this system's roots ("+c.TrustError+
			"): a private CA, or the server does not send its intermediate certificates (it sent "+plural(c.Chain, "certificate")+").")
	}
}

// alpnChosen is what the server chose from the first offer that listed proto first, or
// "-" when no such offer was made.
func (r *Report) alpnChosen(proto string) string {
	for _, o := range r.ALPN {
		if len(o.Offered) > 0 && o.Offered[0] == proto {
			return o.Chosen
		}
	}
	return "-"
}

// host is the URL's host without its port, as certificates name it.
func (r *Report) host() string {
	h, _, err := net.SplitHostPort(r.Address)
	if err != nil {
		return r.Address
	}
	return h
}

// leftText says how long a certificate has left: days, or hours in its last two days.
func leftText(c *Certificate, now time.Time) string {
	d := c.NotAfter.Sub(now)
	switch {
	case d < 0:
		return "expired " + plural(-c.DaysLeft, "day") + " ago"
	case d < 48*time.Hour:
		return fmt.Sprintf("%s left (%dh%02dm)", plural(c.DaysLeft, "day"), int(d.Hours()), int(d.Minutes())%60)
	}
	return plural(c.DaysLeft, "day") + " left"
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// certificateHint is what the error of a connection refused over its certificate adds:
// the certificate, and how to probe it anyway.
func (r *Report) certificateHint(now time.Time) string {
	c := r.Certificate
	if c == nil || c.Trusted {
		return ""
	}
	self := ""
	if c.SelfSigned {
		self = ", self-signed"
	}
	return fmt.Sprintf(" (certificate %s, names %s, issuer %s%s, %s; -insecure probes it anyway)",
		orNone(c.Subject), orNone(strings.Join(c.Names, ", ")), orNone(c.Issuer), self, leftText(c, now))
}
