package sip

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/sipagent/sipagent/sip/sdp"
)

// reofferTimeout bounds a re-INVITE sipagent sends when the context has
// no deadline.
const reofferTimeout = 10 * time.Second

// ErrInvitePending is returned by Reoffer while another INVITE of the
// call is in progress (RFC 3261 s.14.1: one at a time per dialog).
var ErrInvitePending = errors.New("sip: an INVITE of this call is in progress")

// Reoffer renegotiates the call's media with a re-INVITE offering
// direction dir, as a B2BUA does to put the other leg of a bridge on
// hold (sendonly or inactive, RFC 3264 s.8.4) or take it off (sendrecv),
// and applies the answer. The codec in use is offered first, so it
// stays. Offering the direction already in force does nothing. A
// failure (491, no answer, another INVITE in progress) leaves the media
// as it was.
func (c *Call) Reoffer(ctx context.Context, dir sdp.Direction) error {
	if !c.Answered() {
		return ErrInvitePending
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, reofferTimeout)
		defer cancel()
	}
	c.mu.Lock()
	if c.neg.Direction == dir {
		c.mu.Unlock()
		return nil // nothing to change
	}
	if c.reinviteAck != nil || c.awaitingAnswer || c.reoffering {
		c.mu.Unlock()
		return ErrInvitePending
	}
	c.reoffering = true
	prefs := preferFirst(c.srv.cfg.Codecs, c.neg.Codec)
	offer := c.versioned(func(l sdp.Local) []byte { return sdp.Offer(prefs, l, dir) })
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.reoffering = false
		c.mu.Unlock()
	}()

	req := c.srv.newRequest(sip.INVITE, c.remoteTarget(), c.ep)
	ct := c.srv.contact(c.ep)
	req.AppendHeader(&ct)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offer)
	tx, err := c.dlg.TransactionRequest(ctx, req)
	if err != nil {
		return fmt.Errorf("sip: re-INVITE: %w", err)
	}
	res, err := finalResponse(ctx, tx)
	if err != nil {
		return fmt.Errorf("sip: re-INVITE: %w", err)
	}
	if !res.IsSuccess() {
		return fmt.Errorf("sip: re-INVITE refused: %d %s", res.StatusCode, res.Reason)
	}
	// RFC 3261 s.13.2.2.4: every 2xx is ACKed, even one whose answer we
	// cannot use; then the media stays as it was.
	c.ackReoffer(req, res)
	m, err := sdp.ParseAnswer(res.Body(), c.offeredCodecs())
	if err != nil {
		return fmt.Errorf("sip: re-INVITE answer: %w", err)
	}
	c.mu.Lock()
	c.neg = m
	c.info.Codec = m.Codec.Name
	c.mu.Unlock()
	if err := c.sess.Update(mediaUpdate(m)); err != nil {
		return fmt.Errorf("sip: re-INVITE answer: %w", err)
	}
	c.log.Info("media renegotiated", "direction", string(m.Direction), "codec", m.Codec.Name)
	return nil
}

// ackReoffer sends the ACK for the 2xx to our re-INVITE: a new
// transaction with the INVITE's CSeq number (RFC 3261 s.13.2.2.4).
func (c *Call) ackReoffer(inv *sip.Request, res *sip.Response) {
	ack := c.srv.newRequest(sip.ACK, c.remoteTarget(), c.ep)
	ack.AppendHeader(sip.HeaderClone(inv.From()))
	ack.AppendHeader(sip.HeaderClone(res.To()))
	ack.AppendHeader(sip.HeaderClone(inv.CallID()))
	for _, h := range inv.GetHeaders("Route") {
		ack.AppendHeader(sip.HeaderClone(h))
	}
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.ACK})
	maxFwd := sip.MaxForwardsHeader(70)
	ack.AppendHeader(&maxFwd)
	ack.SetDestination(inv.Destination())
	if err := c.srv.client.WriteRequest(ack); err != nil {
		c.log.Info("ACK of re-INVITE not sent", "error", err)
	}
}

// Direction returns the call's media direction as negotiated, ours: the
// answer we gave the far end's last offer, or what its answer to ours
// left us.
func (c *Call) Direction() sdp.Direction {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.neg.Direction
}

// OnReinvite sets f to be told the call's new media direction (ours, as
// in our answer) after each re-INVITE from the far end that changes
// it; nil removes it. A bridge uses it to carry hold across to the other
// leg. f runs in a goroutine of its own.
func (c *Call) OnReinvite(f func(ours sdp.Direction)) {
	c.mu.Lock()
	c.onReinvite = f
	c.mu.Unlock()
}
