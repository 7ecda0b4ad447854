package h2

import (
	"encoding/base64"

	"github.com/switchyard-dev/switchyard/parser"
)

// DecodeHTTP2SettingsHeader decodes the HTTP2-Settings header field of an
// h2c upgrade request (RFC 7540 §3.2.1; RFC 9113 §3.1 dropped the upgrade
// but clients still send it) and applies its parameters to s, as a SETTINGS
// frame received first on the connection would be. On error s is unchanged
// and the server should not upgrade.
//
// The value is the SETTINGS payload in base64url "with any trailing '='
// characters omitted". A payload is a whole number of 6-octet parameters,
// which base64 encodes as whole 8-character groups, so a correct value never
// has padding: '=' is rejected along with the standard alphabet's '+' and
// '/'. Surrounding spaces and tabs are trimmed. An empty value means no
// parameters.
//
// It does not allocate: each 8-character group decodes into one parameter
// on the stack, so the value's length needs no bound of its own beyond the
// HTTP/1.1 parser's header limit.
func DecodeHTTP2SettingsHeader(value []byte, s *Settings) error {
	value = parser.TrimOWS(value)
	for _, c := range value {
		if !isBase64URL(c) {
			return errSettingsBase64
		}
	}
	if len(value)%8 != 0 {
		if len(value)%4 == 1 { // no base64 string has this length
			return errSettingsBase64
		}
		return errSettingsB64Len
	}
	next := *s
	var p [6]byte
	for ; len(value) > 0; value = value[8:] {
		if _, err := base64.RawURLEncoding.Decode(p[:], value[:8]); err != nil {
			return errSettingsBase64
		}
		st := Setting{
			ID:  SettingID(uint16(p[0])<<8 | uint16(p[1])),
			Val: be32(p[2:]),
		}
		if err := next.ApplySetting(st); err != nil {
			return err
		}
	}
	*s = next
	return nil
}

func isBase64URL(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}
