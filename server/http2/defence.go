package http2

import (
	"time"

	"github.com/switchyard-dev/switchyard/frame/h2"
)

// defence holds the per-connection counters that bound abuse that is valid HTTP/2 frame
// by frame (RFC 9113 §10.5): rapid reset (CVE-2023-44487) and its MadeYouReset form
// (CVE-2025-8671), floods of frames that cost work without carrying a request
// (CVE-2019-9512/9515/9518: PING, SETTINGS, empty DATA, ...) and a client that makes the
// server queue replies it never reads.
type defence struct {
	// resets counts, in the current window of streams, the streams reset by the client
	// (RST_STREAM) and those the server reset for a stream error the client caused.
	resets     int
	window     int   // streams opened in the current window
	ctrl       int   // control frames in the current second
	ctrlSecond int64 // the second ctrl counts
}

var (
	errRapidReset   = h2.ConnectionError{Code: h2.ErrCodeEnhanceYourCalm, Reason: "too many streams reset by the client (rapid reset)"}
	errMadeYouReset = h2.ConnectionError{Code: h2.ErrCodeEnhanceYourCalm, Reason: "too many stream errors caused by the client (MadeYouReset)"}
	errControlFlood = h2.ConnectionError{Code: h2.ErrCodeEnhanceYourCalm, Reason: "too many control frames"}
	errReplyBacklog = h2.ConnectionError{Code: h2.ErrCodeEnhanceYourCalm, Reason: "the client does not read the replies to its frames"}
)

// replyBacklog is how many bytes may wait in the socket's send path before a frame that
// demands a reply (PING, SETTINGS) is refused: the client is not reading.
const replyBacklog = 4 << 20

// newRead is called once per read, after h.readAt was read.
func (d *defence) newRead(h *h2Conn) {
	sec := h.readAt / int64(time.Second)
	if sec != d.ctrlSecond {
		d.ctrlSecond, d.ctrl = sec, 0
	}
}

// opened counts a new stream; every ResetWindow streams the reset count starts over.
func (d *defence) opened(h *h2Conn) {
	d.window++
	if d.window >= h.cfg.ResetWindow {
		d.window, d.resets = 0, 0
	}
}

// reset counts a RST_STREAM from the client.
func (d *defence) reset(h *h2Conn) error {
	d.resets++
	if d.resets > h.cfg.ResetLimit {
		return errRapidReset
	}
	return d.control(h)
}

// provoked counts a RST_STREAM the server sent for a stream error (§5.4.2) the client
// caused: a WINDOW_UPDATE of 0, DATA on a half-closed stream, a malformed PRIORITY...
// Such a reset closes the stream as the client's own RST_STREAM would, so a client could
// cancel requests with it past the rapid-reset budget (MadeYouReset, CVE-2025-8671):
// both draw on the same budget, as nghttp2 also counts the resets it sends since then.
// The server's own CANCELs (a timeout, a WebSocket's abnormal end) are not the client's
// doing and do not count. Serve checks the budget after each frame (resetBudget).
func (d *defence) provoked() { d.resets++ }

// resetBudget ends the connection once the streams reset in the window exceed the budget.
func (d *defence) resetBudget(h *h2Conn) error {
	if d.resets > h.cfg.ResetLimit {
		return errMadeYouReset
	}
	return nil
}

// control counts a frame that carries no request.
func (d *defence) control(h *h2Conn) error {
	d.ctrl++
	if d.ctrl > h.cfg.MaxControlFrames {
		return errControlFlood
	}
	return nil
}

// ack applies both checks to a control frame the server must acknowledge (SETTINGS, PING).
func (d *defence) ack(h *h2Conn) error {
	if err := d.control(h); err != nil {
		return err
	}
	return d.reply(h)
}

// reply checks, before queuing an ACK, that the client reads what it is sent.
func (d *defence) reply(h *h2Conn) error {
	if h.c.Unsent() > replyBacklog {
		return errReplyBacklog
	}
	return nil
}
