package sip

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// DefaultReferTimeout bounds how long Refer waits for the outcome when
// its context has no deadline: the far end has to reach the target and
// the target has to answer.
const DefaultReferTimeout = 60 * time.Second

// ErrReferPending is returned by Refer while another transfer of the
// same call is in progress.
var ErrReferPending = errors.New("sip: a transfer of this call is already in progress")

// ReferResult is how a blind transfer ended, in the words of TwiML's
// <Refer> callback (ReferCallStatus, ReferSipResponseCode,
// NotifySipResponseCode).
type ReferResult struct {
	// Status is completed (the target answered), busy, no-answer,
	// failed, or canceled (the call ended before the outcome was known).
	Status string
	// ReferCode is the final response to the REFER, 0 if none came.
	ReferCode int
	// NotifyCode is the status line of the last NOTIFY's sipfrag: the
	// target's answer to the far end's INVITE. 0 if no NOTIFY came.
	NotifyCode int
}

// referProgress is one NOTIFY of a REFER's implicit subscription.
type referProgress struct {
	code       int  // the sipfrag's status code, 0 if unreadable
	terminated bool // Subscription-State: terminated
}

// Refer asks the far end to call referTo, a URI as Refer-To carries it
// (headers for the new INVITE may ride in it, RFC 3515 s.2.1), and
// follows the implicit subscription's NOTIFYs (message/sipfrag, RFC 3515
// s.2.4.5) until the target's final answer. It does not end the call: on
// success the caller ends it (the far end may hang up first).
func (c *Call) Refer(ctx context.Context, referTo string) (ReferResult, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultReferTimeout)
		defer cancel()
	}
	progress := make(chan referProgress, 16)
	c.mu.Lock()
	if c.referProgress != nil {
		c.mu.Unlock()
		return ReferResult{Status: "failed"}, ErrReferPending
	}
	// Set before the REFER goes out: the first NOTIFY may overtake the
	// 202 (RFC 3515 s.2.4.4).
	c.referProgress = progress
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.referProgress = nil
		c.mu.Unlock()
	}()

	if !strings.HasPrefix(referTo, "<") {
		referTo = "<" + referTo + ">"
	}
	req := c.srv.newRequest(sip.REFER, c.remoteTarget(), c.ep)
	req.AppendHeader(sip.NewHeader("Refer-To", referTo))
	// RFC 3892: who asked; the target sees it in the new INVITE.
	us := c.srv.contact(c.ep).Address
	req.AppendHeader(sip.NewHeader("Referred-By", "<"+us.String()+">"))
	res, err := c.do(ctx, req)
	switch {
	case err != nil && c.ended():
		return ReferResult{Status: "canceled"}, nil
	case err != nil:
		c.log.Info("REFER not answered", "error", err)
		return ReferResult{Status: "failed"}, nil
	case !res.IsSuccess():
		c.log.Info("REFER refused", "status", res.StatusCode, "reason", res.Reason)
		return ReferResult{Status: "failed", ReferCode: res.StatusCode}, nil
	}
	out := ReferResult{ReferCode: res.StatusCode}
	c.log.Info("REFER accepted; following the transfer", "refer_to", referTo, "status", res.StatusCode)
	for {
		select {
		case p := <-progress:
			if p.code != 0 {
				out.NotifyCode = p.code
			}
			if p.code >= 200 || p.terminated {
				out.Status = referStatus(out.NotifyCode)
				c.log.Info("transfer outcome", "status", out.Status, "notify_code", out.NotifyCode)
				return out, nil
			}
		case <-c.done:
			out.Status = "canceled"
			return out, nil
		case <-c.dlg.Context().Done():
			// The far end hung up our leg; a transferee may do that as
			// soon as its new call is up, before the last NOTIFY.
			out.Status = "canceled"
			return out, nil
		case <-ctx.Done():
			c.log.Info("no final NOTIFY for the transfer", "last_code", out.NotifyCode)
			out.Status = "failed"
			return out, nil
		}
	}
}

// referStatus maps the target's final answer onto TwiML's words.
func referStatus(code int) string {
	switch {
	case code >= 200 && code < 300:
		return "completed"
	case code == 486 || code == 600:
		return "busy"
	case code == 408 || code == 480 || code == 487:
		return "no-answer"
	}
	return "failed"
}

// do sends an in-dialog request and returns its final response.
func (c *Call) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	tx, err := c.dlg.TransactionRequest(ctx, req)
	if err != nil {
		return nil, err
	}
	return finalResponse(ctx, tx)
}

// remoteTarget is where in-dialog requests to the far end go: its
// Contact (RFC 3261 s.12.1).
func (c *Call) remoteTarget() sip.Uri {
	if c.cliDlg != nil {
		return remoteTarget(c.cliDlg.InviteRequest, c.cliDlg.InviteResponse)
	}
	return c.srvDlg.InviteRequest.Contact().Address
}

func (c *Call) ended() bool {
	select {
	case <-c.done:
		return true
	case <-c.dlg.Context().Done():
		return true
	default:
		return false
	}
}

// onNotify takes NOTIFYs of a REFER's implicit subscription (RFC 3515
// s.2.4.4); sipagent subscribes to nothing else, so any other NOTIFY gets
// 481 (RFC 6665 s.4.1.3) or 489 Bad Event.
func (s *Server) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	if c := s.inDialog(req, tx); c != nil {
		c.notify(req, tx)
	}
}

func (c *Call) notify(req *sip.Request, tx sip.ServerTransaction) {
	ev := req.GetHeader("Event")
	if ev == nil || !strings.EqualFold(strings.TrimSpace(strings.SplitN(ev.Value(), ";", 2)[0]), "refer") {
		respond(c.log, tx, newResponse(req, 489, "Bad Event", nil, sip.NewHeader("Allow-Events", "refer")))
		return
	}
	c.mu.Lock()
	progress := c.referProgress
	c.mu.Unlock()
	if progress == nil {
		respond(c.log, tx, newResponse(req, 481, "Subscription Does Not Exist", nil))
		return
	}
	if err := c.dlg.ReadRequest(req, tx); err != nil {
		respondErr(c.log, req, tx, statusErr(500, "Server Internal Error", err, sip.NewHeader("Retry-After", "1")))
		return
	}
	code, _ := sipfragStatus(req.Body())
	terminated := false
	if h := req.GetHeader("Subscription-State"); h != nil {
		terminated = strings.EqualFold(strings.TrimSpace(strings.SplitN(h.Value(), ";", 2)[0]), "terminated")
	}
	respond(c.log, tx, newResponse(req, 200, "OK", nil))
	c.log.Debug("transfer progress", "code", code, "terminated", terminated)
	select {
	case progress <- referProgress{code: code, terminated: terminated}:
	default: // a flood of NOTIFYs; the last ones that matter still fit
	}
}

// sipfragStatus reads the status code of a message/sipfrag body's status
// line, "SIP/2.0 200 OK" (RFC 3420).
func sipfragStatus(body []byte) (int, bool) {
	s := strings.TrimLeft(string(body), " \t\r\n")
	rest, ok := strings.CutPrefix(s, "SIP/2.0 ")
	if !ok || len(rest) < 3 {
		return 0, false
	}
	code := 0
	for i := 0; i < 3; i++ {
		d := rest[i]
		if d < '0' || d > '9' {
			return 0, false
		}
		code = code*10 + int(d-'0')
	}
	if code < 100 || (len(rest) > 3 && rest[3] != ' ' && rest[3] != '\r' && rest[3] != '\n') {
		return 0, false
	}
	return code, true
}
