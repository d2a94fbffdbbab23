package transfer

import (
	"context"
	"errors"
	"time"

	"github.com/sipagent/sipagent/sip"
	"github.com/sipagent/sipagent/sip/sdp"
)

// carryHold keeps to's direction the mirror of from's: when from holds
// us (we only receive from it), to is sent to and not heard (sendonly);
// sendrecv takes both off hold. It looks at from's state when the bridge
// is joined and after each re-INVITE from it, and always offers the
// latest state, so a hold and a quick resume cannot arrive out of order;
// a re-INVITE of to's own in progress is waited out.
func (b *bridgeCall) carryHold(ctx context.Context, from, to *sip.Call) {
	kick := make(chan struct{}, 1)
	kick <- struct{}{} // from may be on hold already
	from.OnReinvite(func(sdp.Direction) {
		select {
		case kick <- struct{}{}:
		default:
		}
	})
	defer from.OnReinvite(nil)
	for {
		select {
		case <-ctx.Done():
			return
		case <-kick:
		}
		for attempt := 1; ; attempt++ {
			want := from.Direction().Reverse()
			err := to.Reoffer(ctx, want)
			if err == nil || ctx.Err() != nil {
				break
			}
			if !errors.Is(err, sip.ErrInvitePending) || attempt == holdAttempts {
				b.log.Info("hold not carried across the bridge", "direction", string(want), "error", err)
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
			}
		}
	}
}

// holdAttempts bounds the tries to carry one change of hold while the
// other leg has an INVITE of its own in progress.
const holdAttempts = 5
