package volume

import (
	"context"
	"math"
	"strconv"
	"strings"
)

// Capabilities is the pool's capability dict as the scheduler holds it
// (the LVM driver's pool stats, the backend's name, vendor, version and
// protocol filled in, the volume manager's allocated_capacity_gb).
func (p Pool) Capabilities() map[string]any {
	var total, free any = "infinite", "infinite"
	if p.TotalGB >= 0 {
		total, free = float64(p.TotalGB), float64(p.FreeGB)
	}
	return map[string]any{
		"pool_name": p.PoolName, "volume_backend_name": p.BackendName, "vendor_name": VendorName,
		"driver_version": DriverVersion, "storage_protocol": StorageProtocol,
		"total_capacity_gb": total, "free_capacity_gb": free,
		"allocated_capacity_gb": p.AllocatedGB, "provisioned_capacity_gb": float64(p.ProvisionedGB),
		"reserved_percentage": int64(0), "QoS_support": false, "max_over_subscription_ratio": 1.0,
		"thin_provisioning_support": false, "thick_provisioning_support": true,
		"total_volumes": p.TotalVolumes, "filter_function": nil, "goodness_function": nil,
		"multiattach": true, "backend_state": "up", "timestamp": p.Updated.Format("2006-01-02T15:04:05.000000"),
	}
}

// BackendCapabilities is the volume manager's get_capabilities of the
// backend: its stats and the standard capability properties.
type BackendCapabilities struct {
	Host            string // host@backend, the service's
	BackendName     string
	VendorName      string
	DriverVersion   string
	StorageProtocol string
	Properties      map[string]map[string]any
}

// Capabilities returns the backend's capabilities (Cinder's
// /capabilities/{host}).
func (s *Service) Capabilities(ctx context.Context) BackendCapabilities {
	prop := func(title, desc string) map[string]any {
		return map[string]any{"title": title, "description": desc, "type": "boolean"}
	}
	return BackendCapabilities{Host: s.cfg.Host, BackendName: BackendName, VendorName: VendorName,
		DriverVersion: DriverVersion, StorageProtocol: StorageProtocol,
		Properties: map[string]map[string]any{
			"thin_provisioning":   prop("Thin Provisioning", "Sets thin provisioning."),
			"compression":         prop("Compression", "Enables compression."),
			"qos":                 prop("QoS", "Enables QoS."),
			"replication_enabled": prop("Replication", "Enables replication."),
		}}
}

// SatisfiesExtraSpecs is Cinder's CapabilitiesFilter: each unscoped (or
// "capabilities:") extra spec must match the capability it names.
func SatisfiesExtraSpecs(caps map[string]any, specs map[string]string) bool {
	for key, req := range specs {
		scope := strings.Split(key, ":")
		if len(scope) > 1 && scope[0] != "capabilities" {
			continue
		}
		if scope[0] == "capabilities" {
			scope = scope[1:]
		}
		var cap any = caps
		for _, k := range scope {
			m, ok := cap.(map[string]any)
			if !ok {
				return false
			}
			if cap, ok = m[k]; !ok {
				return false
			}
		}
		if !matchSpec(cap, req) {
			return false
		}
	}
	return true
}

// matchSpec is Cinder's extra_specs_ops.match of a capability value.
func matchSpec(value any, req string) bool {
	words := strings.Fields(req)
	op := ""
	if len(words) > 0 {
		op, words = words[0], words[1:]
	}
	num := func(f func(a, b float64) bool) bool {
		a, err1 := strconv.ParseFloat(pyStr(value), 64)
		b, err2 := strconv.ParseFloat(words[0], 64)
		return err1 == nil && err2 == nil && f(a, b)
	}
	str := func(f func(a, b string) bool) bool {
		s, ok := value.(string)
		return ok && f(s, words[0])
	}
	ops := map[string]func() bool{
		"=":   func() bool { return num(func(a, b float64) bool { return a >= b }) },
		"==":  func() bool { return num(func(a, b float64) bool { return a == b }) },
		"!=":  func() bool { return num(func(a, b float64) bool { return a != b }) },
		">=":  func() bool { return num(func(a, b float64) bool { return a >= b }) },
		"<=":  func() bool { return num(func(a, b float64) bool { return a <= b }) },
		"s==": func() bool { return str(func(a, b string) bool { return a == b }) },
		"s!=": func() bool { return str(func(a, b string) bool { return a != b }) },
		"s<":  func() bool { return str(func(a, b string) bool { return a < b }) },
		"s<=": func() bool { return str(func(a, b string) bool { return a <= b }) },
		"s>":  func() bool { return str(func(a, b string) bool { return a > b }) },
		"s>=": func() bool { return str(func(a, b string) bool { return a >= b }) },
		"<in>": func() bool {
			s, ok := value.(string)
			return ok && strings.Contains(s, words[0])
		},
		"<is>": func() bool { return truthy(value) == truthy(words[0]) },
	}
	method, known := ops[op]
	if op != "<or>" && !known {
		s, ok := value.(string)
		return ok && s == req
	}
	if value == nil || len(words) == 0 {
		return false
	}
	if op == "<or>" {
		for i := 0; i < len(words); i += 2 {
			if words[i] == pyStr(value) {
				return true
			}
		}
		return false
	}
	return method()
}

// truthy is oslo's bool_from_string (not strict) of a value.
func truthy(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "1", "t", "true", "on", "y", "yes":
			return true
		}
	}
	return false
}

// pyStr is Python's str() of a capability value.
func pyStr(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case bool:
		if t {
			return "True"
		}
		return "False"
	case int64:
		return strconv.FormatInt(t, 10)
	case int:
		return strconv.Itoa(t)
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1e16 {
			return strconv.FormatFloat(t, 'f', 1, 64)
		}
		return strconv.FormatFloat(t, 'g', -1, 64)
	case nil:
		return "None"
	}
	return ""
}

// EqualAfterConvert is the scheduler's _equal_after_convert of a
// get_pools filter: the value as the capability's type, else as text.
func EqualAfterConvert(capability any, value string) bool {
	switch c := capability.(type) {
	case nil:
		return false
	case string:
		return c == value
	case bool:
		return c == truthy(value)
	}
	return pyStr(capability) == value
}
