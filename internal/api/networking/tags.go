package networking

import (
	"context"
	"net/http"
	"unicode/utf8"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/network"
)

// Neutron's tag limits (neutron/extensions/tagging.py).
const (
	maxTagLen   = 255
	maxTagCount = 50
)

// tagger is a resource's tags as its domain service keeps them. The
// routes have checked the rule against the object already; a missing
// object is the resource's NotFound, a tag to remove that the object
// lacks a plain errs.NotFound.
type tagger interface {
	Tags(ctx context.Context, id string) ([]string, error)
	ChangeTags(ctx context.Context, id string, c network.TagChange) ([]string, error)
}

// kindTags are the tags of one kind of the network service's objects.
type kindTags struct {
	svc  *network.Service
	kind string
}

func (k kindTags) Tags(ctx context.Context, id string) ([]string, error) {
	return k.svc.Tags(ctx, k.kind, id)
}

func (k kindTags) ChangeTags(ctx context.Context, id string, c network.TagChange) ([]string, error) {
	return k.svc.ChangeTags(ctx, k.kind, id, c)
}

// tagRoutes are the standard-attr-tag routes of r: /{id}/tags and
// /{id}/tags/{tag}, each with the rule Neutron's tagging controller
// checks against the object.
func tagRoutes(r resource, t tagger) []api.Route {
	h := tagHandlers{r: r, t: t}
	tags, tag := r.path("/tags"), r.path("/tags/{tag}")
	return []api.Route{
		{Method: "GET", Path: tags, Rule: r.rule("get", "tags"), Target: r.objectTarget, Handler: h.list},
		{Method: "GET", Path: tag, Rule: r.rule("get", "tags"), Target: r.objectTarget, Handler: h.show},
		{Method: "PUT", Path: tags, Rule: r.rule("update", "tags"), Target: r.objectTarget, Handler: h.replace},
		{Method: "PUT", Path: tag, Rule: r.rule("update", "tags"), Target: r.objectTarget, Handler: h.add},
		{Method: "POST", Path: tags, Rule: r.rule("create", "tags"), Target: r.objectTarget, Handler: h.create},
		{Method: "DELETE", Path: tags, Rule: r.rule("delete", "tags"), Target: r.objectTarget, Handler: h.clear},
		{Method: "DELETE", Path: tag, Rule: r.rule("delete", "tags"), Target: r.objectTarget, Handler: h.remove},
	}
}

type tagHandlers struct {
	r resource
	t tagger
}

func (h tagHandlers) id(c *api.Call) string { return c.Param(h.r.Param) }

func (h tagHandlers) list(c *api.Call) (*api.Reply, error) {
	tags, err := h.t.Tags(c.Ctx, h.id(c))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"tags": nonNil(tags)}), nil
}

// show answers 204 when the object has the tag, TagNotFound otherwise.
func (h tagHandlers) show(c *api.Call) (*api.Reply, error) {
	tag := c.Param("tag")
	if err := validateTag(tag); err != nil {
		return nil, err
	}
	tags, err := h.t.Tags(c.Ctx, h.id(c))
	if err != nil {
		return nil, err
	}
	for _, t := range tags {
		if t == tag {
			return api.NoContent(http.StatusNoContent), nil
		}
	}
	return nil, tagNotFound(tag)
}

func (h tagHandlers) replace(c *api.Call) (*api.Reply, error) {
	tags, err := decodeTags(c)
	if err != nil {
		return nil, err
	}
	out, err := h.t.ChangeTags(c.Ctx, h.id(c), network.TagChange{Replace: true, Tags: tags})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"tags": nonNil(out)}), nil
}

func (h tagHandlers) create(c *api.Call) (*api.Reply, error) {
	tags, err := decodeTags(c)
	if err != nil {
		return nil, err
	}
	out, err := h.t.ChangeTags(c.Ctx, h.id(c), network.TagChange{Tags: tags})
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, map[string]any{"tags": nonNil(out)}), nil
}

func (h tagHandlers) add(c *api.Call) (*api.Reply, error) {
	tag := c.Param("tag")
	if err := validateTag(tag); err != nil {
		return nil, err
	}
	if _, err := h.t.ChangeTags(c.Ctx, h.id(c), network.TagChange{Tags: []string{tag}}); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusCreated), nil
}

func (h tagHandlers) clear(c *api.Call) (*api.Reply, error) {
	if _, err := h.t.ChangeTags(c.Ctx, h.id(c), network.TagChange{Clear: true}); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func (h tagHandlers) remove(c *api.Call) (*api.Reply, error) {
	tag := c.Param("tag")
	if err := validateTag(tag); err != nil {
		return nil, err
	}
	_, err := h.t.ChangeTags(c.Ctx, h.id(c), network.TagChange{Remove: tag})
	if errs.Is(err, errs.KindNotFound) && errs.NameOf(err) == "" {
		return nil, tagNotFound(tag)
	}
	if err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

func tagNotFound(tag string) error {
	return errs.Named("TagNotFound", errs.NotFound("Tag %s could not be found.", tag))
}

// validateTag is tagging.validate_tag: a string of at most 255
// characters.
func validateTag(tag string) error {
	if n := utf8.RuneCountInString(tag); n > maxTagLen {
		return invalidInput("'%s' exceeds maximum length of %d", tag, maxTagLen)
	}
	return nil
}

// decodeTags reads {"tags": [...]}: a list of unique strings of at most
// 255 characters, at most 50 of them (tagging.validate_tags and
// validate_tags_limit).
func decodeTags(c *api.Call) ([]string, error) {
	var body map[string]any
	if err := c.DecodeJSON(&body); err != nil {
		return nil, err
	}
	raw, ok := body["tags"]
	if !ok || body == nil {
		return nil, invalidInput("Invalid tags body")
	}
	return tagsValue(raw)
}

// tagsValue validates a tags attribute's value.
func tagsValue(raw any) ([]string, error) {
	list, ok := raw.([]any)
	if !ok {
		return nil, invalidInput("'%v' is not a list", raw)
	}
	tags := make([]string, 0, len(list))
	seen := map[string]bool{}
	for _, v := range list {
		s, ok := v.(string)
		if !ok {
			return nil, invalidInput("'%v' is not a valid string", v)
		}
		if err := validateTag(s); err != nil {
			return nil, err
		}
		if seen[s] {
			return nil, invalidInput("Duplicate items in the list: '%s'", s)
		}
		seen[s] = true
		tags = append(tags, s)
	}
	if len(tags) > maxTagCount {
		return nil, badRequest("The number of tags exceed the per-resource limit of %d", maxTagCount)
	}
	return tags, nil
}

func nonNil(tags []string) []string {
	if tags == nil {
		return []string{}
	}
	return tags
}
