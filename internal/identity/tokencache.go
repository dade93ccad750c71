package identity

import (
	"slices"
	"sync"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
)

// defaultTokenCacheTTL is how long a validated token is taken on trust
// by the compute and image APIs. keystonemiddleware, in front of Nova,
// caches validations for 300 s; kumo keeps it short, and this process
// forgets them at once on any identity change (see tokensChanged), so the
// window only matters for changes made by another kumo process sharing
// a PostgreSQL database.
const defaultTokenCacheTTL = 5 * time.Second

// maxCachedTokens bounds the cache; when full it starts over.
const maxCachedTokens = 10000

// principalCache remembers the principals of recently validated tokens,
// by token hash: checking a token is otherwise a database round trip on
// every compute and image request.
type principalCache struct {
	mu      sync.Mutex
	entries map[string]cachedPrincipal
	// gen counts clears, so a validation that read the database before a
	// change committed is not cached after the change cleared the cache.
	gen uint64
}

type cachedPrincipal struct {
	principal auth.Principal
	until     time.Time
}

func (c *principalCache) get(hash string, now time.Time) (*auth.Principal, bool) {
	c.mu.Lock()
	e, ok := c.entries[hash]
	c.mu.Unlock()
	if !ok || !now.Before(e.until) {
		return nil, false
	}
	p := e.principal
	p.Roles = slices.Clone(p.Roles)
	return &p, true
}

// generation is read before validating a token and handed to put.
func (c *principalCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *principalCache) put(hash string, p *auth.Principal, until time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.entries == nil || len(c.entries) >= maxCachedTokens {
		c.entries = make(map[string]cachedPrincipal)
	}
	e := cachedPrincipal{principal: *p, until: until}
	e.principal.Roles = slices.Clone(p.Roles)
	c.entries[hash] = e
}

func (c *principalCache) clear() {
	c.mu.Lock()
	c.entries = nil
	c.gen++
	c.mu.Unlock()
}

// tokensChanged forgets every cached token validation. Every change that
// can revoke a token or alter what it grants calls it once committed:
// token revocation, user/project/domain updates and deletions, role
// grants and role changes, password changes.
func (s *Service) tokensChanged() { s.principals.clear() }
