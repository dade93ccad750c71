// Package secgroup is kumo's built-in security group store (no Neutron):
// per-project groups, each project with its "default" group, their rules,
// and which ports hold which groups (a server's groups are its ports').
//
// The rules and messages are Neutron's, as Nova's security group proxy
// (nova/network/security_group_api.py) passes them through: every project
// gets a "default" group the first time it needs one, with Neutron's
// default rules (all egress, ingress from members of the same group).
package secgroup

import (
	"time"

	"github.com/kumocloud/kumo/internal/quota/netquota"
	"github.com/kumocloud/kumo/internal/store"
)

// DefaultName is the name of each project's default group.
const DefaultName = "default"

// Service manages security groups.
type Service struct {
	db    *store.DB
	quota netquota.Checker
}

// New returns the security group service on db; the Neutron face's
// creates are checked against quota (the security_group and
// security_group_rule quotas, counted by CountGroups and CountRules).
func New(db *store.DB, quota netquota.Checker) *Service {
	return &Service{db: db, quota: quota}
}

// Group is a security group with its rules.
type Group struct {
	ID          string
	ProjectID   string
	Name        string
	Description string
	// Default marks the project's default group.
	Default bool
	// Stateful is Neutron's stateful-security-group attribute.
	Stateful bool
	Rules    []Rule
	// Neutron's standard attributes (tags are read by the Neutron face's
	// calls only).
	Revision             int
	CreatedAt, UpdatedAt time.Time
	Tags                 []string
}

// Rule is one Neutron security group rule.
type Rule struct {
	ID      string
	GroupID string
	// ProjectID is the project that made the rule (its group's, unless
	// an admin added it to another project's group).
	ProjectID string
	// GroupProjectID is the project of the rule's group.
	GroupProjectID string
	Direction      string // "ingress" or "egress"
	Ethertype      string // "IPv4" or "IPv6"
	Protocol       *string
	PortMin        *int
	PortMax        *int
	// RemoteCIDR or RemoteGroupID names who the rule admits (neither:
	// anyone).
	RemoteCIDR    *string
	RemoteGroupID *string
	// RemoteGroup is the remote group's name and project when it has one.
	RemoteGroup *GroupRef
	// InDefault marks a rule of a default group (Neutron's
	// belongs_to_default_sg).
	InDefault bool
	// Neutron's standard attributes.
	Description          string
	Revision             int
	CreatedAt, UpdatedAt time.Time
}

// GroupRef names a group in a rule's view.
type GroupRef struct {
	Name      string
	ProjectID string
}

// IngressRules are the rules Nova's proxy shows.
func (g *Group) IngressRules() []Rule {
	var out []Rule
	for _, r := range g.Rules {
		if r.Direction == "ingress" {
			out = append(out, r)
		}
	}
	return out
}

// NovaPorts are a rule's from_port and to_port as Nova shows them: a
// protocol without ports is the whole range (1-65535 for TCP and UDP, -1
// for the others), no protocol shows Neutron's nulls.
func (r *Rule) NovaPorts() (from, to *int) {
	if r.Protocol != nil && r.PortMin == nil && r.PortMax == nil {
		lo, hi := -1, -1
		if *r.Protocol == "tcp" || *r.Protocol == "udp" {
			lo, hi = 1, 65535
		}
		return &lo, &hi
	}
	return r.PortMin, r.PortMax
}
