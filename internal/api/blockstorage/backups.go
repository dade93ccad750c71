package blockstorage

import (
	"net/http"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/policy"
	"github.com/kumocloud/kumo/internal/volume"
)

// Backup microversions (cinder/api/microversions.py).
var (
	mvBackupUpdate   = mv.Version{Major: 3, Minor: 9}
	mvBackupProject  = mv.Version{Major: 3, Minor: 18}
	mvBackupSortName = mv.Version{Major: 3, Minor: 37}
	mvBackupMetadata = mv.Version{Major: 3, Minor: 43}
	mvBackupAZ       = mv.Version{Major: 3, Minor: 51}
	mvBackupUserID   = mv.Version{Major: 3, Minor: 56}
)

// backupFilters are resource_filters.json's "backup" keys.
var backupFilters = []string{"name", "status", "volume_id"}

// backupActions are the rows of POST /backups/{id}/action.
var backupActions = []api.Action{
	{Name: "os-reset_status", Rule: "volume_extension:backup_admin_actions:reset_status"},
	{Name: "os-force_delete", Rule: "volume_extension:backup_admin_actions:force_delete"},
}

func (h *handlers) backupRoutes() []api.Route {
	const one = "/backups/{backup_id}"
	return []api.Route{
		{Method: "GET", Path: "/backups", Rule: "backup:get_all", Handler: h.listBackups(false)},
		{Method: "GET", Path: "/backups/detail", Rule: "backup:get_all", Handler: h.listBackups(true)},
		{Method: "POST", Path: "/backups", Rule: "backup:create", Handler: h.createBackup},
		{Method: "POST", Path: "/backups/import_record", Rule: "backup:backup-import", Handler: h.importBackup},
		{Method: "GET", Path: one, Rule: "backup:get", Handler: h.showBackup},
		{Method: "PUT", Path: one, Rule: "backup:update", MinVer: mvBackupUpdate, Handler: h.updateBackup},
		{Method: "DELETE", Path: one, Rule: "backup:delete", Handler: h.deleteBackup},
		{Method: "POST", Path: one + "/restore", Rule: "backup:restore", Handler: h.restoreBackup},
		{Method: "GET", Path: one + "/export_record", Rule: "backup:export-import", Handler: h.exportBackup},
		{Method: "POST", Path: one + "/action", Rule: policy.Action, Actions: backupActions, Handler: h.backupAction},
	}
}

func (h *handlers) listBackups(detail bool) api.Handler {
	return func(c *api.Call) (*api.Reply, error) {
		q := c.Query()
		pg, err := listParams(q)
		if err != nil {
			return nil, err
		}
		if c.AtLeast(mvBackupSortName) {
			for i, s := range pg.Sort {
				if s.Key == "name" {
					pg.Sort[i].Key = "display_name"
				}
			}
		}
		f, err := listFilters(c, q, backupFilters)
		if err != nil {
			return nil, err
		}
		opts := volume.BackupListOptions{AllTenants: f.AllTenants, ProjectID: f.ProjectID, Filters: f.Exact,
			Like: f.Like, Sort: pg.Sort, Marker: pg.Marker, Limit: pg.Limit, Offset: pg.Offset}
		var backups []*volume.Backup
		if pg.Limit > 0 { // limit=0 asks for none
			if backups, err = h.vols.Backups(c.Ctx, c.Principal, opts); err != nil {
				return nil, err
			}
		}
		l := listing[*volume.Backup]{key: "backups", linksKey: "backups_links", collection: "backups", items: backups, limit: pg.Limit,
			id:   func(b *volume.Backup) string { return b.ID },
			view: func(b *volume.Backup) map[string]any { return backupSummary(c, b) }}
		if detail {
			l.collection = "backups/detail"
			l.view = func(b *volume.Backup) map[string]any { return backupDetail(c, b, true) }
		}
		if f.WithCount {
			opts.Marker, opts.Limit, opts.Offset = "", 0, 0
			l.count = func() (int, error) { return h.vols.BackupCount(c.Ctx, c.Principal, opts) }
		}
		return l.reply(c)
	}
}

// backupCreateSchema is schemas/backups.py's create, with metadata from
// 3.43 and availability_zone from 3.51.
func backupCreateSchema(c *api.Call) js.Schema {
	props := []js.Property{
		{Name: "volume_id", Schema: js.Schema{js.Type("string"), js.Format("uuid")}},
		{Name: "container", Schema: nameZeroMin}, {Name: "description", Schema: description},
		{Name: "incremental", Schema: boolean}, {Name: "force", Schema: boolean},
		{Name: "name", Schema: nameZeroMin}, {Name: "snapshot_id", Schema: uuidAllowNull},
	}
	if c.AtLeast(mvBackupMetadata) {
		props = append(props, js.Property{Name: "metadata", Schema: metadataAllowsNull})
	}
	if c.AtLeast(mvBackupAZ) {
		props = append(props, js.Property{Name: "availability_zone", Schema: nameZeroMin})
	}
	return js.Object([]string{"backup"}, js.Property{Name: "backup", Schema: js.Object([]string{"volume_id"}, props...)})
}

func (h *handlers) createBackup(c *api.Call) (*api.Reply, error) {
	body, err := decodeBody(c, backupCreateSchema(c))
	if err != nil {
		return nil, err
	}
	b := body["backup"].(map[string]any)
	volID, _ := str(b, "volume_id")
	snapID, _ := str(b, "snapshot_id")
	req := volume.BackupCreate{VolumeID: volID, Name: trimmed(strPtr(b, "name")), Description: trimmed(strPtr(b, "description")),
		Container: strPtr(b, "container"), Incremental: boolValue(b["incremental"]), Force: boolValue(b["force"]),
		SnapshotID: snapID, Metadata: stringMap(b["metadata"]), AvailabilityZone: strPtr(b, "availability_zone")}
	backup, err := h.vols.CreateBackup(c.Ctx, c.Principal, req)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusAccepted, map[string]any{"backup": backupSummary(c, backup)}), nil
}

// trimmed is clean_name_and_description: surrounding spaces go.
func trimmed(s *string) *string {
	if s == nil {
		return nil
	}
	t := strings.TrimSpace(*s)
	return &t
}

func (h *handlers) showBackup(c *api.Call) (*api.Reply, error) {
	b, err := h.vols.Backup(c.Ctx, c.Principal, c.Param("backup_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"backup": backupDetail(c, b, true)}), nil
}

func backupUpdateSchema(c *api.Call) js.Schema {
	props := []js.Property{{Name: "name", Schema: nameZeroMin}, {Name: "description", Schema: description}}
	if c.AtLeast(mvBackupMetadata) {
		props = append(props, js.Property{Name: "metadata", Schema: extraSpecs})
	}
	inner := js.Object(nil, props...)
	inner[0] = js.Type("object", "null")
	return js.Object([]string{"backup"}, js.Property{Name: "backup", Schema: inner})
}

func (h *handlers) updateBackup(c *api.Call) (*api.Reply, error) {
	body, err := decodeBody(c, backupUpdateSchema(c))
	if err != nil {
		return nil, err
	}
	b, _ := body["backup"].(map[string]any)
	req := volume.BackupUpdate{Name: trimmed(strPtr(b, "name")), Description: trimmed(strPtr(b, "description"))}
	if md, ok := b["metadata"]; ok {
		req.Metadata = stringMap(md)
		if req.Metadata == nil {
			req.Metadata = map[string]string{}
		}
	}
	backup, err := h.vols.UpdateBackup(c.Ctx, c.Principal, c.Param("backup_id"), req)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"backup": backupSummary(c, backup)}), nil
}

func (h *handlers) deleteBackup(c *api.Call) (*api.Reply, error) {
	if err := h.vols.DeleteBackup(c.Ctx, c.Principal, c.Param("backup_id"), false); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusAccepted), nil
}

var backupRestoreSchema = js.Object([]string{"restore"}, js.Property{Name: "restore", Schema: func() js.Schema {
	s := js.Object(nil, js.Property{Name: "name", Schema: nameZeroMin}, js.Property{Name: "volume_id", Schema: uuidAllowNull})
	s[0] = js.Type("object", "null")
	return s
}()})

func (h *handlers) restoreBackup(c *api.Call) (*api.Reply, error) {
	body, err := decodeBody(c, backupRestoreSchema)
	if err != nil {
		return nil, err
	}
	r, _ := body["restore"].(map[string]any)
	volID, _ := str(r, "volume_id")
	res, err := h.vols.RestoreBackup(c.Ctx, c.Principal, c.Param("backup_id"), volID, strPtr(r, "name"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusAccepted, map[string]any{"restore": map[string]any{
		"backup_id": res.BackupID, "volume_id": res.VolumeID, "volume_name": res.VolumeName}}), nil
}

func (h *handlers) exportBackup(c *api.Call) (*api.Reply, error) {
	service, url, err := h.vols.ExportBackup(c.Ctx, c.Principal, c.Param("backup_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"backup-record": map[string]any{"backup_service": service, "backup_url": url}}), nil
}

// backupImportSchema is schemas/backups.py's import_record
// (backup_service and backup_url are strings of at most 255 and 10000000
// characters... parameter_types.backup_service/backup_url).
var backupImportSchema = js.Object([]string{"backup-record"}, js.Property{Name: "backup-record", Schema: js.Object(
	[]string{"backup_service", "backup_url"},
	js.Property{Name: "backup_service", Schema: js.Schema{js.Type("string"), js.MinLength(0), js.MaxLength(255)}},
	js.Property{Name: "backup_url", Schema: js.Schema{js.Type("string"), js.MinLength(0)}})})

func (h *handlers) importBackup(c *api.Call) (*api.Reply, error) {
	body, err := decodeBody(c, backupImportSchema)
	if err != nil {
		return nil, err
	}
	rec := body["backup-record"].(map[string]any)
	service, _ := str(rec, "backup_service")
	url, _ := str(rec, "backup_url")
	b, err := h.vols.ImportBackup(c.Ctx, c.Principal, service, url)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, map[string]any{"backup": backupSummary(c, b)}), nil
}

var backupResetSchema = js.Object([]string{"os-reset_status"}, js.Property{Name: "os-reset_status",
	Schema: js.Object([]string{"status"}, js.Property{Name: "status", Schema: js.Schema{js.Type("string")}})})

// backupAction answers POST /backups/{id}/action (admin actions).
func (h *handlers) backupAction(c *api.Call) (*api.Reply, error) {
	id := c.Param("backup_id")
	act, raw, err := pickAction(c, backupActions)
	if err != nil {
		return nil, err
	}
	if _, err := h.vols.Backup(c.Ctx, c.Principal, id); err != nil {
		return nil, err
	}
	if err := c.Authorize(act.Rule, nil); err != nil {
		return nil, err
	}
	switch act.Name {
	case "os-reset_status":
		body, err := validateRaw(raw, backupResetSchema)
		if err != nil {
			return nil, err
		}
		status, _ := str(body["os-reset_status"].(map[string]any), "status")
		if err := h.vols.ResetBackupStatus(c.Ctx, c.Principal, id, strings.ToLower(status)); err != nil {
			return nil, err
		}
	case "os-force_delete":
		if err := h.vols.DeleteBackup(c.Ctx, c.Principal, id, true); err != nil {
			return nil, err
		}
	}
	return api.NoContent(http.StatusAccepted), nil
}

// backupSummary is the backup list's entry and create's and update's
// answer (views/backups.py summary).
func backupSummary(c *api.Call, b *volume.Backup) map[string]any {
	return map[string]any{"id": b.ID, "name": b.Name, "links": links(c, "backups", b.ID)}
}

// backupDetail is a backup's detailed view (v3 views/backups.py), with
// the project (3.18) and user (3.56) of backup_project_attribute's
// callers.
func backupDetail(c *api.Call, b *volume.Backup, attrs bool) map[string]any {
	d := map[string]any{
		"id": b.ID, "status": b.Status, "size": b.Size, "object_count": b.ObjectCount,
		"availability_zone": b.AvailabilityZone, "container": b.Container,
		"created_at": cinderTime(b.CreatedAt), "updated_at": cinderTime(b.UpdatedAt),
		"name": b.Name, "description": b.Description, "fail_reason": b.FailReason, "volume_id": b.VolumeID,
		"links": links(c, "backups", b.ID), "is_incremental": b.IsIncremental(),
		"has_dependent_backups": b.HasDependentBackups, "snapshot_id": b.SnapshotID,
		"data_timestamp": cinderTime(b.DataTimestamp),
	}
	if c.AtLeast(mvBackupMetadata) {
		d["metadata"] = nonNil(b.Metadata)
	}
	if c.AtLeast(mv.V3_64) && b.EncryptionKeyID != nil {
		d["encryption_key_id"] = *b.EncryptionKeyID
	}
	if attrs && c.AtLeast(mvBackupProject) && c.Allowed("backup:backup_project_attribute", nil) {
		d["os-backup-project-attr:project_id"] = b.ProjectID
		if c.AtLeast(mvBackupUserID) {
			d["user_id"] = b.UserID
		}
	}
	return d
}
