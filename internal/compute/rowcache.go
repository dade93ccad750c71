package compute

import "sync"

// rowCacheBytes is about how much decoded server rows one generation of
// a rowCache holds (two generations at most), a few default pages.
const rowCacheBytes = 4 << 20

// pageRow is a server a listing found: its number and the revision of
// its row (instances.rev, which the database bumps on every UPDATE).
type pageRow struct{ number, rev int64 }

// rowCache keeps servers as decoded from their rows, with their metadata
// and tags, by number and revision, for every listing and show of a
// service: a listing asks the database only for the numbers and
// revisions of its page, and reads whole rows and details for the
// servers not seen at that revision. Reading and converting
// every column of a page of 1000 servers was most of GET
// /servers/detail. Only rows read outside a transaction go in, so no
// revision an aborted transaction wrote is ever remembered.
//
// The servers it holds are shared and read-only; callers get copies
// (see copyServer). Two generations keep it bounded: when the current
// one is full it becomes the previous and a new one starts; a hit in the
// previous moves to the current.
type rowCache struct {
	mu        sync.Mutex
	cur, prev map[int64]cachedRow
	curBytes  int
	limit     int
}

type cachedRow struct {
	rev int64
	srv *Server
}

func newRowCache(limit int) *rowCache {
	return &rowCache{cur: map[int64]cachedRow{}, limit: limit}
}

// fill sets out[i] (out starts all nil) to a copy of page[i]'s server when the cache holds it
// at that revision, and returns the indexes of the rest.
// The copies are made after the lock is let go, so concurrent listings
// do not wait on each other's copying.
func (c *rowCache) fill(page []pageRow, out []*Server) (missing []int) {
	c.mu.Lock()
	for i, p := range page {
		e, ok := c.cur[p.number]
		if !ok {
			if e, ok = c.prev[p.number]; ok && e.rev == p.rev {
				c.addLocked(p.number, e)
			}
		}
		if !ok || e.rev != p.rev {
			missing = append(missing, i)
			continue
		}
		out[i] = e.srv
	}
	c.mu.Unlock()
	for i, srv := range out {
		if srv != nil {
			out[i] = copyServer(srv)
		}
	}
	return missing
}

// put remembers srv as its row read at revision rev.
func (c *rowCache) put(rev int64, srv *Server) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.addLocked(srv.Number, cachedRow{rev: rev, srv: srv})
}

func (c *rowCache) addLocked(number int64, e cachedRow) {
	if old, ok := c.cur[number]; ok {
		c.curBytes -= serverBytes(old.srv)
	}
	size := serverBytes(e.srv)
	if c.curBytes+size > c.limit {
		c.prev, c.cur, c.curBytes = c.cur, make(map[int64]cachedRow, len(c.cur)), 0
	}
	c.cur[number] = e
	c.curBytes += size
}

// reset forgets every row (when kumo is idle, to return the memory).
func (c *rowCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cur, c.prev, c.curBytes = map[int64]cachedRow{}, nil, 0
}

// copyServer is a copy of srv that callers may change at the top level;
// its maps and lists are still shared and read-only, as every loaded
// server's are.
func copyServer(srv *Server) *Server {
	c := *srv
	return &c
}

// serverBytes estimates the memory a decoded server holds: the struct
// and the texts of its own, metadata and tags included (flavors and
// system metadata are mostly shared between servers).
func serverBytes(s *Server) int {
	n := 600 + len(s.ID) + len(s.ProjectID) + len(s.UserID) + len(s.Name) + len(s.Hostname) + len(s.ReservationID) +
		len(s.ImageRef) + len(s.Host) + len(s.Node) + len(s.AZ) + len(s.KeyName) + len(s.KeyData) + len(s.UserData) +
		len(s.AccessIPv4) + len(s.AccessIPv6)
	if s.Description != nil {
		n += len(*s.Description)
	}
	if s.Fault != nil {
		n += len(s.Fault.Message) + len(s.Fault.Details)
	}
	for k, v := range s.Metadata {
		n += 50 + len(k) + len(v)
	}
	for _, t := range s.Tags {
		n += 16 + len(t)
	}
	return n
}

// ForgetListedRows drops the decoded rows listings keep, so an idle kumo
// returns their memory; the next listing reads its page whole again.
func (s *Service) ForgetListedRows() { s.rows.reset() }
