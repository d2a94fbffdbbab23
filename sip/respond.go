package sip

import (
	"log/slog"
	"strings"

	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"
)

// allowedMethods is what the Allow header advertises (RFC 3261 s.20.5);
// REGISTER is added when the registrar serves users. NOTIFY serves the
// subscriptions of our REFERs, REFER moves a call (RFC 3515). UPDATE is left out: sipagent does not implement it (RFC 3311).
const allowedMethods = "INVITE, ACK, BYE, CANCEL, OPTIONS, NOTIFY, REFER"

// knownMethods are methods sipagent recognises but does not allow: they
// get 405 with Allow; anything else gets 501 (RFC 3261 s.8.2.1).
var knownMethods = map[sip.RequestMethod]bool{
	sip.REGISTER: true, sip.SUBSCRIBE: true, sip.NOTIFY: true, sip.REFER: true,
	sip.MESSAGE: true, sip.INFO: true, sip.PRACK: true, sip.UPDATE: true, sip.PUBLISH: true,
}

// newResponse builds a response to req. Final responses other than 100
// get a To tag when the request had none (RFC 3261 s.8.2.6.2).
func newResponse(req *sip.Request, code int, reason string, body []byte, hdrs ...sip.Header) *sip.Response {
	res := sip.NewResponseFromRequest(req, code, reason, body)
	if code > 100 {
		if to := res.To(); to != nil {
			if _, ok := to.Params.Get("tag"); !ok {
				to.Params.Add("tag", newTag())
			}
		}
	}
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	return res
}

func newTag() string {
	return strings.ReplaceAll(uuid.NewString(), "-", "")[:16]
}

// respond sends a response and logs a failure to send it; there is
// nothing more a server can do about a response that cannot be sent.
func respond(log *slog.Logger, tx sip.ServerTransaction, res *sip.Response) {
	if err := tx.Respond(res); err != nil {
		log.Debug("sending response failed", "status", res.StatusCode, "error", err)
	}
}

// respondErr answers req with the response err calls for.
func respondErr(log *slog.Logger, req *sip.Request, tx sip.ServerTransaction, err error) {
	se := asStatus(err)
	respond(log, tx, newResponse(req, se.Code, se.Reason, nil, se.Headers...))
}

// respondNoDialog answers a request that matches no dialog or transaction.
func respondNoDialog(log *slog.Logger, req *sip.Request, tx sip.ServerTransaction) {
	respond(log, tx, newResponse(req, 481, "Call/Transaction Does Not Exist", nil))
}

func allowHeader() sip.Header { return sip.NewHeader("Allow", allowedMethods) }

func (s *Server) allowHeader() sip.Header { return sip.NewHeader("Allow", s.allow) }
