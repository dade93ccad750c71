package image

import (
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/kumocloud/kumo/internal/errs"
)

// Formats Glance accepts by default.
var (
	ContainerFormats = []string{"ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"}
	DiskFormats      = []string{"ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"}
	Visibilities     = []string{Community, Public, Private, Shared}
)

var uuidPattern = regexp.MustCompile(`^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$`)

// ReadOnly lists the attributes clients may never set.
var ReadOnly = []string{"created_at", "updated_at", "status", "checksum", "size", "virtual_size",
	"direct_url", "self", "file", "schema", "id", "os_hash_algo", "os_hash_value"}

// reserved lists property names Glance keeps for itself.
var reserved = []string{"location", "deleted", "deleted_at"}

// BaseAttributes are the image attributes that are not extra properties.
var BaseAttributes = []string{"checksum", "created_at", "container_format", "disk_format", "id",
	"min_disk", "min_ram", "name", "size", "virtual_size", "status", "tags", "owner", "updated_at",
	"visibility", "protected", "os_hidden", "os_hash_algo", "os_hash_value", "locations",
	"direct_url", "self", "file", "schema", "stores"}

// IsBase reports whether name is a base attribute rather than an extra
// property.
func IsBase(name string) bool { return slices.Contains(BaseAttributes, name) }

// checkWritable rejects names clients may not write: read-only
// attributes and reserved names (403 in Glance).
func checkWritable(name string) error {
	if slices.Contains(ReadOnly, name) {
		return errs.Forbidden("Attribute '%s' is read-only.", name)
	}
	if slices.Contains(reserved, name) || strings.HasPrefix(name, "os_glance") {
		return errs.Forbidden("Attribute '%s' is reserved.", name)
	}
	return nil
}

func validVisibility(v string) error {
	if !slices.Contains(Visibilities, v) {
		return errs.Invalid("Visibility must be one of \"community\", \"public\", \"private\", or \"shared\"")
	}
	return nil
}

func validFormat(kind string, v *string, allowed []string) error {
	if v == nil || slices.Contains(allowed, *v) {
		return nil
	}
	return errs.Invalid("Invalid value '%s' for %s: not one of %s", *v, kind, strings.Join(allowed, ", "))
}

// validate checks an image's client-settable attributes, tags and
// properties against Glance's schema and limits.
func validate(img *Image) error {
	if img.Name != nil && len(*img.Name) > MaxNameLength {
		return errs.Invalid("Invalid value for name: longer than %d characters", MaxNameLength)
	}
	if err := validVisibility(img.Visibility); err != nil {
		return err
	}
	if err := validFormat("container_format", img.ContainerFormat, ContainerFormats); err != nil {
		return err
	}
	if err := validFormat("disk_format", img.DiskFormat, DiskFormats); err != nil {
		return err
	}
	if img.MinDisk < 0 {
		return errs.Invalid("Invalid value '%d' for parameter 'min_disk': Cannot be a negative value", img.MinDisk)
	}
	if img.MinRAM < 0 {
		return errs.Invalid("Invalid value '%d' for parameter 'min_ram': Cannot be a negative value", img.MinRAM)
	}
	if len(img.Owner) > 255 {
		return errs.Invalid("Invalid value for owner: longer than 255 characters")
	}
	for _, t := range img.Tags {
		if len(t) > 255 {
			return errs.Invalid("Invalid tag '%s': longer than 255 characters", t)
		}
	}
	if len(img.Tags) > MaxTags {
		return errs.TooLarge("The limit has been exceeded on the number of allowed image tags. Attempted: %d, Maximum: %d", len(img.Tags), MaxTags)
	}
	for k := range img.Properties {
		if len(k) > 255 {
			return errs.Invalid("Custom property should not be greater than 255 characters.")
		}
		if IsBase(k) {
			return errs.Invalid("Property %s is not an extra property", k)
		}
	}
	if len(img.Properties) > MaxProperties {
		return errs.TooLarge("The limit has been exceeded on the number of allowed image properties. Attempted: %d, Maximum: %d", len(img.Properties), MaxProperties)
	}
	return nil
}

// uniqueTags returns tags without duplicates, sorted.
func uniqueTags(tags []string) []string {
	out := []string{}
	for _, t := range tags {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}
