package compute

// The rebuild action (Nova's servers.py _rebuild): the body is checked
// against the rebuild schema of the request's microversion (rebuild_v20,
// rebuild, v219, v254, v257, v263, v290, v294), the compute service
// accepts the rebuild, and the answer is the server as show renders it
// (trimmed before 2.75 as Nova's rebuild view is) with the admin password
// and, from 2.57, user_data.

import (
	"context"
	"net/http"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/mv"
)

// rebuildServerActions are rebuild.
func (h *handlers) rebuildServerActions() map[string]action {
	return map[string]action{
		"rebuild": {policy: "os_compute_api:servers:rebuild", handle: h.rebuildServer},
	}
}

// rebuildSchema is the rebuild body's schema at f (create's features:
// the rebuild schemas change at the same microversions) with key_name
// from 2.54. The properties the create schema also has are taken from it.
func rebuildSchema(f createFeatures, keyName bool) js.Schema {
	create := csServerProperties(f)
	from := func(name string) js.Property {
		for _, p := range create {
			if p.Name == name {
				return p
			}
		}
		panic("rebuild: create schema has no " + name)
	}
	props := []js.Property{
		from("name"),
		{Name: "imageRef", Schema: csUUID},
		from("adminPass"),
		from("metadata"),
		{Name: "preserve_ephemeral", Schema: csBoolean},
		from("OS-DCF:diskConfig"),
		from("accessIPv4"),
		from("accessIPv6"),
	}
	if f.personality {
		props = append(props, from("personality"))
	}
	if f.description {
		props = append(props, from("description"))
	}
	if keyName {
		props = append(props, js.Property{Name: "key_name", Schema: js.Schema{js.OneOf(
			js.Schema{js.Type("string"), js.MinLength(1), js.MaxLength(255)}, js.Schema{js.Type("null")})}})
	}
	if !f.personality { // 2.57 swaps personality for a nullable user_data
		props = append(props, js.Property{Name: "user_data", Schema: js.Schema{js.Type("string", "null"), js.Format("base64"), js.MaxLength(65535)}})
	}
	if f.trustedCerts {
		props = append(props, from("trusted_image_certificates"))
	}
	if f.hostname {
		props = append(props, from("hostname"))
	}
	return js.Object([]string{"rebuild"}, js.Property{Name: "rebuild", Schema: js.Object([]string{"imageRef"}, props...)})
}

func (h *handlers) rebuildServer(c *api.Call, run *js.Run, body map[string]any, _ any) (*api.Reply, error) {
	f := createFeaturesOf(c)
	keyName := c.AtLeast(mv.V2_54)
	if fl := rebuildSchema(f, keyName).Validate(run, nil, body); fl != nil {
		return nil, fl.Err(run)
	}
	req, quotaInput := parseRebuild(c, body["rebuild"].(map[string]any), f, keyName)
	// 2.93: a volume-backed server's root volume is re-imaged.
	req.ReimageBootVolume = c.AtLeast(mv.V2_93)
	req.Limits = func(ctx context.Context) error { return h.checkCreateQuotas(ctx, c.ProjectID(), quotaInput) }
	res, err := h.Servers.Rebuild(c.Ctx, c.Principal, c.Param("server_id"), req)
	if err != nil {
		return nil, err
	}
	view, err := h.ServerView(c, res.Server, ServerViewOptions{
		Full: c.AtLeast(mv.V2_75), ServerGroups: c.AtLeast(mv.V2_71), HideUserData: true,
		KeyName: keyName, UserData: !f.personality,
		// Nova's enable_instance_password defaults to true.
		AdminPass: &res.AdminPass,
	})
	if err != nil {
		return nil, err
	}
	self := serverSelfLink(c, res.Server.ID)
	return api.JSON(http.StatusAccepted, map[string]any{"server": view}).WithHeader("Location", self), nil
}

// parseRebuild turns a schema-valid rebuild object into the domain
// request, and the create input whose metadata and personality the
// per-server quotas count. Keys a microversion does not know are left
// alone (the legacy /v2 schema drops them before this).
func parseRebuild(c *api.Call, in map[string]any, f createFeatures, keyName bool) (compute.RebuildRequest, *serverCreateInput) {
	req := compute.RebuildRequest{RequestID: c.RequestID}
	quotaInput := &serverCreateInput{}
	req.ImageRef = in["imageRef"].(string)
	req.AdminPass, _ = in["adminPass"].(string)
	if v, ok := in["name"].(string); ok {
		name := strings.TrimSpace(v) // Nova's normalize_name
		req.Name = &name
	}
	if m, ok := in["metadata"].(map[string]any); ok {
		req.Metadata = make(map[string]string, len(m))
		for k, v := range m {
			req.Metadata[k] = v.(string)
		}
		quotaInput.req.Metadata = req.Metadata
	}
	if v, ok := in["preserve_ephemeral"]; ok {
		req.PreserveEphemeral = createBool(v)
	}
	if v, ok := in["OS-DCF:diskConfig"].(string); ok {
		req.DiskConfig = &v
	}
	if v, ok := in["accessIPv4"].(string); ok {
		req.AccessIPv4 = &v
	}
	if v, ok := in["accessIPv6"].(string); ok {
		req.AccessIPv6 = &v
	}
	if f.personality {
		for _, p := range createList(in["personality"]) {
			m := p.(map[string]any)
			pf := personalityFile{}
			pf.path, _ = m["path"].(string)
			pf.contents, _ = m["contents"].(string)
			quotaInput.personality = append(quotaInput.personality, pf)
		}
	}
	if v, ok := in["description"]; ok && f.description {
		req.Description = nullableString(v)
	}
	if v, ok := in["key_name"]; ok && keyName {
		req.KeyName = nullableString(v)
	}
	if v, ok := in["user_data"]; ok && !f.personality {
		req.UserData = nullableString(v)
	}
	// trusted_image_certificates (2.63) are accepted and not kept: kumo
	// verifies no image signatures, and servers show none (null).
	if v, ok := in["hostname"].(string); ok && f.hostname {
		req.Hostname = &v
	}
	return req, quotaInput
}

// nullableString is a JSON string or null as a settable field: a pointer
// to the string, or to nil for null.
func nullableString(v any) **string {
	var s *string
	if str, ok := v.(string); ok {
		s = &str
	}
	return &s
}
