package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sync/atomic"
	"time"
)

// CertificateFile is a certificate and key read from PEM files that can be read again
// while the server runs (on SIGHUP in `switchyard serve`): handshakes that start after
// Reload use the new pair, and sessions already open keep theirs. Plug it in with
//
//	cf, err := server.LoadCertificateFile("cert.pem", "key.pem")
//	cfg := server.Config{TLS: &tls.Config{GetCertificate: cf.GetCertificate}}
//
// It is the standard tls.Config hook, so SNI across several certificates stays
// crypto/tls's (Config.Certificates, or a GetCertificate of your own).
type CertificateFile struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// LoadCertificateFile reads the pair once; it fails as tls.LoadX509KeyPair does.
func LoadCertificateFile(certFile, keyFile string) (*CertificateFile, error) {
	cf := &CertificateFile{certFile: certFile, keyFile: keyFile}
	return cf, cf.Reload()
}

// Reload reads the files again and swaps the certificate atomically. On error the
// certificate in use stays. Safe from any goroutine.
func (cf *CertificateFile) Reload() error {
	cert, err := tls.LoadX509KeyPair(cf.certFile, cf.keyFile)
	if err != nil {
		return err
	}
	cf.cur.Store(&cert)
	return nil
}

// Certificate is the pair in use.
func (cf *CertificateFile) Certificate() *tls.Certificate { return cf.cur.Load() }

// GetCertificate is tls.Config.GetCertificate.
func (cf *CertificateFile) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return cf.cur.Load(), nil
}

// SelfSignedCertificate makes a throw-away ECDSA P-256 certificate for hosts (names or IP
// addresses; default localhost, 127.0.0.1 and ::1), valid for a day: for local tries and
// tests, never for production (no client trusts it without being told to).
func SelfSignedCertificate(hosts ...string) (tls.Certificate, error) {
	if len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1", "::1"}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{Organization: []string{"switchyard self-signed"}, CommonName: hosts[0]},
		NotBefore:    now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}
