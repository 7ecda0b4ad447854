package bench

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// TLSFiles are the certificate and key every server of a TLS scenario is given: one
// ECDSA P-256 self-signed certificate made per suite run (WriteTLSFiles).
type TLSFiles struct {
	Cert string `json:"cert"`
	Key  string `json:"key"`
}

// WriteTLSFiles makes a throw-away ECDSA P-256 certificate for 127.0.0.1 and localhost,
// valid for a day, and writes it as cert.pem and key.pem (PKCS #8) in dir. Every server
// of the TLS scenarios, switchyard and peers, serves this one certificate, so each
// handshake signs with the same key type and sends the same chain.
func WriteTLSFiles(dir string) (TLSFiles, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return TLSFiles{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return TLSFiles{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "switchyard bench"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return TLSFiles{}, err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return TLSFiles{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return TLSFiles{}, err
	}
	f := TLSFiles{Cert: filepath.Join(dir, "cert.pem"), Key: filepath.Join(dir, "key.pem")}
	if err := os.WriteFile(f.Cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return TLSFiles{}, err
	}
	if err := os.WriteFile(f.Key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600); err != nil {
		return TLSFiles{}, err
	}
	return f, nil
}

// benchTLSConfig is the harness's TLS client: every handshake a full one (no session
// cache, so no resumption), TLS 1.3, X25519 key exchange and ALPN http/1.1.
//
// X25519 is pinned because Go's default offers X25519MLKEM768 first, which the Go
// servers (switchyard, gws, net/http) would take and nbio's crypto/tls fork (llib) does
// not know: each server would then do different work per handshake. With X25519 every
// server does one X25519 and one ECDSA P-256 signature per handshake. The certificate is
// self-signed, so the chain is not verified; the handshake's signature still is (crypto/tls
// always checks CertificateVerify).
func benchTLSConfig() *tls.Config {
	return &tls.Config{
		InsecureSkipVerify: true,
		MinVersion:         tls.VersionTLS13,
		CurvePreferences:   []tls.CurveID{tls.X25519},
		NextProtos:         []string{"http/1.1"},
		ServerName:         "localhost",
	}
}

// wssPrefix marks a ws-hold child's -addr as TLS: `switchyard bench -hold-child -addr
// wss://127.0.0.1:PORT` holds wss connections (the child has no other TLS flag).
const wssPrefix = "wss://"

// splitWSS returns addr without its wss:// prefix and whether it had one.
func splitWSS(addr string) (string, bool) {
	if rest, ok := strings.CutPrefix(addr, wssPrefix); ok {
		return rest, true
	}
	return addr, false
}

// tlsDial connects to d.addr from the next source address and completes a TLS handshake.
func (d *wsDialer) tlsDial(ctx context.Context) (*tls.Conn, *net.TCPConn, error) {
	nd := net.Dialer{Timeout: d.timeout}
	if len(d.srcs) > 0 {
		nd.LocalAddr = &net.TCPAddr{IP: d.srcs[int(d.next.Add(1))%len(d.srcs)]}
	}
	c, err := nd.DialContext(ctx, "tcp", d.addr)
	if err != nil {
		return nil, nil, err
	}
	tc := tls.Client(c, d.tls)
	_ = c.SetDeadline(time.Now().Add(d.timeout))
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("tls: %w", err)
	}
	return tc, c.(*net.TCPConn), nil
}
