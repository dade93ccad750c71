package compute

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/keypair"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/policy"
)

// os-keypairs: key pairs belong to users, not projects. Admins may name
// another user with user_id from 2.10.
func (h *handlers) keypairRoutes() []api.Route {
	return []api.Route{
		{Method: "GET", Path: "/os-keypairs", Rule: keypairRule("index"), Handler: h.listKeypairs},
		{Method: "POST", Path: "/os-keypairs", Rule: keypairRule("create"), Handler: h.createKeypair},
		{Method: "GET", Path: "/os-keypairs/{keypair_name}", Rule: keypairRule("show"), Handler: h.showKeypair},
		{Method: "DELETE", Path: "/os-keypairs/{keypair_name}", Rule: keypairRule("delete"), Handler: h.deleteKeypair},
	}
}

// keypairUser resolves whose key pairs a call is about and checks op's
// rule (Nova's "admin or user_id:%(user_id)s") against that user.
func keypairUser(c *api.Call, requested, op string) (string, error) {
	user := requested
	if user == "" {
		user = c.Principal.UserID
	}
	if err := c.Authorize(keypairRule(op), policy.Target{"user_id": user}); err != nil {
		return "", err
	}
	return user, nil
}

func keypairRule(op string) string { return "os_compute_api:os-keypairs:" + op }

// keypairQueryRules is the query schema of index (withPaging) or of
// show and delete at c's version.
func keypairQueryRules(c *api.Call, withPaging bool) []flavorQueryRule {
	var rules []flavorQueryRule
	if c.AtLeast(mv.V2_10) {
		rules = append(rules, flavorQueryRule{"user_id", anyString})
	}
	if withPaging && c.AtLeast(mv.V2_35) {
		rules = append(rules, flavorQueryRule{"limit", nonNegativeIntegerCheck}, flavorQueryRule{"marker", anyString})
	}
	return rules
}

// queryUser is the user_id query parameter webob's getall()[0] returns.
func queryUser(q url.Values) string {
	if vs := q["user_id"]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

func (h *handlers) listKeypairs(c *api.Call) (*api.Reply, error) {
	q, err := checkQuery(c, keypairQueryRules(c, true), strictQuery(c, mv.V2_75))
	if err != nil {
		return nil, err
	}
	user, err := keypairUser(c, queryUser(q), "index")
	if err != nil {
		return nil, err
	}
	limit := -1 // all, before paging exists
	var marker *string
	if c.AtLeast(mv.V2_35) {
		limit = keypairLimit(q)
		if _, ok := q["marker"]; ok {
			m := lastValue(q, "marker")
			marker = &m
		}
	}
	kps, err := h.Keypairs.List(c.Ctx, user, limit, marker)
	if err != nil {
		return nil, err
	}
	items := make([]map[string]any, len(kps))
	for i, kp := range kps {
		items[i] = map[string]any{"keypair": keypairBrief(c, kp)}
	}
	body := map[string]any{"keypairs": items}
	if c.AtLeast(mv.V2_35) && limit > 0 && limit == len(kps) {
		body["keypairs_links"] = []api.Link{{Rel: "next", Href: nextLink(c, "/os-keypairs", q, kps[len(kps)-1].Name)}}
	}
	return api.JSON(http.StatusOK, body), nil
}

// keypairLimit is the limit Nova's get_limit_and_marker applies, which
// its next link also compares with: the requested limit (the schema
// allows digits only) capped at max_limit.
func keypairLimit(q url.Values) int {
	limit := maxLimit
	if _, ok := q["limit"]; ok {
		n, err := strconv.Atoi(lastValue(q, "limit"))
		if err != nil {
			n = maxLimit // only an overflow gets here
		}
		limit = min(n, maxLimit)
	}
	return limit
}

func (h *handlers) showKeypair(c *api.Call) (*api.Reply, error) {
	q, err := checkQuery(c, keypairQueryRules(c, false), strictQuery(c, mv.V2_75))
	if err != nil {
		return nil, err
	}
	user, err := keypairUser(c, queryUser(q), "show")
	if err != nil {
		return nil, err
	}
	kp, err := h.Keypairs.Get(c.Ctx, user, c.Param("keypair_name"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"keypair": keypairDetail(c, kp)}), nil
}

func (h *handlers) deleteKeypair(c *api.Call) (*api.Reply, error) {
	q, err := checkQuery(c, keypairQueryRules(c, false), strictQuery(c, mv.V2_75))
	if err != nil {
		return nil, err
	}
	user, err := keypairUser(c, queryUser(q), "delete")
	if err != nil {
		return nil, err
	}
	if err := h.Keypairs.Delete(c.Ctx, user, c.Param("keypair_name")); err != nil {
		return nil, err
	}
	if c.AtLeast(mv.V2_2) {
		return api.NoContent(http.StatusNoContent), nil
	}
	return api.NoContent(http.StatusAccepted), nil
}

func (h *handlers) createKeypair(c *api.Call) (*api.Reply, error) {
	body, err := decodeAny(c)
	if err != nil {
		return nil, err
	}
	req, err := parseKeypairCreate(c, body)
	if err != nil {
		return nil, err
	}
	user, err := keypairUser(c, req.userID, "create")
	if err != nil {
		return nil, err
	}
	kp, privateKey, err := h.Keypairs.Create(c.Ctx, keypair.CreateInput{
		UserID: user, ProjectID: c.ProjectID(), Name: req.name, Type: req.keyType, PublicKey: req.publicKey,
	})
	if err != nil {
		return nil, err
	}
	view := keypairBrief(c, kp)
	view["user_id"] = kp.UserID
	if req.publicKey == nil {
		view["private_key"] = privateKey
	}
	status := http.StatusCreated
	if !c.AtLeast(mv.V2_2) {
		status = http.StatusOK
	}
	return api.JSON(status, map[string]any{"keypair": view}), nil
}
