package parser

import (
	"errors"
	"strconv"
)

// Error is a parse failure together with its wire meaning: the HTTP status to
// answer and a reason fit for the response body. The connection must be
// closed after answering, since the framing of what follows is unknown.
//
// The package returns only package-level *Error values, so failing costs no
// allocation; compare with == or errors.As.
type Error struct {
	Status int
	Reason string
}

func (e *Error) Error() string {
	return "parser: " + strconv.Itoa(e.Status) + " " + e.Reason
}

var (
	// ErrIncomplete means the input ends before the unit being parsed does:
	// read more and call again with the longer buffer.
	ErrIncomplete = errors.New("parser: incomplete input")
	// ErrPreface means the buffer starts with the complete HTTP/2
	// prior-knowledge connection preface (RFC 9113 §3.4); the caller switches
	// the connection to HTTP/2 and feeds it the same bytes.
	ErrPreface = errors.New("parser: HTTP/2 connection preface")
)

func badRequest(reason string) *Error { return &Error{Status: 400, Reason: reason} }

// Request line (RFC 9112 §3).
var (
	errLeadingEmptyLines = badRequest("too many empty lines before the request-line (RFC 9112 §2.2)")
	errMethod            = badRequest("method is not a token (RFC 9112 §3.1, RFC 9110 §9.1)")
	errRequestLine       = badRequest("request-line is not exactly method SP request-target SP HTTP-version (RFC 9112 §3)")
	errTargetChar        = badRequest("request-target contains a character not allowed in a URI (RFC 9112 §3.2, RFC 3986)")
	errTargetForm        = badRequest("request-target is not origin-form or absolute-form (RFC 9112 §3.2)")
	errAsteriskForm      = badRequest("asterisk-form request-target is only allowed with OPTIONS (RFC 9112 §3.2.4)")
	errAuthorityForm     = badRequest("CONNECT requires an authority-form request-target host:port (RFC 9112 §3.2.3)")
	errAbsoluteForm      = badRequest("absolute-form request-target has no valid authority (RFC 9112 §3.2.2, RFC 9110 §4.2.1)")
	errUserinfo          = badRequest("request-target carries userinfo, which http(s) URIs must not (RFC 9110 §4.2.4)")
	errVersion           = badRequest("HTTP-version is malformed; expected HTTP/DIGIT.DIGIT (RFC 9112 §2.3)")
	errVersionNotSupp    = &Error{Status: 505, Reason: "only HTTP/1.0 and HTTP/1.1 are supported (RFC 9110 §15.6.6)"}
	errURITooLong        = &Error{Status: 414, Reason: "request-line is longer than the server accepts (RFC 9112 §3, RFC 9110 §15.5.15)"}
)

// Line framing (RFC 9112 §2.2).
var (
	errBareCR = badRequest("bare CR not followed by LF (RFC 9112 §2.2)")
	errBareLF = badRequest("line terminated by bare LF instead of CRLF (RFC 9112 §2.2)")
)

// Field lines (RFC 9112 §5).
var (
	errObsFold         = badRequest("obsolete line folding (field line starting with whitespace) is not accepted (RFC 9112 §5.2)")
	errWSBeforeFirst   = badRequest("whitespace between the request-line and the first field line (RFC 9112 §2.2)")
	errFieldNameWS     = badRequest("header field name contains whitespace before the colon (RFC 9112 §5.1)")
	errFieldNameEmpty  = badRequest("header field name is empty (RFC 9110 §5.1)")
	errNoColon         = badRequest("field line has no colon (RFC 9112 §5)")
	errFieldNameChar   = badRequest("header field name contains a character that is not a tchar (RFC 9110 §5.1, §5.6.2)")
	errFieldValueChar  = badRequest("header field value contains a control character (RFC 9110 §5.5)")
	errTooManyHeaders  = &Error{Status: 431, Reason: "too many header fields (RFC 6585 §5)"}
	errHeaderTooLarge  = &Error{Status: 431, Reason: "request header section is larger than the server accepts (RFC 6585 §5)"}
	errHostMissing     = badRequest("HTTP/1.1 request without a Host header field (RFC 9112 §3.2)")
	errHostRepeated    = badRequest("more than one Host header field (RFC 9112 §3.2)")
	errHostInvalid     = badRequest("Host header field value is not a valid uri-host[:port] (RFC 9112 §3.2, RFC 9110 §7.2)")
	errCLInvalid       = badRequest("Content-Length is not a non-negative decimal integer (RFC 9110 §8.6)")
	errCLDiffering     = badRequest("Content-Length carries differing values (RFC 9110 §8.6, RFC 9112 §6.3)")
	errCLAndTE         = badRequest("Content-Length together with Transfer-Encoding (RFC 9112 §6.1, §6.3)")
	errBodyTooLarge    = &Error{Status: 413, Reason: "request body is larger than the server accepts (RFC 9110 §15.5.14)"}
	errTEHTTP10        = badRequest("Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1)")
	errTEEmpty         = badRequest("Transfer-Encoding lists no transfer coding (RFC 9112 §6.1)")
	errTEChunkedNotEnd = badRequest("chunked is not the final transfer coding, or is applied more than once (RFC 9112 §6.1, §6.3)")
	errTEChunkedParams = badRequest("the chunked transfer coding takes no parameters (RFC 9112 §7)")
	errTEToken         = badRequest("Transfer-Encoding element is not a transfer coding token (RFC 9112 §6.1)")
	errTEUnknown       = &Error{Status: 501, Reason: "transfer coding not implemented; only chunked is understood (RFC 9112 §6.1)"}
)

// Chunked body (RFC 9112 §7.1).
var (
	errChunkSizeEmpty    = badRequest("chunk-size is empty (RFC 9112 §7.1)")
	errChunkSizeChar     = badRequest("chunk-size is not hexadecimal (RFC 9112 §7.1)")
	errChunkSizeOverflow = badRequest("chunk-size has more than 16 hex digits or overflows int64 (RFC 9112 §7.1)")
	errChunkExt          = badRequest("chunk extension is malformed (RFC 9112 §7.1.1)")
	errChunkExtTooLong   = badRequest("chunk extensions are longer than the server accepts (RFC 9112 §7.1.1)")
	errChunkDataCRLF     = badRequest("chunk data is not followed by CRLF (RFC 9112 §7.1)")
	errTrailerTooLarge   = &Error{Status: 431, Reason: "trailer section is larger than the server accepts (RFC 9112 §7.1.2)"}
	errTrailerField      = badRequest("trailer field line is malformed (RFC 9112 §7.1.2, §5)")
)
