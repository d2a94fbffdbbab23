package transfer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/sip"
)

// errSecure refuses ;secure=true targets: the media layer has no SRTP,
// and dialling in the clear what was asked to be secret is worse than
// not dialling.
var errSecure = errors.New("transfer: secure (SRTP) targets are not supported")

// bridge places a call to t and relays audio between it and c, as TwiML
// <Dial><Sip> does, until either side hangs up, t's time limit passes, or
// (hangupOnStar) the caller presses *. The audio goes through each leg's
// codec, so legs with different codecs (PCMU, PCMA) are transcoded.
func (s *Service) bridge(ctx context.Context, c *sip.Call, t Target) (agent.TransferResult, error) {
	if t.Secure {
		return agent.TransferResult{Status: "failed"}, errSecure
	}
	if t.Transport == TransportTLS {
		return agent.TransferResult{Status: "failed"}, fmt.Errorf("transfer: %s: tls targets are not supported yet", t.String())
	}
	ended := make(chan time.Duration, 1)
	leg := agent.AgentFunc(func(bctx context.Context, b agent.Call) error {
		start := time.Now()
		relay(bctx, ctx, c, b, t)
		ended <- time.Since(start)
		return nil // the target's leg ends with BYE
	})
	log := s.log.With("call_id", c.Info().CallID, "target", t.String())
	log.Info("bridging: calling the target")
	_, err := c.Server().DialURI(ctx, dialRequest(t), leg)
	if err != nil {
		res := dialFailure(err)
		log.Info("bridge not established", "status", res.Status, "sip_code", res.SIPCode, "error", err)
		return res, nil
	}
	d := <-ended
	log.Info("bridge ended", "duration", d.Round(time.Millisecond))
	return agent.TransferResult{Status: "completed", SIPCode: 200}, nil
}

// dialFailure maps a failed dial onto DialCallStatus words.
func dialFailure(err error) agent.TransferResult {
	var de *sip.DialError
	if !errors.As(err, &de) {
		return agent.TransferResult{Status: "failed"}
	}
	switch de.Code {
	case 0, 408, 480, 487:
		return agent.TransferResult{Status: "no-answer", SIPCode: de.Code}
	case 486, 600:
		return agent.TransferResult{Status: "busy", SIPCode: de.Code}
	default:
		return agent.TransferResult{Status: "failed", SIPCode: de.Code}
	}
}

// relay copies audio both ways between the caller a and the target b
// until one of them ends, callerCtx ends, the time limit passes or the
// caller presses * with hangupOnStar. Each direction reads 20 ms frames
// as the leg's own jitter buffer releases them and queues them on the
// other leg's paced sender.
func relay(bctx, callerCtx context.Context, a, b agent.Call, t Target) {
	ctx, cancel := context.WithTimeout(bctx, t.TimeLimit)
	defer cancel()
	defer context.AfterFunc(callerCtx, cancel)()
	var wg sync.WaitGroup
	wg.Go(func() { pump(ctx, cancel, a, b) })
	wg.Go(func() { pump(ctx, cancel, b, a) })
	wg.Go(func() { relayDTMF(ctx, cancel, a, b, t.HangupOnStar) })
	wg.Go(func() { relayDTMF(ctx, cancel, b, a, false) })
	wg.Wait()
}

// dtmfSender is a leg that can send key presses (a *sip.Call).
type dtmfSender interface {
	SendDTMF(ctx context.Context, digit rune) error
}

// relayDTMF passes from's key presses to to as RFC 4733 events. With
// hangupOnStar a * ends the bridge instead (TwiML <Dial hangupOnStar>).
func relayDTMF(ctx context.Context, stop context.CancelFunc, from, to agent.Call, hangupOnStar bool) {
	sender, _ := to.(dtmfSender)
	for {
		select {
		case <-ctx.Done():
			return
		case d, ok := <-from.DTMF():
			if !ok {
				return
			}
			if d == '*' && hangupOnStar {
				stop()
				return
			}
			if sender != nil {
				// A leg without telephone-event cannot take it; the key
				// press is dropped, the audio goes on.
				_ = sender.SendDTMF(ctx, d)
			}
		}
	}
}

func pump(ctx context.Context, stop context.CancelFunc, from, to agent.Call) {
	defer stop()
	frame := make([]int16, agent.FrameSamples)
	for {
		n, err := from.ReadAudio(ctx, frame)
		if err != nil {
			return
		}
		if err := to.WriteAudio(ctx, frame[:n]); err != nil {
			return
		}
	}
}

// dialRequest is how the sip layer is asked to call t.
func dialRequest(t Target) sip.DialRequest {
	headers := make([]agent.Header, len(t.Headers))
	for i, h := range t.Headers {
		headers[i] = agent.Header{Name: h.Name, Value: h.Value}
	}
	return sip.DialRequest{
		URI:       t.URI,
		Transport: t.Transport,
		Headers:   headers,
		Username:  t.Username,
		Password:  t.Password,
		CallerID:  t.CallerID,
		Timeout:   t.Timeout,
	}
}
