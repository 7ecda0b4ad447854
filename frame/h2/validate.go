package h2

import (
	"strings"

	"golang.org/x/net/http2/hpack"

	"github.com/switchyard-dev/switchyard/parser"
)

// RequestHead is a validated request header section (RFC 9113 §8.3.1), or
// a validated trailer section, in which case only Fields is set.
type RequestHead struct {
	Method    string
	Scheme    string
	Authority string // empty when absent
	Path      string
	Protocol  string // RFC 8441 :protocol, empty when absent

	// Fields are the regular fields in wire order, names lowercase. The
	// slice is reused by the next block.
	Fields []hpack.HeaderField

	// ContentLength is the content-length field's value, -1 when absent.
	// The connection checks the DATA it receives against it: a mismatch
	// makes the request malformed (RFC 9113 §8.1.1).
	ContentLength int64
}

// Reasons a request is malformed; each names its rule.
const (
	reasonTrailersNoEndStream = "trailers without END_STREAM (RFC 9113 §8.1)"
	reasonPseudoInTrailers    = "pseudo-header field in trailers (RFC 9113 §8.1)"
	reasonPseudoAfterRegular  = "pseudo-header field after a regular field (RFC 9113 §8.3)"
	reasonDuplicatePseudo     = "duplicate pseudo-header field (RFC 9113 §8.3.1)"
	reasonUnknownPseudo       = "unknown pseudo-header field (RFC 9113 §8.3)"
	reasonResponsePseudo      = "response pseudo-header field in a request (RFC 9113 §8.3)"
	reasonMissingMethod       = "missing :method (RFC 9113 §8.3.1)"
	reasonBadMethod           = ":method is not a token (RFC 9110 §9.1)"
	reasonMissingScheme       = "missing :scheme (RFC 9113 §8.3.1)"
	reasonMissingPath         = "missing :path (RFC 9113 §8.3.1)"
	reasonEmptyPath           = "empty :path (RFC 9113 §8.3.1)"
	reasonBadPath             = ":path is neither absolute nor '*' for OPTIONS (RFC 9113 §8.3.1)"
	reasonAuthorityUserinfo   = ":authority with userinfo for http or https (RFC 9113 §8.3.1)"
	reasonHostAuthority       = "host differs from :authority (RFC 9113 §8.3.1)"
	reasonConnectSchemePath   = "CONNECT with :scheme or :path (RFC 9113 §8.5)"
	reasonConnectAuthority    = "CONNECT without :authority (RFC 9113 §8.5)"
	reasonProtocolNotConnect  = ":protocol without CONNECT (RFC 8441 §4)"
	reasonFieldName           = "invalid field name: empty, uppercase or not a token (RFC 9113 §8.2.1)"
	reasonFieldValue          = "invalid field value: NUL, CR, LF or edge whitespace (RFC 9113 §8.2.1)"
	reasonConnectionSpecific  = "connection-specific field (RFC 9113 §8.2.2)"
	reasonTE                  = "te other than \"trailers\" (RFC 9113 §8.2.2)"
	reasonContentLength       = "invalid or conflicting content-length (RFC 9110 §8.6)"
	reasonContentLengthEnd    = "content-length > 0 on a request ended by HEADERS (RFC 9113 §8.1.1)"
)

const (
	pseudoMethod = 1 << iota
	pseudoScheme
	pseudoAuthority
	pseudoPath
	pseudoProtocol
)

// validate fills d.head from d.fields and returns why the block is
// malformed, or "".
func (d *HeaderDecoder) validate() string {
	h := &d.head
	*h = RequestHead{ContentLength: -1}
	fields := d.fields
	if d.trailers {
		if !d.endStream {
			return reasonTrailersNoEndStream
		}
		for i := range fields {
			if isPseudo(fields[i].Name) {
				return reasonPseudoInTrailers
			}
			if r := checkRegular(h, &fields[i], true); r != "" {
				return r
			}
		}
		h.Fields = fields
		return ""
	}

	var seen int
	i := 0
	for ; i < len(fields) && isPseudo(fields[i].Name); i++ {
		f := &fields[i]
		if !validFieldValue(f.Value) {
			return reasonFieldValue
		}
		var bit int
		switch f.Name {
		case ":method":
			bit, h.Method = pseudoMethod, f.Value
		case ":scheme":
			bit, h.Scheme = pseudoScheme, f.Value
		case ":authority":
			bit, h.Authority = pseudoAuthority, f.Value
		case ":path":
			bit, h.Path = pseudoPath, f.Value
		case ":protocol":
			if !d.AllowExtendedConnect {
				return reasonUnknownPseudo
			}
			bit, h.Protocol = pseudoProtocol, f.Value
		case ":status":
			return reasonResponsePseudo
		default:
			return reasonUnknownPseudo
		}
		if seen&bit != 0 {
			return reasonDuplicatePseudo
		}
		seen |= bit
	}
	for j := i; j < len(fields); j++ {
		if isPseudo(fields[j].Name) {
			return reasonPseudoAfterRegular
		}
		if r := checkRegular(h, &fields[j], false); r != "" {
			return r
		}
		// §8.3.1: a host that names another entity than :authority is malformed, so
		// that routing by one and checking by the other cannot disagree. Pseudo-header
		// fields come first, so :authority is known here. Hosts compare
		// case-insensitively (RFC 3986 §3.2.2); ports are compared as sent.
		if fields[j].Name == "host" && seen&pseudoAuthority != 0 && !strings.EqualFold(fields[j].Value, h.Authority) {
			return reasonHostAuthority
		}
	}
	h.Fields = fields[i:]

	if seen&pseudoMethod == 0 {
		return reasonMissingMethod
	}
	if !isToken(h.Method) {
		return reasonBadMethod
	}
	if h.Method == "CONNECT" && seen&pseudoProtocol == 0 {
		// §8.5: only :method and :authority.
		if seen&(pseudoScheme|pseudoPath) != 0 {
			return reasonConnectSchemePath
		}
		if seen&pseudoAuthority == 0 {
			return reasonConnectAuthority
		}
	} else {
		if seen&pseudoProtocol != 0 {
			if h.Method != "CONNECT" {
				return reasonProtocolNotConnect
			}
			if seen&pseudoAuthority == 0 { // RFC 8441 §4
				return reasonConnectAuthority
			}
		}
		if seen&pseudoScheme == 0 {
			return reasonMissingScheme
		}
		if seen&pseudoPath == 0 {
			return reasonMissingPath
		}
		if h.Path == "" {
			return reasonEmptyPath
		}
		if h.Scheme == "http" || h.Scheme == "https" {
			if h.Path[0] != '/' && !(h.Path == "*" && h.Method == "OPTIONS") {
				return reasonBadPath
			}
			if strings.IndexByte(h.Authority, '@') >= 0 {
				return reasonAuthorityUserinfo
			}
		}
	}
	if h.ContentLength > 0 && d.endStream {
		return reasonContentLengthEnd
	}
	return ""
}

// checkRegular applies the rules for every regular field (RFC 9113 §8.2)
// and records content-length.
func checkRegular(h *RequestHead, f *hpack.HeaderField, trailers bool) string {
	if !validFieldName(f.Name) {
		return reasonFieldName
	}
	if !validFieldValue(f.Value) {
		return reasonFieldValue
	}
	switch f.Name {
	case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
		return reasonConnectionSpecific
	case "te":
		if !strings.EqualFold(f.Value, "trailers") {
			return reasonTE
		}
	case "content-length":
		if trailers {
			return "" // meaningless after the content; not ours to police
		}
		n, ok := parseContentLength(f.Value)
		if !ok || (h.ContentLength >= 0 && h.ContentLength != n) {
			return reasonContentLength
		}
		h.ContentLength = n
	}
	return ""
}

func isPseudo(name string) bool { return len(name) > 0 && name[0] == ':' }

// parseContentLength accepts 1*DIGIT (RFC 9110 §8.6) that fits an int64.
func parseContentLength(s string) (int64, bool) {
	if s == "" || len(s) > 18 { // 18 digits cannot overflow int64
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// tokenLower marks the octets allowed in an HTTP/2 field name: RFC 9110
// tchar without uppercase (RFC 9113 §8.2.1 forbids uppercase outright, and
// field names are tokens, RFC 9110 §5.1).
var tokenLower, token [256]bool

func init() {
	for c := 0; c < 256; c++ {
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", byte(c)) >= 0
		token[c] = ok
		tokenLower[c] = ok && !('A' <= c && c <= 'Z')
	}
}

func validFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenLower[s[i]] {
			return false
		}
	}
	return true
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !token[s[i]] {
			return false
		}
	}
	return true
}

// validFieldValue applies RFC 9113 §8.2.1: no NUL, CR or LF anywhere, no
// SP or HTAB at either end.
func validFieldValue(s string) bool {
	if s == "" {
		return true
	}
	if parser.IsOWS(s[0]) || parser.IsOWS(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 0, '\r', '\n':
			return false
		}
	}
	return true
}
