package speech

import (
	"container/list"
	"context"
	"errors"
	"slices"
	"sync"
)

// DefaultCacheSize is the number of prompts a Cache keeps when given no
// size.
const DefaultCacheSize = 64

// Cache is a Synthesizer that remembers the speech of the most recently
// used texts, so a prompt said on every call is synthesized once.
// Concurrent requests for the same text share one synthesis. Failures are
// not remembered.
type Cache struct {
	synth Synthesizer
	size  int

	mu       sync.Mutex
	entries  map[string]*list.Element // values are *cacheEntry
	recent   *list.List               // most recently used first
	inflight map[string]*synthesis
}

var _ Synthesizer = (*Cache)(nil)

type cacheEntry struct {
	text string
	pcm  []int16
}

// synthesis is a Synthesize call that others may wait for.
type synthesis struct {
	done chan struct{} // closed when pcm and err are set
	pcm  []int16
	err  error
}

// NewCache returns a Cache of up to size texts in front of synth. A size
// of 0 or less means DefaultCacheSize.
func NewCache(synth Synthesizer, size int) *Cache {
	if size <= 0 {
		size = DefaultCacheSize
	}
	return &Cache{
		synth:    synth,
		size:     size,
		entries:  make(map[string]*list.Element),
		recent:   list.New(),
		inflight: make(map[string]*synthesis),
	}
}

// Synthesize returns the speech for text, from the cache when it can. The
// caller owns the returned slice.
func (c *Cache) Synthesize(ctx context.Context, text string) ([]int16, error) {
	for {
		c.mu.Lock()
		if el, ok := c.entries[text]; ok {
			c.recent.MoveToFront(el)
			pcm := el.Value.(*cacheEntry).pcm
			c.mu.Unlock()
			return slices.Clone(pcm), nil
		}
		if s, ok := c.inflight[text]; ok {
			c.mu.Unlock()
			select {
			case <-s.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if s.err == nil {
				return slices.Clone(s.pcm), nil
			}
			// A synthesis abandoned by its own caller says nothing
			// about this one: try again.
			if isContextErr(s.err) && ctx.Err() == nil {
				continue
			}
			return nil, s.err
		}
		s := &synthesis{done: make(chan struct{})}
		c.inflight[text] = s
		c.mu.Unlock()

		s.pcm, s.err = c.synth.Synthesize(ctx, text)
		c.mu.Lock()
		delete(c.inflight, text)
		if s.err == nil {
			c.add(text, s.pcm)
		}
		c.mu.Unlock()
		close(s.done)
		if s.err != nil {
			return nil, s.err
		}
		return slices.Clone(s.pcm), nil
	}
}

// add stores pcm for text and evicts the least recently used entries
// beyond the size. c.mu must be held.
func (c *Cache) add(text string, pcm []int16) {
	c.entries[text] = c.recent.PushFront(&cacheEntry{text: text, pcm: pcm})
	for c.recent.Len() > c.size {
		old := c.recent.Back()
		c.recent.Remove(old)
		delete(c.entries, old.Value.(*cacheEntry).text)
	}
}

// Len returns the number of texts cached.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.recent.Len()
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
