package sip

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipagent/sipagent/agent"
)

// referInTimeout bounds the whole of an incoming transfer: ringing the
// target and telling the far end how it went.
const referInTimeout = 60 * time.Second

// onRefer handles a REFER from the far end of a call (RFC 3515): a PBX
// moving the call, or a caller transferring it. sipagent places the call
// to the Refer-To target itself, runs the same agent on it, reports
// progress with NOTIFY, and ends the old call once the new one is up.
func (s *Server) onRefer(req *sip.Request, tx sip.ServerTransaction) {
	if c := s.inDialog(req, tx); c != nil {
		c.referIn(req, tx)
	}
}

func (c *Call) referIn(req *sip.Request, tx sip.ServerTransaction) {
	refuse := func(code int, reason, why string) {
		c.log.Info("incoming REFER refused", "status", code, "why", why)
		respond(c.log, tx, newResponse(req, code, reason, nil))
	}
	// Only callers sipagent let in by address or credentials may move a
	// call: nobody else makes sipagent dial anywhere.
	switch c.info.Caller.Kind {
	case agent.CallerPeer, agent.CallerAccount, agent.CallerUser:
	default:
		refuse(403, "Forbidden", "the far end is not a trusted peer or an authenticated user")
		return
	}
	t := c.srv.cfg.Transferrer
	if t == nil {
		refuse(405, "Method Not Allowed", "no transfer service is configured")
		return
	}
	h := req.GetHeader("Refer-To")
	if h == nil || len(req.GetHeaders("Refer-To")) != 1 {
		refuse(400, "Bad Request", "a REFER needs exactly one Refer-To (RFC 3515 s.2.4.1)")
		return
	}
	dial, err := t.ReferTarget(h.Value())
	if err != nil {
		refuse(403, "Forbidden", err.Error())
		return
	}
	if err := c.dlg.ReadRequest(req, tx); err != nil {
		respondErr(c.log, req, tx, statusErr(500, "Server Internal Error", err, sip.NewHeader("Retry-After", "1")))
		return
	}
	respond(c.log, tx, newResponse(req, 202, "Accepted", nil))
	c.log.Info("incoming REFER accepted", "target", dial.URI.String())
	go c.followReferIn(dial)
}

// followReferIn places the referred call and reports it with NOTIFYs
// carrying message/sipfrag status lines (RFC 3515 s.2.4.5).
func (c *Call) followReferIn(dial DialRequest) {
	ctx, cancel := context.WithTimeout(context.Background(), referInTimeout)
	defer cancel()
	defer context.AfterFunc(c.srv.drainCtx, cancel)()
	c.sendReferNotify(ctx, 100, "Trying", false)
	_, err := c.srv.DialURI(ctx, dial, c.agent)
	if err != nil {
		code, reason := 503, "Service Unavailable"
		var de *DialError
		if errors.As(err, &de) && de.Code != 0 {
			code, reason = de.Code, de.Reason
		} else if ctx.Err() != nil {
			code, reason = 408, "Request Timeout"
		}
		c.log.Info("referred call failed", "status", code, "error", err)
		c.sendReferNotify(ctx, code, reason, true)
		return
	}
	c.sendReferNotify(ctx, 200, "OK", true)
	c.hangup("transferred by the far end")
}

func (c *Call) sendReferNotify(ctx context.Context, code int, reason string, final bool) {
	req := c.srv.newRequest(sip.NOTIFY, c.remoteTarget(), c.ep)
	req.AppendHeader(sip.NewHeader("Event", "refer"))
	state := "active;expires=60"
	if final {
		state = "terminated;reason=noresource"
	}
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	req.AppendHeader(sip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
	req.SetBody([]byte(fmt.Sprintf("SIP/2.0 %d %s\r\n", code, strings.TrimSpace(reason))))
	if _, err := c.do(ctx, req); err != nil {
		c.log.Debug("NOTIFY not answered", "error", err)
	}
}
