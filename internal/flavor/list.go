package flavor

import (
	"cmp"
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/errs"
)

// Visibility selects flavors by their is_public flag.
type Visibility int

const (
	// PublicAndAccessible is Nova's default: public flavors plus private
	// ones the viewer's project was given access to.
	PublicAndAccessible Visibility = iota
	// PrivateOnly lists private flavors (admins only).
	PrivateOnly
	// AllFlavors lists every flavor (admins only).
	AllFlavors
)

// SortKeys are the keys Nova accepts in sort_key.
var SortKeys = []string{
	"created_at", "description", "disabled", "ephemeral_gb", "flavorid", "id",
	"is_public", "memory_mb", "name", "root_gb", "rxtx_factor", "swap",
	"updated_at", "vcpu_weight", "vcpus",
}

// ListOptions filter, sort and page a flavor listing.
type ListOptions struct {
	Visibility Visibility // ignored for non-admins, who always get PublicAndAccessible
	MinRAM     *int
	MinDisk    *int
	Name       *regexp.Regexp // matched anywhere in the name, as Nova's REGEXP filter
	SortKey    string         // one of SortKeys; "" means flavorid
	SortDesc   bool
	Limit      int // < 0: no limit
	Marker     string
}

// List returns the flavors v may see that match o, sorted and paged the
// way Nova's paginate_query does (sort key, then creation order).
func (s *Service) List(ctx context.Context, v Viewer, o ListOptions) ([]*Flavor, error) {
	all, err := allFlavors(ctx, s.db)
	if err != nil {
		return nil, err
	}
	granted, err := accessibleIDs(ctx, s.db, v.ProjectID)
	if err != nil {
		return nil, err
	}
	visible := all[:0]
	for _, f := range all {
		if v.Admin || f.IsPublic || granted[f.ID] {
			visible = append(visible, f)
		}
	}
	order := comparator(o.SortKey, o.SortDesc)
	slices.SortStableFunc(visible, order)

	var marker *Flavor
	if o.Marker != "" {
		i := slices.IndexFunc(visible, func(f *Flavor) bool { return f.ID == o.Marker })
		if i < 0 {
			return nil, errs.Invalid("marker [%s] not found", o.Marker)
		}
		marker = visible[i]
	}
	vis := o.Visibility
	if !v.Admin {
		vis = PublicAndAccessible
	}
	out := []*Flavor{}
	for _, f := range visible {
		if marker != nil && order(f, marker) <= 0 {
			continue
		}
		if !matches(f, v, vis, granted, o) {
			continue
		}
		if o.Limit >= 0 && len(out) >= o.Limit {
			break
		}
		out = append(out, f)
	}
	return out, nil
}

func matches(f *Flavor, v Viewer, vis Visibility, granted map[string]bool, o ListOptions) bool {
	switch vis {
	case PublicAndAccessible:
		if !f.IsPublic && !granted[f.ID] {
			return false
		}
	case PrivateOnly:
		if f.IsPublic {
			return false
		}
	}
	if !v.Admin && f.Disabled {
		return false
	}
	if o.MinRAM != nil && f.RAM < *o.MinRAM {
		return false
	}
	if o.MinDisk != nil && f.Disk < *o.MinDisk {
		return false
	}
	if o.Name != nil && !o.Name.MatchString(f.Name) {
		return false
	}
	return true
}

// comparator orders flavors by key, breaking ties by creation order and
// then id, all in the same direction.
func comparator(key string, desc bool) func(a, b *Flavor) int {
	primary := sortField(key)
	return func(a, b *Flavor) int {
		c := primary(a, b)
		if c == 0 {
			c = a.CreatedAt.Compare(b.CreatedAt)
		}
		if c == 0 {
			c = strings.Compare(a.ID, b.ID)
		}
		if desc {
			return -c
		}
		return c
	}
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

func sortField(key string) func(a, b *Flavor) int {
	switch key {
	case "created_at", "id", "vcpu_weight":
		// id is Nova's insertion order; vcpu_weight is never set through
		// the API, so both fall back to creation order.
		return func(a, b *Flavor) int { return 0 }
	case "description":
		return func(a, b *Flavor) int {
			switch {
			case a.Description == nil && b.Description == nil:
				return 0
			case a.Description == nil:
				return -1
			case b.Description == nil:
				return 1
			}
			return strings.Compare(*a.Description, *b.Description)
		}
	case "disabled":
		return func(a, b *Flavor) int { return boolCmp(a.Disabled, b.Disabled) }
	case "ephemeral_gb":
		return func(a, b *Flavor) int { return cmp.Compare(a.Ephemeral, b.Ephemeral) }
	case "is_public":
		return func(a, b *Flavor) int { return boolCmp(a.IsPublic, b.IsPublic) }
	case "memory_mb":
		return func(a, b *Flavor) int { return cmp.Compare(a.RAM, b.RAM) }
	case "name":
		return func(a, b *Flavor) int { return strings.Compare(a.Name, b.Name) }
	case "root_gb":
		return func(a, b *Flavor) int { return cmp.Compare(a.Disk, b.Disk) }
	case "rxtx_factor":
		return func(a, b *Flavor) int { return cmp.Compare(a.RxTxFactor, b.RxTxFactor) }
	case "swap":
		return func(a, b *Flavor) int { return cmp.Compare(a.Swap, b.Swap) }
	case "updated_at":
		return func(a, b *Flavor) int { return a.UpdatedAt.Compare(b.UpdatedAt) }
	case "vcpus":
		return func(a, b *Flavor) int { return cmp.Compare(a.VCPUs, b.VCPUs) }
	}
	return func(a, b *Flavor) int { return strings.Compare(a.ID, b.ID) } // flavorid
}
