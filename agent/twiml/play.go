package twiml

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/sipagent/sipagent/agent"
	"github.com/sipagent/sipagent/media/audiofile"
)

// Limits of the <Play> cache.
const (
	maxPlayFile    = 16 << 20 // bytes of one file
	maxPlayEntries = 64       // files kept decoded
)

// playCache fetches <Play> URLs once and keeps them decoded at 8 kHz:
// applications play the same prompts on every call.
type playCache struct {
	hook *webhook
	mu   sync.Mutex
	pcm  map[string][]int16
}

func newPlayCache(hook *webhook) *playCache {
	return &playCache{hook: hook, pcm: make(map[string][]int16)}
}

// get returns the audio at u, fetching it if needed (see
// audiofile.Decode for the formats).
func (c *playCache) get(ctx context.Context, u string) ([]int16, error) {
	c.mu.Lock()
	pcm, ok := c.pcm[u]
	c.mu.Unlock()
	if ok {
		return pcm, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", c.hook.userAgent)
	res, err := c.hook.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = res.Body.Close() }()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %s", u, res.Status)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(http.MaxBytesReader(nil, res.Body, maxPlayFile)); err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	pcm, err = audiofile.Decode(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	c.mu.Lock()
	if len(c.pcm) >= maxPlayEntries {
		for k := range c.pcm { // drop any one; prompts are few
			delete(c.pcm, k)
			break
		}
	}
	c.pcm[u] = pcm
	c.mu.Unlock()
	return pcm, nil
}

// prompt plays a Say, Play or Pause to the end (or until ctx ends).
func (s *session) prompt(ctx context.Context, v Verb) error {
	switch v := v.(type) {
	case *Say:
		if s.a.cfg.Synthesizer == nil {
			s.log.Warn("<Say> skipped: no speech synthesizer configured")
			return nil
		}
		pcm, err := s.a.cfg.Synthesizer.Synthesize(ctx, v.Text)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.log.Warn("<Say> failed", "error", err)
			return nil
		}
		return s.loop(ctx, pcm, v.Loop)
	case *Play:
		u, err := resolve(s.docURL, v.URL)
		if err != nil {
			return err
		}
		pcm, err := s.a.play.get(ctx, u)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// Twilio skips a file it cannot play; so does sipagent,
			// rather than end the call.
			s.log.Warn("<Play> skipped", "url", u, "error", err)
			return nil
		}
		return s.loop(ctx, pcm, v.Loop)
	case *Pause:
		return sleep(ctx, v.Length)
	}
	return nil
}

func (s *session) loop(ctx context.Context, pcm []int16, n int) error {
	for range n {
		if err := agent.Play(ctx, s.call, pcm); err != nil {
			return err
		}
	}
	return nil
}
