package blockstorage

import (
	"maps"
	"net/http"
	"strconv"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/volume"
)

// Volume type encryption (cinder/api/contrib/volume_type_encryption.py),
// admin-only by Cinder's default policies. kumo keeps a type's
// encryption as Cinder does but has no key manager: a volume of an
// encrypted type is refused as Cinder refuses it when its key manager
// fails (400 "Key manager error"), so no kumo volume is encrypted.

func (h *handlers) encryptionRoutes() []api.Route {
	const base = "/types/{type_id}/encryption"
	const rule = "volume_extension:volume_type_encryption:"
	return []api.Route{
		{Method: "GET", Path: base, Rule: rule + "get", Handler: h.typeEncryption},
		{Method: "POST", Path: base, Rule: rule + "create", Handler: h.createTypeEncryption},
		{Method: "GET", Path: base + "/{key}", Rule: rule + "get", Handler: h.typeEncryptionItem},
		{Method: "PUT", Path: base + "/{encryption_id}", Rule: rule + "update", Handler: h.updateTypeEncryption},
		{Method: "DELETE", Path: base + "/{encryption_id}", Rule: rule + "delete", Handler: h.deleteTypeEncryption},
	}
}

// encryptionView is the Encryption row as Cinder's index returns it:
// every column, the soft-delete ones included.
func encryptionView(e *volume.Encryption) map[string]any {
	return map[string]any{"volume_type_id": e.VolumeTypeID, "encryption_id": e.EncryptionID,
		"provider": e.Provider, "cipher": e.Cipher, "key_size": e.KeySize, "control_location": e.ControlLocation,
		"created_at": cinderTime(e.CreatedAt), "updated_at": cinderTimePtr(e.UpdatedAt), "deleted": false, "deleted_at": nil}
}

var (
	// keySize is parameter_types.key_size: its format's failure is
	// Cinder's InvalidInput.
	keySize = js.Schema{js.Type("string", "integer", "null"), js.Minimum(0), js.Maximum(2147483647),
		func(_ *js.Run, _ []string, v any) *js.Failure {
			if s, ok := v.(string); ok {
				if n, err := strconv.Atoi(s); err != nil || strconv.Itoa(n) != s {
					return &js.Failure{Raw: true, Message: "Invalid input received: key_size must be an integer."}
				}
			}
			return nil
		}}
	encryptionProps = []js.Property{
		{Name: "key_size", Schema: keySize},
		{Name: "provider", Schema: js.Schema{js.Type("string"), js.MinLength(0), js.MaxLength(255)}},
		{Name: "control_location", Schema: js.Schema{js.Enum("front-end", "back-end")}},
		{Name: "cipher", Schema: js.Schema{js.Type("string", "null"), js.MinLength(0), js.MaxLength(255)}},
	}
	// Other keys of encryption are allowed (and ignored), as Cinder's
	// schema allows them.
	encryptionCreateSchema = js.Object([]string{"encryption"}, js.Property{Name: "encryption", Schema: js.Schema{js.Type("object"),
		js.Properties(encryptionProps...), js.Required("provider", "control_location")}})
	encryptionUpdateSchema = js.Object([]string{"encryption"}, js.Property{Name: "encryption", Schema: js.Schema{js.Type("object"),
		js.Properties(encryptionProps...)}})
)

// encryptionBody reads a validated encryption object; key_size becomes
// an integer in it, as Cinder's controller makes it before echoing it.
func encryptionBody(enc map[string]any) volume.EncryptionSpec {
	var spec volume.EncryptionSpec
	if ks, ok := enc["key_size"]; ok && ks != nil {
		var n int64
		switch t := ks.(type) {
		case string:
			n, _ = strconv.ParseInt(t, 10, 64)
		default:
			f, _, _ := js.NumberOf(t)
			n = int64(f)
		}
		enc["key_size"] = n
		spec.KeySize = &n
	}
	for _, f := range []string{"provider", "cipher", "key_size", "control_location"} {
		if _, ok := enc[f]; ok {
			spec.Set = append(spec.Set, f)
		}
	}
	spec.Provider, spec.Cipher, spec.ControlLocation = strOrNil(enc, "provider"), strOrNil(enc, "cipher"), strOrNil(enc, "control_location")
	return spec
}

// strOrNil is the string at key, untrimmed; nil when absent or null.
func strOrNil(m map[string]any, key string) *string {
	if s, ok := m[key].(string); ok {
		return &s
	}
	return nil
}

// typeEncryption answers GET /types/{id}/encryption: {} for a type
// without encryption.
func (h *handlers) typeEncryption(c *api.Call) (*api.Reply, error) {
	e, err := h.vols.TypeEncryption(c.Ctx, c.Param("type_id"))
	if err != nil {
		return nil, err
	}
	if e == nil {
		return api.JSON(http.StatusOK, map[string]any{}), nil
	}
	return api.JSON(http.StatusOK, encryptionView(e)), nil
}

// typeEncryptionItem answers GET /types/{id}/encryption/{key}: one
// column of the encryption.
func (h *handlers) typeEncryptionItem(c *api.Call) (*api.Reply, error) {
	typeID, key := c.Param("type_id"), c.Param("key")
	e, err := h.vols.TypeEncryption(c.Ctx, typeID)
	if err != nil {
		return nil, err
	}
	var view map[string]any
	if e != nil {
		view = encryptionView(e)
	}
	v, ok := view[key]
	if !ok {
		return nil, errs.Named("VolumeTypeEncryptionNotFound", errs.NotFound("Volume type encryption for type %s does not exist.", typeID))
	}
	return api.JSON(http.StatusOK, map[string]any{key: v}), nil
}

// createTypeEncryption answers with the request's encryption and the
// ids Cinder's database layer adds to it.
func (h *handlers) createTypeEncryption(c *api.Call) (*api.Reply, error) {
	body, err := decodeBody(c, encryptionCreateSchema)
	if err != nil {
		return nil, err
	}
	enc := maps.Clone(body["encryption"].(map[string]any))
	e, err := h.vols.CreateTypeEncryption(c.Ctx, c.Param("type_id"), encryptionBody(enc))
	if err != nil {
		return nil, err
	}
	enc["volume_type_id"], enc["encryption_id"] = e.VolumeTypeID, e.EncryptionID
	return api.JSON(http.StatusOK, map[string]any{"encryption": enc}), nil
}

// updateTypeEncryption answers with the request's body.
func (h *handlers) updateTypeEncryption(c *api.Call) (*api.Reply, error) {
	body, err := decodeBody(c, encryptionUpdateSchema)
	if err != nil {
		return nil, err
	}
	enc := maps.Clone(body["encryption"].(map[string]any))
	if _, err := h.vols.UpdateTypeEncryption(c.Ctx, c.Param("type_id"), encryptionBody(enc)); err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"encryption": enc}), nil
}

func (h *handlers) deleteTypeEncryption(c *api.Call) (*api.Reply, error) {
	if err := h.vols.DeleteTypeEncryption(c.Ctx, c.Param("type_id")); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusAccepted), nil
}
