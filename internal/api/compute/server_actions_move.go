package compute

// os-migrateLive (Nova's migrate_server.py _migrate_live with
// schemas/migrate_server.py) and evacuate (evacuate.py with
// schemas/evacuate.py).

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/mv"
)

// moveServerActions are os-migrateLive and evacuate.
func (h *handlers) moveServerActions() map[string]action {
	return map[string]action{
		"os-migrateLive": {policy: "os_compute_api:os-migrate-server:migrate_live", handle: h.liveMigrateServer},
		"evacuate":       {policy: "os_compute_api:os-evacuate", handle: h.evacuateServer},
	}
}

var (
	// moveHost is parameter_types.fqdn.
	moveHost = js.Schema{js.Type("string"), js.Pattern("^[a-zA-Z0-9-._]*$"), js.MinLength(1), js.MaxLength(255)}
	// liveHost is migrate_server.py's host: fqdn or null.
	liveHost = js.Schema{js.Type("string", "null"), js.Pattern("^[a-zA-Z0-9-._]*$"), js.MinLength(1), js.MaxLength(255)}
	// blockMigrationAuto is parameter_types.boolean with "auto" (2.25).
	blockMigrationAuto = js.Schema{js.Type("boolean", "string"), js.Enum(append(csBooleanEnum(), "auto")...)}

	migrateLiveSchema = js.Object([]string{"os-migrateLive"}, js.Property{Name: "os-migrateLive", Schema: js.Object(
		[]string{"block_migration", "disk_over_commit", "host"},
		js.Property{Name: "block_migration", Schema: csBoolean},
		js.Property{Name: "disk_over_commit", Schema: csBoolean},
		js.Property{Name: "host", Schema: liveHost})})
	migrateLiveSchema225 = js.Object([]string{"os-migrateLive"}, js.Property{Name: "os-migrateLive", Schema: js.Object(
		[]string{"block_migration", "host"},
		js.Property{Name: "block_migration", Schema: blockMigrationAuto},
		js.Property{Name: "host", Schema: liveHost})})
	migrateLiveSchema230 = js.Object([]string{"os-migrateLive"}, js.Property{Name: "os-migrateLive", Schema: js.Object(
		[]string{"block_migration", "host"},
		js.Property{Name: "block_migration", Schema: blockMigrationAuto},
		js.Property{Name: "host", Schema: liveHost},
		js.Property{Name: "force", Schema: csBoolean})})

	evacuateSchema = js.Object([]string{"evacuate"}, js.Property{Name: "evacuate", Schema: js.Object([]string{"onSharedStorage"},
		js.Property{Name: "host", Schema: moveHost},
		js.Property{Name: "onSharedStorage", Schema: csBoolean},
		js.Property{Name: "adminPass", Schema: js.Schema{js.Type("string")}})})
	evacuateSchema214 = js.Object([]string{"evacuate"}, js.Property{Name: "evacuate", Schema: js.Object(nil,
		js.Property{Name: "host", Schema: moveHost},
		js.Property{Name: "adminPass", Schema: js.Schema{js.Type("string")}})})
	evacuateSchema229 = js.Object([]string{"evacuate"}, js.Property{Name: "evacuate", Schema: js.Object(nil,
		js.Property{Name: "host", Schema: moveHost},
		js.Property{Name: "adminPass", Schema: js.Schema{js.Type("string")}},
		js.Property{Name: "force", Schema: csBoolean})})
)

// migrateLiveSchemaAt is Nova's os-migrateLive schema at c's version.
func migrateLiveSchemaAt(c *api.Call) js.Schema {
	switch {
	case c.AtLeast(mv.V2_68):
		return migrateLiveSchema225
	case c.AtLeast(mv.V2_30):
		return migrateLiveSchema230
	case c.AtLeast(mv.V2_25):
		return migrateLiveSchema225
	}
	return migrateLiveSchema
}

// bodyBool is oslo's bool_from_string(strict=True) of a value the
// schema let through (a boolean or one of its strings).
func bodyBool(v any) bool {
	if b, ok := v.(bool); ok {
		return b
	}
	s, _ := v.(string)
	b, _ := strictBool(s)
	return b
}

// liveMigrateServer answers 202 with no body. Nova finds the server
// (404), then checks migrate_live or, with a host, migrate_live:host.
func (h *handlers) liveMigrateServer(c *api.Call, run *js.Run, body map[string]any, value any) (*api.Reply, error) {
	if f := migrateLiveSchemaAt(c).Validate(run, nil, body); f != nil {
		return nil, f.Err(run)
	}
	args := value.(map[string]any)
	srv, err := h.Servers.Get(c.Ctx, c.Principal, c.Param("server_id"))
	if err != nil {
		return nil, err
	}
	host, _ := args["host"].(string)
	if host != "" {
		if err := c.Authorize("os_compute_api:os-migrate-server:migrate_live:host", nil); err != nil {
			return nil, err
		}
	}
	req := compute.LiveMigrateRequest{Host: host, Force: host != "", Async: c.AtLeast(mv.V2_34), RequestID: c.RequestID}
	if c.AtLeast(mv.V2_30) {
		// From 2.30 a host is only a hint to the scheduler unless forced
		// (2.68 removed force: always a hint).
		req.Force = false
		if f, ok := args["force"]; ok && bodyBool(f) {
			if host == "" {
				return nil, errs.Invalid("Can't force to a non-provided destination")
			}
			req.Force = true
		}
	}
	if bm := args["block_migration"]; !c.AtLeast(mv.V2_25) || bm != "auto" {
		b := bodyBool(bm)
		req.BlockMigration = &b
	}
	return h.accepted(h.Servers.LiveMigrate(c.Ctx, c.Principal, srv.ID, req))
}

// evacuateServer answers 200: before 2.14 with the admin password the
// rebuilt guest gets ({"adminPass": ...}, null on shared storage without
// one), from 2.14 with no body.
func (h *handlers) evacuateServer(c *api.Call, run *js.Run, body map[string]any, value any) (*api.Reply, error) {
	schema := evacuateSchema
	switch {
	case c.AtLeast(mv.V2_68):
		schema = evacuateSchema214
	case c.AtLeast(mv.V2_29):
		schema = evacuateSchema229
	case c.AtLeast(mv.V2_14):
		schema = evacuateSchema214
	}
	if f := schema.Validate(run, nil, body); f != nil {
		return nil, f.Err(run)
	}
	args := value.(map[string]any)
	srv, err := h.Servers.Get(c.Ctx, c.Principal, c.Param("server_id"))
	if err != nil {
		return nil, err
	}
	host, _ := args["host"].(string)
	req := compute.EvacuateRequest{Host: host, Stopped: c.AtLeast(mv.V2_95), RequestID: c.RequestID}
	if !c.AtLeast(mv.V2_14) {
		req.OnSharedStorage = bodyBool(args["onSharedStorage"])
	}
	// Before 2.29 a host is forced (Nova passes it to the conductor,
	// which skips the scheduler); from 2.29 only with force, and 2.68
	// removed force: always the scheduler's.
	req.Force = host != "" && !c.AtLeast(mv.V2_29)
	if c.AtLeast(mv.V2_29) {
		if f, ok := args["force"]; ok && bodyBool(f) {
			if host == "" {
				return nil, errs.Invalid("Can't force to a non-provided destination")
			}
			req.Force = true
		}
	}
	pass, given := args["adminPass"].(string)
	switch {
	case given && req.OnSharedStorage:
		return nil, errs.Invalid("admin password can't be changed on existing disk")
	case !given && !req.OnSharedStorage:
		pass = compute.GeneratePassword()
	}
	req.AdminPass = pass
	if err := h.Servers.Evacuate(c.Ctx, c.Principal, srv.ID, req); err != nil {
		return nil, err
	}
	if c.AtLeast(mv.V2_14) {
		return api.NoContent(http.StatusOK), nil
	}
	// Nova's enable_instance_password defaults to true.
	var shown any
	if pass != "" {
		shown = pass
	}
	return api.JSON(http.StatusOK, map[string]any{"adminPass": shown}), nil
}
