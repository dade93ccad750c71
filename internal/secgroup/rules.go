package secgroup

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// RuleRequest is os-security-group-rules' create body. Nova validates
// only the group ids' format; the other fields are the raw JSON values
// (nil when absent or null) and are checked here as Nova's
// security_group_api does.
type RuleRequest struct {
	ParentGroupID string
	GroupID       *string
	IPProtocol    any
	FromPort      any
	ToPort        any
	CIDR          any
}

// CreateRule adds an ingress rule to a group the caller may see, with
// Nova's checks (_new_ingress_rule, parse_cidr, _rule_exists) and then
// Neutron's (ICMP type and code, duplicates).
func (s *Service) CreateRule(ctx context.Context, p *auth.Principal, req RuleRequest) (*Rule, error) {
	var out *Rule
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		parent, err := visibleGroup(ctx, tx, p, req.ParentGroupID)
		if err != nil {
			return err
		}
		if parent == nil {
			return groupNotFound(req.ParentGroupID)
		}
		if req.GroupID != nil {
			source, err := visibleGroup(ctx, tx, p, *req.GroupID)
			if err != nil {
				return err
			}
			if source == nil {
				return groupNotFound(*req.GroupID)
			}
		}
		rule, err := novaRule(req)
		if err != nil {
			return err
		}
		if dup := novaDuplicate(parent, rule); dup {
			return errs.Invalid("This rule already exists in group %s", parent.ID)
		}
		if err := neutronCheck(rule); err != nil {
			return err
		}
		if id := neutronDuplicate(parent, rule); id != "" {
			// Neutron's SecurityGroupRuleExists (409), a 403 through Nova.
			return errs.Forbidden("Security group rule already exists. Rule id is %s.", id)
		}
		rule.GroupID, rule.ProjectID = parent.ID, p.ProjectID
		if err := insertRule(ctx, tx, rule, time.Now()); err != nil {
			return err
		}
		if err := reviseGroup(ctx, tx, parent.ID); err != nil {
			return err
		}
		rules, err := loadRules(ctx, tx, `r.id = ?`, rule.ID)
		if err != nil {
			return err
		}
		out = &rules[0]
		return nil
	})
	return out, err
}

// DeleteRule removes a rule of a group the caller may see.
func (s *Service) DeleteRule(ctx context.Context, p *auth.Principal, id string) error {
	if !isUUID(id) {
		return invalidID()
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		rules, err := loadRules(ctx, tx, `r.id = ?`, id)
		if err != nil {
			return err
		}
		if len(rules) == 0 {
			return ruleNotFound(id)
		}
		g, err := visibleGroup(ctx, tx, p, rules[0].GroupID)
		if err != nil {
			return err
		}
		if g == nil {
			return ruleNotFound(id)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM security_group_rules WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete security group rule: %w", err)
		}
		return reviseGroup(ctx, tx, g.ID)
	})
}

// novaRule is the rule Nova builds and sends to Neutron
// (_new_ingress_rule and _make_neutron_security_group_rules_list): an
// ingress rule from a group or a CIDR (0.0.0.0/0 when none is given);
// a CIDR rule needs a protocol and both ports, -1 ports are "any".
func novaRule(req RuleRequest) (*Rule, error) {
	r := &Rule{Direction: "ingress", Ethertype: "IPv4"}
	from, to := req.FromPort, req.ToPort
	proto := pyStr(req.IPProtocol)
	if req.IPProtocol == nil || !pyTruthy(req.IPProtocol) {
		proto = ""
	}
	if req.GroupID != nil {
		r.RemoteGroupID = req.GroupID
		// A source group opens the whole range when no ports are given.
		switch strings.ToUpper(proto) {
		case "ICMP":
			if from == nil && to == nil {
				from, to = -1, -1
			}
		case "TCP", "UDP":
			if from == nil && to == nil {
				from, to = 1, 65535
			}
		}
	} else {
		cidr, err := parseCIDR(req.CIDR)
		if err != nil {
			return nil, err
		}
		r.RemoteCIDR = &cidr
	}
	if proto == "" || from == nil || to == nil {
		if req.GroupID == nil {
			return nil, errs.Invalid("Not enough parameters to build a valid rule.")
		}
		return r, nil
	}
	upper := strings.ToUpper(proto)
	lo, okLo := pyInt(from)
	hi, okHi := pyInt(to)
	if !okLo || !okHi {
		if upper == "ICMP" {
			return nil, errs.Invalid("Invalid input received: Type and Code must be integers for ICMP protocol type")
		}
		return nil, errs.Invalid("Invalid input received: To and From ports must be integers")
	}
	if upper != "TCP" && upper != "UDP" && upper != "ICMP" {
		return nil, errs.Invalid("Invalid IP protocol %s.", proto)
	}
	if upper != "ICMP" && lo > hi {
		return nil, errs.Invalid("Invalid port range %d:%d. Former value cannot be greater than the later", lo, hi)
	}
	if upper != "ICMP" && (lo < 1 || hi > 65535) {
		return nil, errs.Invalid("Invalid port range %d:%d. Valid %s ports should be between 1-65535", lo, hi, upper)
	}
	if upper == "ICMP" && (lo < -1 || lo > 255 || hi < -1 || hi > 255) {
		return nil, errs.Invalid("Invalid port range %d:%d. For ICMP, the type:code must be valid", lo, hi)
	}
	lower := strings.ToLower(proto) // Neutron stores protocol names in lower case
	r.Protocol = &lower
	if lo != -1 {
		r.PortMin = &lo
	}
	if hi != -1 {
		r.PortMax = &hi
	}
	if r.RemoteCIDR != nil {
		if pfx, err := netip.ParsePrefix(*r.RemoteCIDR); err == nil && pfx.Addr().Is6() {
			r.Ethertype = "IPv6"
		}
	}
	return r, nil
}

// parseCIDR is Nova's parse_cidr plus the controller's prefix check. The
// prefix is kept as given, host bits included (10.2.3.124/24), which is
// what Nova answers and Tempest checks.
func parseCIDR(v any) (string, error) {
	if v == nil || !pyTruthy(v) {
		return "0.0.0.0/0", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", errs.Invalid("%s is not a valid IP network.", pyStr(v))
	}
	if u, err := url.PathUnescape(s); err == nil {
		s = u
	}
	pfx, err := netip.ParsePrefix(s)
	if err != nil || pfx.Addr().Zone() != "" {
		return "", errs.Invalid("%s is not a valid IP network.", s)
	}
	if pfx.Bits() == 0 && !pfx.Addr().IsUnspecified() {
		return "", errs.Invalid("Bad prefix for network in cidr %s", s)
	}
	return pfx.String(), nil
}

// neutronCheck is what Neutron refuses of a rule Nova passed: an ICMP
// code without a type.
func neutronCheck(r *Rule) error {
	if r.Protocol != nil && *r.Protocol == "icmp" && r.PortMin == nil && r.PortMax != nil {
		return errs.Invalid("ICMP code (port-range-max) %d is provided but ICMP type (port-range-min) is missing.", *r.PortMax)
	}
	return nil
}

// novaDuplicate is Nova's _rule_exists: the same group, CIDR, ports and
// protocol as an ingress rule shown by the proxy. Nova compares its own
// view of the existing rules, where every rule has a CIDR (0.0.0.0/0 for
// group rules), so a repeated group rule is left to Neutron.
func novaDuplicate(g *Group, r *Rule) bool {
	for _, old := range g.IngressRules() {
		oldCIDR := "0.0.0.0/0"
		if old.RemoteCIDR != nil {
			oldCIDR = *old.RemoteCIDR
		}
		oldFrom, oldTo := old.NovaPorts()
		newFrom, newTo := r.PortMin, r.PortMax
		if r.Protocol != nil && newFrom == nil {
			newFrom = ptr(-1)
		}
		if r.Protocol != nil && newTo == nil {
			newTo = ptr(-1)
		}
		if eqStr(old.RemoteGroupID, r.RemoteGroupID) && r.RemoteCIDR != nil && oldCIDR == *r.RemoteCIDR &&
			eqInt(oldFrom, newFrom) && eqInt(oldTo, newTo) && eqStr(old.Protocol, r.Protocol) {
			return true
		}
	}
	return false
}

// neutronDuplicate is the id of a rule Neutron would call the same
// (ruleKey, which the Neutron face checks too).
func neutronDuplicate(g *Group, r *Rule) string {
	probe := *r
	probe.GroupID = g.ID
	key := ruleKey(probe)
	for _, old := range g.Rules {
		if ruleKey(old) == key {
			return old.ID
		}
	}
	return ""
}

func ptr(n int) *int { return &n }

func eqStr(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func eqInt(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// pyInt is Python's int() on a JSON value: integers, numeric strings
// (surrounding blanks allowed), floats truncated, booleans.
func pyInt(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, false
		}
		return int(x), true
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return int(n), true
		}
		f, err := x.Float64()
		if err != nil {
			return 0, false
		}
		return pyInt(f)
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		return n, err == nil
	}
	return 0, false
}

// pyTruthy is Python's truth value of a JSON value.
func pyTruthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case float64:
		return x != 0
	case int:
		return x != 0
	case json.Number:
		f, _ := x.Float64()
		return f != 0
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// pyStr is Python's str() of a JSON value, for messages.
func pyStr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	}
	return fmt.Sprint(v)
}
