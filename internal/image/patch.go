package image

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
)

// PatchOp is one change of an image PATCH: op is add, replace or remove;
// Attr is the top-level attribute or extra property the JSON pointer
// names; Value is the decoded JSON value (json.Number for numbers).
type PatchOp struct {
	Op    string
	Attr  string
	Value any
	// Strict is Glance's draft-4 patch media type, where adding an
	// attribute that already exists is a conflict.
	Strict bool
}

// CheckPatch validates ops without touching any image: unknown
// operations and read-only or reserved attributes are refused before the
// image is even looked up, as Glance does.
func CheckPatch(ops []PatchOp) error {
	for _, op := range ops {
		if op.Op != "add" && op.Op != "replace" && op.Op != "remove" {
			return errs.Invalid("Invalid operation: `%s`. It must be one of the following: add, remove, replace.", op.Op)
		}
		if err := checkWritable(op.Attr); err != nil {
			return err
		}
		if op.Op != "remove" {
			if err := checkValueType(op.Attr, op.Value); err != nil {
				return err
			}
		}
	}
	return nil
}

// Patch applies ops to an image the caller may modify, all or nothing.
func (s *Service) Patch(ctx context.Context, p *auth.Principal, id string, ops []PatchOp) (*Image, error) {
	if err := CheckPatch(ops); err != nil {
		return nil, err
	}
	return s.update(ctx, p, id, "modify_image", func(img *Image) error {
		for _, op := range ops {
			if err := applyOp(p, img, op); err != nil {
				return err
			}
		}
		return nil
	})
}

func applyOp(p *auth.Principal, img *Image, op PatchOp) error {
	if op.Attr == "locations" {
		return locationsOp(p, op)
	}
	if op.Op == "remove" {
		if IsBase(op.Attr) {
			return errs.Forbidden("Property %s may not be removed.", op.Attr)
		}
		if _, ok := img.Properties[op.Attr]; !ok {
			return errs.Conflict("Property %s does not exist.", op.Attr)
		}
		delete(img.Properties, op.Attr)
		return nil
	}
	if !IsBase(op.Attr) {
		_, exists := img.Properties[op.Attr]
		if op.Op == "replace" && !exists {
			return errs.Conflict("Property %s does not exist.", op.Attr)
		}
		if op.Op == "add" && exists && op.Strict {
			return errs.Conflict("Property %s already present.", op.Attr)
		}
		img.Properties[op.Attr] = op.Value.(string)
		return nil
	}
	if op.Op == "add" && op.Strict {
		return errs.Conflict("Property %s already present.", op.Attr)
	}
	return setBase(p, img, op.Attr, op.Value)
}

// setBase sets a base attribute; values were type-checked by CheckPatch.
func setBase(p *auth.Principal, img *Image, attr string, v any) error {
	switch attr {
	case "name":
		img.Name = optString(v)
	case "visibility":
		vis := v.(string)
		if err := checkVisibilityChange(p, vis); err != nil {
			return err
		}
		img.Visibility = vis
	case "owner":
		if !p.IsAdmin() {
			return errs.Forbidden("Owner can't be updated by non admin.")
		}
		if o := optString(v); o != nil {
			img.Owner = *o
		} else {
			img.Owner = ""
		}
	case "container_format", "disk_format":
		if img.Status != StatusQueued {
			return errs.Forbidden("Attribute %s can be only replaced for a queued image.", attr)
		}
		if attr == "container_format" {
			img.ContainerFormat = optString(v)
		} else {
			img.DiskFormat = optString(v)
		}
	case "min_disk":
		img.MinDisk = mustInt(v)
	case "min_ram":
		img.MinRAM = mustInt(v)
	case "protected":
		img.Protected = v.(bool)
	case "os_hidden":
		img.OSHidden = v.(bool)
	case "tags":
		var tags []string
		for _, t := range v.([]any) {
			tags = append(tags, t.(string))
		}
		img.Tags = uniqueTags(tags)
	default:
		return errs.Forbidden("Attribute '%s' is read-only.", attr)
	}
	return nil
}

// locationsOp is a PATCH of locations as Glance answers it with
// show_multiple_locations off: refused, after the checks Glance makes
// first (set_image_location passes where modify_image did; removing
// needs delete_image_location, admins only).
func locationsOp(p *auth.Principal, op PatchOp) error {
	switch op.Op {
	case "replace":
		if list, _ := op.Value.([]any); len(list) == 0 {
			return errs.Forbidden("Cannot set locations to empty list.")
		}
		return errs.Forbidden("It's not allowed to update locations if locations are invisible.")
	case "add":
		return errs.Forbidden("It's not allowed to add locations if locations are invisible.")
	}
	if !p.IsAdmin() {
		return notAuthorized("delete_image_location")
	}
	return errs.Forbidden("It's not allowed to remove locations if locations are invisible.")
}

func optString(v any) *string {
	if v == nil {
		return nil
	}
	s := v.(string)
	return &s
}

func mustInt(v any) int {
	n, _ := asInt(v)
	return n
}

// asInt reads a JSON integer value.
func asInt(v any) (int, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		if err != nil || i > math.MaxInt32 || i < math.MinInt32 {
			return 0, false
		}
		return int(i), true
	case float64:
		if n != math.Trunc(n) {
			return 0, false
		}
		return int(n), true
	case int:
		return n, true
	}
	return 0, false
}

// checkValueType validates a value against the type Glance's image
// schema gives the attribute.
func checkValueType(attr string, v any) error {
	bad := func(want string) error {
		return errs.Invalid("Invalid value for %s: %s is not of type %s", attr, describe(v), want)
	}
	switch attr {
	case "name", "owner", "container_format", "disk_format":
		if v == nil {
			return nil
		}
		s, ok := v.(string)
		if !ok {
			return bad("'null', 'string'")
		}
		if attr == "container_format" {
			return validFormat(attr, &s, ContainerFormats)
		}
		if attr == "disk_format" {
			return validFormat(attr, &s, DiskFormats)
		}
	case "visibility":
		s, ok := v.(string)
		if !ok {
			return bad("'string'")
		}
		return validVisibility(s)
	case "min_disk", "min_ram":
		if _, ok := asInt(v); !ok {
			return bad("'integer'")
		}
	case "protected", "os_hidden":
		if _, ok := v.(bool); !ok {
			return bad("'boolean'")
		}
	case "tags":
		list, ok := v.([]any)
		if !ok {
			return bad("'array'")
		}
		for _, t := range list {
			if _, ok := t.(string); !ok {
				return errs.Invalid("Invalid value for tags: %s is not of type 'string'", describe(t))
			}
		}
	case "locations":
		return nil
	default:
		if IsBase(attr) {
			return nil
		}
		if _, ok := v.(string); !ok {
			return bad("'string'")
		}
		if slices.Contains(reserved, attr) {
			return errs.Forbidden("Attribute '%s' is reserved.", attr)
		}
	}
	return nil
}

func describe(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
