package compute

import (
	"strconv"
	"testing"
)

func TestRowCache(t *testing.T) {
	t.Parallel()
	server := func(n int64, name string) *Server { return &Server{Number: n, Name: name} }
	one := serverBytes(server(1, "a"))
	// Room for two servers per generation.
	c := newRowCache(2 * one)
	lookup := func(rows ...pageRow) ([]*Server, []int) {
		out := make([]*Server, len(rows))
		return out, c.fill(rows, out)
	}
	c.put(5, server(1, "a"))
	c.put(7, server(2, "b"))

	out, missing := lookup(pageRow{1, 5}, pageRow{2, 7}, pageRow{3, 1})
	if len(missing) != 1 || missing[0] != 2 || out[0].Name != "a" || out[1].Name != "b" {
		t.Fatalf("fill: missing %v, out %v", missing, out)
	}
	out[0].Name = "changed by a caller"
	if again, _ := lookup(pageRow{1, 5}); again[0].Name != "a" {
		t.Fatalf("a caller's change reached the cache: %q", again[0].Name)
	}
	if _, missing := lookup(pageRow{1, 6}); len(missing) != 1 {
		t.Fatal("a newer revision was answered from the cache")
	}

	// A third server starts a new generation; the first two stay in the
	// previous one, and a hit there moves the server to the current.
	c.put(1, server(3, "c"))
	if _, missing := lookup(pageRow{1, 5}, pageRow{2, 7}, pageRow{3, 1}); len(missing) != 0 {
		t.Fatalf("after one rotation missing %v", missing)
	}
	// Three more puts rotate the first servers out of both generations.
	for n := int64(10); n < 13; n++ {
		c.put(1, server(n, strconv.FormatInt(n, 10)))
	}
	if _, missing := lookup(pageRow{2, 7}); len(missing) != 1 {
		t.Fatal("the cache holds more than two generations")
	}

	// A server put again at a newer revision replaces its entry and its
	// size: its revisions do not fill the generation.
	c.reset()
	for rev := int64(1); rev <= 5; rev++ {
		c.put(rev, server(20, "t"))
	}
	if c.curBytes != one || c.prev != nil {
		t.Fatalf("five revisions of one server count %d bytes (one is %d), rotated: %v", c.curBytes, one, c.prev != nil)
	}

	c.reset()
	if _, missing := lookup(pageRow{12, 1}); len(missing) != 1 {
		t.Fatal("reset kept a server")
	}
}
