package probe

import (
	"encoding/json"
	"io"
)

// Report is everything Run learned about one endpoint.
type Report struct {
	URL     string  `json:"url"`
	Address string  `json:"address"` // host:port dialled
	TLS     bool    `json:"tls"`
	Timeout string  `json:"timeout"`
	Probes  []Probe `json:"probes"`
	// Summary flags for scripts; Findings explain them.
	WebSocket        bool      `json:"websocket"`          // the correct handshake got a valid 101
	H2C              bool      `json:"h2c"`                // Upgrade: h2c got 101 and the server's SETTINGS
	H2PriorKnowledge bool      `json:"h2_prior_knowledge"` // the preface got SETTINGS back (over TLS: ALPN h2)
	WebSocketOverH2  bool      `json:"websocket_over_h2"`  // RFC 8441: advertised, 200 to extended CONNECT, ping and close worked
	Findings         []Finding `json:"diagnosis"`
	// Over TLS (https, wss): the version and cipher suite of the first handshake, what
	// each ALPN offer got, and the server's certificate (set even when it failed
	// verification and the probe could not go on).
	TLSVersion  string        `json:"tls_version,omitempty"`
	CipherSuite string        `json:"tls_cipher_suite,omitempty"`
	ALPN        []ALPNOutcome `json:"alpn,omitempty"`
	Certificate *Certificate  `json:"certificate,omitempty"`
}

// Probe is one request on its own connection and what came back.
type Probe struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// Sent is the request line and the header lines that matter to this probe.
	Sent []string `json:"sent"`
	// Error is set when no HTTP response came back (refused, reset, timeout, garbage).
	Error    string    `json:"error,omitempty"`
	Response *Response `json:"response,omitempty"`
	// AfterUpgrade says what the connection did after a 101 (a WebSocket close
	// handshake, or nothing).
	AfterUpgrade string      `json:"after_upgrade,omitempty"`
	H2           *H2Result   `json:"h2,omitempty"`
	H2WebSocket  *H2WSResult `json:"h2_websocket,omitempty"`
	Verdict      Verdict     `json:"verdict"`

	dialErr error // the connection could not be opened
	tls     bool  // the probe ran over TLS
}

// Response is the HTTP/1.x answer to a probe, reduced to the fields that decide upgrades.
type Response struct {
	StatusLine string `json:"status_line"`
	Status     int    `json:"status"`
	Upgrade    string `json:"upgrade,omitempty"`
	Connection string `json:"connection,omitempty"`
	WSVersion  string `json:"sec_websocket_version,omitempty"`
	WSAccept   string `json:"sec_websocket_accept,omitempty"`
	// AcceptCheck is "valid", "missing" or "invalid (want …)" on a WebSocket 101.
	AcceptCheck  string `json:"accept_check,omitempty"`
	WSProtocol   string `json:"sec_websocket_protocol,omitempty"`
	WSExtensions string `json:"sec_websocket_extensions,omitempty"`
	Location     string `json:"location,omitempty"`
	Server       string `json:"server,omitempty"`
	Via          string `json:"via,omitempty"`
	// Body is the first non-empty line of the body of a response of status 300 or more,
	// where servers explain a refusal.
	Body string `json:"body_first_line,omitempty"`
}

// H2Result is what an HTTP/2 connection showed once it started (after a 101 to h2c, after
// the preface, or after ALPN chose h2).
type H2Result struct {
	ALPN             string   `json:"alpn,omitempty"` // TLS only: the protocol ALPN chose
	SettingsReceived bool     `json:"settings_received"`
	Settings         []string `json:"settings,omitempty"` // NAME=value as the server sent them
	Frames           []string `json:"frames,omitempty"`   // frame types in order of arrival
	Status           string   `json:":status,omitempty"`  // stream 1's response
	GoAway           string   `json:"goaway,omitempty"`   // error code and debug data
	Error            string   `json:"error,omitempty"`    // why reading stopped early
}

// Verdict levels.
const (
	LevelOK   = "ok"   // what a working endpoint does
	LevelInfo = "info" // a fact about the endpoint, neither good nor bad
	LevelWarn = "warn" // works, but not as the RFCs ask
	LevelFail = "fail" // the probe's protocol does not work here
)

// Verdict judges one probe. Code is stable, for scripts; Text explains it.
type Verdict struct {
	Level string `json:"level"`
	Code  string `json:"code"`
	Text  string `json:"text"`
}

// Finding is one line of the overall diagnosis. Code is stable, for scripts.
type Finding struct {
	Code string `json:"code"`
	Text string `json:"text"`
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// Probe returns the probe with the given ID, or nil.
func (r *Report) Probe(id string) *Probe {
	for i := range r.Probes {
		if r.Probes[i].ID == id {
			return &r.Probes[i]
		}
	}
	return nil
}

// HasFinding reports whether the diagnosis includes code.
func (r *Report) HasFinding(code string) bool {
	return r.Finding(code) != nil
}

// Finding returns the finding with the given code, or nil.
func (r *Report) Finding(code string) *Finding {
	for i := range r.Findings {
		if r.Findings[i].Code == code {
			return &r.Findings[i]
		}
	}
	return nil
}
