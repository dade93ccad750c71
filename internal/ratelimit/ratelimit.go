// Package ratelimit keeps a token bucket per key (a client address, say)
// in bounded memory.
package ratelimit

import (
	"container/list"
	"math"
	"sync"
	"time"
)

// DefaultMaxKeys bounds the buckets kept when Options.MaxKeys is zero:
// about 1.5 MB at most.
const DefaultMaxKeys = 10000

// Options configure a Limiter.
type Options struct {
	// Burst is how many tokens a key has when it has been quiet: that
	// many takes pass in a row.
	Burst int
	// Window is how long an empty bucket takes to fill again; tokens come
	// back one every Window/Burst.
	Window time.Duration
	// MaxKeys bounds the buckets kept (default DefaultMaxKeys); past it
	// the least recently used goes, as if that key had been quiet.
	MaxKeys int
	// Now replaces the clock (tests).
	Now func() time.Time
}

// Limiter is a set of token buckets by key. A nil *Limiter allows
// everything. Only keys that have taken lately take memory.
type Limiter struct {
	burst    float64
	interval time.Duration // time for one token to come back
	maxKeys  int
	now      func() time.Time

	mu   sync.Mutex
	keys map[string]*list.Element // of *bucket
	lru  list.List                // most recently used at the front
}

type bucket struct {
	key    string
	tokens float64
	at     time.Time // when tokens was right
}

// New returns a Limiter, or nil (no limit) when Burst or Window is not
// positive.
func New(o Options) *Limiter {
	if o.Burst <= 0 || o.Window <= 0 {
		return nil
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = DefaultMaxKeys
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Limiter{
		burst: float64(o.Burst), interval: o.Window / time.Duration(o.Burst),
		maxKeys: o.MaxKeys, now: o.Now, keys: map[string]*list.Element{},
	}
}

// refill brings b's tokens up to now.
func (l *Limiter) refill(b *bucket, now time.Time) {
	if d := now.Sub(b.at); d > 0 {
		b.tokens = math.Min(l.burst, b.tokens+float64(d)/float64(l.interval))
	}
	b.at = now
}

// Take spends one of key's tokens. When none is left it spends nothing
// and reports how long until one is back.
func (l *Limiter) Take(key string) (ok bool, retryAfter time.Duration) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var b *bucket
	if e, found := l.keys[key]; found {
		b = e.Value.(*bucket)
		l.refill(b, now)
		l.lru.MoveToFront(e)
	} else {
		b = &bucket{key: key, tokens: l.burst, at: now}
		l.keys[key] = l.lru.PushFront(b)
	}
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) * float64(l.interval))
	}
	b.tokens--
	l.evict(now)
	return true, 0
}

// Return gives back a token Take spent (the attempt turned out fine).
func (l *Limiter) Return(key string) {
	if l == nil {
		return
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e, found := l.keys[key]
	if !found {
		return
	}
	b := e.Value.(*bucket)
	l.refill(b, now)
	b.tokens = math.Min(l.burst, b.tokens+1)
	if b.tokens >= l.burst {
		l.remove(e)
	}
}

// evict drops the least recently used buckets past maxKeys, and those at
// the back that have filled up again (a full bucket is no bucket).
func (l *Limiter) evict(now time.Time) {
	for e := l.lru.Back(); e != nil; e = l.lru.Back() {
		b := e.Value.(*bucket)
		if l.lru.Len() <= l.maxKeys {
			l.refill(b, now)
			if b.tokens < l.burst {
				return
			}
		}
		l.remove(e)
	}
}

func (l *Limiter) remove(e *list.Element) {
	delete(l.keys, e.Value.(*bucket).key)
	l.lru.Remove(e)
}

// Len is how many buckets are kept.
func (l *Limiter) Len() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}
