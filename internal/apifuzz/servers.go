package apifuzz

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
)

// Server returns the member's fixture server (ACTIVE, idle, unlocked
// after Settle), creating it on first need.
func (c *Cloud) Server(tb testing.TB) string {
	tb.Helper()
	if c.server == "" {
		c.server = c.startServer(tb)
		c.waitActive(tb, c.server)
	}
	return c.server
}

// startServer asks for a server of the member's; waitActive waits for it.
func (c *Cloud) startServer(tb testing.TB) string {
	tb.Helper()
	return c.mustID(tb, "POST", "/v2.1/servers", c.Member,
		fmt.Sprintf(`{"server":{"name":"fuzz-fixture","imageRef":%q,"flavorRef":"1"}}`, c.Image), "server")
}

func (c *Cloud) waitActive(tb testing.TB, id string) {
	tb.Helper()
	var st serverState
	if !wait(func() bool { st = c.serverState(id); return st.Status == "ACTIVE" && st.TaskState == nil }) {
		tb.Fatalf("fixture server %s never became ACTIVE: %+v\nlog:\n%s", id, st, c.log.String())
	}
}

type serverState struct {
	found     bool
	Status    string  `json:"status"`
	TaskState *string `json:"OS-EXT-STS:task_state"`
	Locked    bool    `json:"locked"`
	Flavor    struct {
		ID string `json:"id"`
	} `json:"flavor"`
}

// serverState shows a server as the admin (at 2.9, which has locked).
func (c *Cloud) serverState(id string) serverState {
	r, ok := c.Do(Request{Method: "GET", Target: "/v2.1/servers/" + id, Token: c.Admin, Version: "2.9"})
	if !ok || r.Status != http.StatusOK {
		return serverState{}
	}
	var body struct{ Server serverState }
	if json.Unmarshal(r.Body, &body) != nil {
		return serverState{}
	}
	body.Server.found = true
	return body.Server
}

// Act runs an action on the fixture server as the admin (to put it in a
// state before an input's call) and waits for its work to end.
func (c *Cloud) Act(t *testing.T, body string) {
	t.Helper()
	id := c.Server(t)
	r, _ := c.Do(Request{Method: "POST", Target: "/v2.1/servers/" + id + "/action", Token: c.Admin, Version: "2.1", Body: []byte(body)})
	if r.Status >= 300 {
		t.Fatalf("%s on server %s: %d %s\nlog:\n%s", body, id, r.Status, r.Body, c.log.String())
	}
	var st serverState
	if !wait(func() bool { st = c.serverState(id); return !st.found || st.TaskState == nil }) {
		t.Fatalf("server %s still has task_state %v 2 s after %s\nlog:\n%s", id, *st.TaskState, body, c.log.String())
	}
}

// Settle waits for the fixture server's work to end, then replaces it if
// an input left it other than ACTIVE, unlocked and of flavor 1 (stopped,
// shelved, resized, deleted, ...), so the next input meets the same
// server.
// A task that never ends fails t.
func (c *Cloud) Settle(t *testing.T) {
	t.Helper()
	if c.server == "" {
		return
	}
	var st serverState
	if !wait(func() bool { st = c.serverState(c.server); return !st.found || st.TaskState == nil }) {
		t.Fatalf("server %s still has task_state %v after 2 s\nlog:\n%s", c.server, *st.TaskState, c.log.String())
	}
	if st.found && st.Status == "ACTIVE" && !st.Locked && st.Flavor.ID == "1" {
		return
	}
	if st.found {
		c.requestDelete(t, c.server) // gone by the time it matters
	}
	// The spare, asked for last time, is usually ACTIVE by now: replacing
	// a server costs no wait for the agent.
	if c.spare == "" {
		c.spare = c.startServer(t)
	}
	c.server, c.spare = c.spare, ""
	c.waitActive(t, c.server)
	c.spare = c.startServer(t)
}

// requestDelete deletes a server as the admin, first resetting it to
// ACTIVE if a plain delete is refused.
func (c *Cloud) requestDelete(t *testing.T, id string) {
	t.Helper()
	del := func() int {
		r, _ := c.Do(Request{Method: "DELETE", Target: "/v2.1/servers/" + id, Token: c.Admin})
		return r.Status
	}
	if s := del(); s != http.StatusNoContent && s != http.StatusNotFound {
		c.Do(Request{Method: "POST", Target: "/v2.1/servers/" + id + "/action", Token: c.Admin,
			Body: []byte(`{"os-resetState":{"state":"active"}}`)})
		if s := del(); s != http.StatusNoContent && s != http.StatusNotFound {
			t.Fatalf("delete server %s: %d\nlog:\n%s", id, s, c.log.String())
		}
	}
}

// DropServers deletes every server but the fixture and its spare (those
// an input created), so quotas and listings stay as they were.
func (c *Cloud) DropServers(t *testing.T) {
	t.Helper()
	others := func() []string {
		r, _ := c.Do(Request{Method: "GET", Target: "/v2.1/servers?all_tenants=1", Token: c.Admin})
		var list struct {
			Servers []struct{ ID string } `json:"servers"`
		}
		if r.Status != http.StatusOK || json.Unmarshal(r.Body, &list) != nil {
			t.Fatalf("list servers: %d %s", r.Status, r.Body)
		}
		var ids []string
		for _, s := range list.Servers {
			if s.ID != c.server && s.ID != c.spare {
				ids = append(ids, s.ID)
			}
		}
		return ids
	}
	ids := others()
	if len(ids) == 0 {
		return
	}
	for _, id := range ids {
		c.requestDelete(t, id)
	}
	if !wait(func() bool { return len(others()) == 0 }) {
		t.Fatalf("servers %v not gone 2 s after their delete\nlog:\n%s", others(), c.log.String())
	}
}
