package identity

// OS-ENDPOINT-POLICY: policies associated with an endpoint, a service, or
// a service in a region, as Keystone's endpoint_policy manager and SQL
// backend keep them. An endpoint's policy is the most specific one: its
// own, then its service's in its region or the nearest parent region
// that has one, then its service's.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// PolicyTarget is what a policy is associated with: an endpoint alone,
// a service alone, or a service and a region.
type PolicyTarget struct {
	EndpointID, ServiceID, RegionID string
}

// valid is Keystone's _assert_valid_association.
func (t PolicyTarget) valid() error {
	switch {
	case t.EndpointID != "" && t.ServiceID == "" && t.RegionID == "",
		t.EndpointID == "" && t.ServiceID != "":
		return nil
	}
	none := func(s string) string {
		if s == "" {
			return "None"
		}
		return s
	}
	return errs.Forbidden("Invalid mix of entities for policy association: only Endpoint, Service, or Region+Service allowed. "+
		"Request was - Endpoint: %s, Service: %s, Region: %s.", none(t.EndpointID), none(t.ServiceID), none(t.RegionID))
}

// targetWhere matches an association's target; the COALESCEd columns are
// those of the unique index policy_associations_target.
const targetWhere = `COALESCE(endpoint_id, '') = ? AND COALESCE(service_id, '') = ? AND COALESCE(region_id, '') = ?`

func (t PolicyTarget) args() []any { return []any{t.EndpointID, t.ServiceID, t.RegionID} }

var errPolicyAssociationNotFound = errs.NotFound("Could not find policy association.")

// checkPolicyTarget checks, in the order of Keystone's API, that the
// policy and what the target names exist.
func checkPolicyTarget(ctx context.Context, q store.Querier, policyID string, t PolicyTarget) error {
	if err := t.valid(); err != nil {
		return err
	}
	if _, err := getPolicy(ctx, q, policyID); err != nil {
		return err
	}
	if t.EndpointID != "" {
		_, err := getEndpoint(ctx, q, t.EndpointID)
		return err
	}
	if _, err := getCatalogService(ctx, q, t.ServiceID); err != nil {
		return err
	}
	if t.RegionID != "" {
		_, err := getRegion(ctx, q, t.RegionID)
		return err
	}
	return nil
}

// AssociatePolicy associates a policy with a target; a target associated
// with another policy moves to this one, as in Keystone.
func (s *Service) AssociatePolicy(ctx context.Context, policyID string, t PolicyTarget) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := checkPolicyTarget(ctx, tx, policyID, t); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE policy_associations SET policy_id = ? WHERE `+targetWhere, append([]any{policyID}, t.args()...)...)
		if err != nil {
			return fmt.Errorf("associate policy %s: %w", policyID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("associate policy %s: %w", policyID, err)
		} else if n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO policy_associations (id, policy_id, endpoint_id, service_id, region_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, newID(), policyID, nullString(t.EndpointID), nullString(t.ServiceID), nullString(t.RegionID),
			s.nowMicros()); err != nil {
			return fmt.Errorf("associate policy %s: %w", policyID, err)
		}
		return nil
	})
}

// CheckPolicyAssociation is nil when the policy is associated with the
// target.
func (s *Service) CheckPolicyAssociation(ctx context.Context, policyID string, t PolicyTarget) error {
	if err := checkPolicyTarget(ctx, s.db, policyID, t); err != nil {
		return err
	}
	ok, err := exists(ctx, s.db, `SELECT 1 FROM policy_associations WHERE policy_id = ? AND `+targetWhere, append([]any{policyID}, t.args()...)...)
	if err != nil {
		return err
	}
	if !ok {
		return errPolicyAssociationNotFound
	}
	return nil
}

// DeletePolicyAssociation removes an association; as Keystone's, removing
// one that does not exist is no error once policy and target exist.
func (s *Service) DeletePolicyAssociation(ctx context.Context, policyID string, t PolicyTarget) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := checkPolicyTarget(ctx, tx, policyID, t); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM policy_associations WHERE policy_id = ? AND `+targetWhere,
			append([]any{policyID}, t.args()...)...); err != nil {
			return fmt.Errorf("delete association of policy %s: %w", policyID, err)
		}
		return nil
	})
}

// ListEndpointsForPolicy lists the endpoints a policy reaches, as
// Keystone's list_endpoints_for_policy: association by association
// (oldest first), an endpoint's own, a service's endpoints, and a service's
// endpoints in a region and the regions below it. An endpoint reached
// through several associations is listed for each, as in Keystone.
func (s *Service) ListEndpointsForPolicy(ctx context.Context, policyID string) ([]Endpoint, error) {
	if _, err := getPolicy(ctx, s.db, policyID); err != nil {
		return nil, err
	}
	targets, err := listRows(ctx, s.db, "associations of policy", `SELECT COALESCE(endpoint_id, ''), COALESCE(service_id, ''),
		COALESCE(region_id, '') FROM policy_associations WHERE policy_id = ? ORDER BY created_at, id`, []any{policyID}, scanPolicyTarget)
	if err != nil || len(targets) == 0 {
		return nil, err
	}
	endpoints, err := s.ListEndpoints(ctx, EndpointFilter{})
	if err != nil {
		return nil, err
	}
	regions, err := s.ListRegions(ctx, nil)
	if err != nil {
		return nil, err
	}
	var out []Endpoint
	for _, t := range targets {
		switch {
		case t.EndpointID != "":
			for _, e := range endpoints {
				if e.ID == t.EndpointID {
					out = append(out, e)
				}
			}
		case t.RegionID != "":
			out = appendRegionEndpoints(out, t.ServiceID, t.RegionID, endpoints, regions, map[string]bool{})
		default:
			for _, e := range endpoints {
				if e.ServiceID == t.ServiceID {
					out = append(out, e)
				}
			}
		}
	}
	return out, nil
}

// appendRegionEndpoints appends a service's endpoints in a region, then
// those of each child region in turn, depth first, as Keystone's
// _recursively_get_endpoints_for_region.
func appendRegionEndpoints(out []Endpoint, serviceID, regionID string, endpoints []Endpoint, regions []CatalogRegion, seen map[string]bool) []Endpoint {
	if seen[regionID] {
		return out
	}
	seen[regionID] = true
	for _, e := range endpoints {
		if e.ServiceID == serviceID && e.RegionID == regionID {
			out = append(out, e)
		}
	}
	for _, r := range regions {
		if r.ParentRegionID == regionID {
			out = appendRegionEndpoints(out, serviceID, r.ID, endpoints, regions, seen)
		}
	}
	return out
}

func scanPolicyTarget(row interface{ Scan(...any) error }) (*PolicyTarget, error) {
	var t PolicyTarget
	if err := row.Scan(&t.EndpointID, &t.ServiceID, &t.RegionID); err != nil {
		return nil, err
	}
	return &t, nil
}

// associatedPolicy is the policy id associated with a target, "" when
// none is.
func associatedPolicy(ctx context.Context, q store.Querier, t PolicyTarget) (string, error) {
	var id string
	err := q.QueryRowContext(ctx, `SELECT policy_id FROM policy_associations WHERE `+targetWhere, t.args()...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("policy association: %w", err)
	}
	return id, nil
}

// PolicyForEndpoint is the policy of an endpoint, as Keystone's
// get_policy_for_endpoint: the endpoint's own association, else its
// service's in its region or, walking up, the nearest parent region's,
// else its service's.
func (s *Service) PolicyForEndpoint(ctx context.Context, endpointID string) (*Policy, error) {
	e, err := getEndpoint(ctx, s.db, endpointID)
	if err != nil {
		return nil, err
	}
	id, err := associatedPolicy(ctx, s.db, PolicyTarget{EndpointID: endpointID})
	if id == "" && err == nil {
		id, err = s.regionPolicy(ctx, e.ServiceID, e.RegionID)
	}
	if id == "" && err == nil {
		id, err = associatedPolicy(ctx, s.db, PolicyTarget{ServiceID: e.ServiceID})
	}
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, errs.NotFound("No policy is associated with endpoint %s.", endpointID)
	}
	return getPolicy(ctx, s.db, id)
}

// regionPolicy is the policy associated with a service in a region or,
// walking up, in the nearest parent region with one ("" when none).
func (s *Service) regionPolicy(ctx context.Context, serviceID, regionID string) (string, error) {
	for seen := map[string]bool{}; regionID != "" && !seen[regionID]; {
		seen[regionID] = true
		id, err := associatedPolicy(ctx, s.db, PolicyTarget{ServiceID: serviceID, RegionID: regionID})
		if err != nil || id != "" {
			return id, err
		}
		r, err := getRegion(ctx, s.db, regionID)
		if err != nil {
			return "", err
		}
		regionID = r.ParentRegionID
	}
	return "", nil
}
