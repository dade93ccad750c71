// Package router is the networking service's routers (Neutron's L3):
// a router's gateway takes an address of the floating range on the
// external network, its interfaces are ports on project subnets, and
// floating IPs bind to fixed IPs of the subnets a router connects to the
// external network. Guest traffic is not routed by them yet: they are
// kept and shown, as floating IPs are.
package router

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/floatingip"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/quota/netquota"
	"github.com/kumocloud/kumo/internal/store"
)

// KindRouters is the tag kind of routers.
const KindRouters = "routers"

// Router is a Neutron router.
type Router struct {
	ID, ProjectID     string
	Name, Description string
	AdminStateUp      bool
	// Gateway is its external gateway (nil: none).
	Gateway              *Gateway
	Routes               []Route
	Revision             int
	CreatedAt, UpdatedAt time.Time
	Tags                 []string
}

// Gateway is a router's external gateway: its network and the fixed IPs
// of its gateway port there.
type Gateway struct {
	NetworkID  string
	EnableSNAT bool
	FixedIPs   []network.FixedIP
}

// Route is an extra route of a router.
type Route struct {
	Destination string `json:"destination"`
	NextHop     string `json:"nexthop"`
}

// Service manages routers.
type Service struct {
	db    *store.DB
	nets  *network.Service
	fips  *floatingip.Service
	quota netquota.Checker
}

// New returns the router service; it makes the default routers the
// floating IP service asks for. Creates check the router quota with q.
func New(db *store.DB, nets *network.Service, fips *floatingip.Service, q netquota.Checker) *Service {
	s := &Service{db: db, nets: nets, fips: fips, quota: q}
	fips.UseTopology(s)
	return s
}

// RouterNotFound is Neutron's 404 for a router.
func RouterNotFound(id string) error {
	return errs.Named("RouterNotFound", errs.NotFound("Router %s could not be found", id))
}

// BadRequest is Neutron's BadRequest(resource=router).
func BadRequest(format string, args ...any) error {
	return errs.Named("BadRequest", errs.Invalid("Bad router request: "+format+".", args...))
}

// CountRouters counts projectID's routers (the networking quota's router
// counter).
func CountRouters(ctx context.Context, q store.Querier, projectID string) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM routers WHERE project_id = ?`, projectID).Scan(&n)
	return n, err
}

const routerColumns = `r.id, r.project_id, r.name, r.description, r.admin_state_up, COALESCE(r.gateway_network_id, ''),
	r.enable_snat, r.routes, r.revision_number, r.created_at, r.updated_at`

func scanRouter(row interface{ Scan(...any) error }) (Router, error) {
	var r Router
	var gw, routes string
	var snat bool
	var created, updated int64
	if err := row.Scan(&r.ID, &r.ProjectID, &r.Name, &r.Description, &r.AdminStateUp, &gw, &snat, &routes, &r.Revision,
		&created, &updated); err != nil {
		return Router{}, err
	}
	if err := json.Unmarshal([]byte(routes), &r.Routes); err != nil {
		return Router{}, fmt.Errorf("routes of router %s: %w", r.ID, err)
	}
	if gw != "" {
		r.Gateway = &Gateway{NetworkID: gw, EnableSNAT: snat}
	}
	r.CreatedAt, r.UpdatedAt = store.Time(created), store.Time(updated)
	return r, nil
}

// List returns the routers of projectID, or all with all, oldest first.
func (s *Service) List(ctx context.Context, projectID string, all bool) ([]Router, error) {
	q, args := `SELECT `+routerColumns+` FROM routers r WHERE r.project_id = ?`, []any{projectID}
	if all {
		q, args = `SELECT `+routerColumns+` FROM routers r`, nil
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY r.created_at, r.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list routers: %w", err)
	}
	defer rows.Close()
	out := []Router{}
	for rows.Next() {
		r, err := scanRouter(rows)
		if err != nil {
			return nil, fmt.Errorf("scan router: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list routers: %w", err)
	}
	for i := range out {
		if err := fill(ctx, s.db, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Get returns router id whoever asks (the API checks the rules).
func (s *Service) Get(ctx context.Context, id string) (Router, error) {
	return getIn(ctx, s.db, id)
}

func getIn(ctx context.Context, q store.Querier, id string) (Router, error) {
	r, err := scanRouter(q.QueryRowContext(ctx, `SELECT `+routerColumns+` FROM routers r WHERE r.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Router{}, RouterNotFound(id)
	}
	if err != nil {
		return Router{}, fmt.Errorf("read router %s: %w", id, err)
	}
	return r, fill(ctx, q, &r)
}

// fill adds a router's tags and its gateway's addresses.
func fill(ctx context.Context, q store.Querier, r *Router) error {
	var err error
	if r.Tags, err = network.ReadTags(ctx, q, KindRouters, r.ID); err != nil {
		return err
	}
	if r.Gateway == nil {
		return nil
	}
	port, err := network.DevicePortIn(ctx, q, r.ID, network.RouterGatewayOwner)
	if err != nil || port == "" {
		return err
	}
	r.Gateway.FixedIPs, err = network.PortFixedIPsIn(ctx, q, port)
	return err
}

// GatewayRequest is external_gateway_info as a body gives it.
type GatewayRequest struct {
	NetworkID  string
	EnableSNAT *bool
	// FixedIPs are the gateway port's addresses asked for
	// (external_fixed_ips; nil: the network's default).
	FixedIPs *[]network.FixedIPRequest
}

// Fields are the attributes a create or update sets (nil: unchanged).
// Gateway set to a nil GatewayRequest removes the gateway.
type Fields struct {
	Name, Description *string
	AdminStateUp      *bool
	Gateway           **GatewayRequest
	Routes            *[]Route
}

// Create makes a router of projectID within its router quota.
func (s *Service) Create(ctx context.Context, projectID string, f Fields) (Router, error) {
	id := uuid.NewString()
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.quota.Check(ctx, tx, projectID, netquota.Router, 1); err != nil {
			return err
		}
		now := store.Now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO routers (id, project_id, created_at, updated_at) VALUES (?, ?, ?, ?)`,
			id, projectID, now, now); err != nil {
			return fmt.Errorf("create router: %w", err)
		}
		return s.apply(ctx, tx, id, f, false)
	})
	if err != nil {
		return Router{}, err
	}
	return s.Get(ctx, id)
}

// Update changes router id; its revision goes up.
func (s *Service) Update(ctx context.Context, id string, f Fields) (Router, error) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getIn(ctx, tx, id); err != nil {
			return err
		}
		return s.apply(ctx, tx, id, f, true)
	})
	if err != nil {
		return Router{}, err
	}
	return s.Get(ctx, id)
}

// apply writes f to router id.
func (s *Service) apply(ctx context.Context, tx *store.Tx, id string, f Fields, revise bool) error {
	set := func(col string, v any) error {
		_, err := tx.ExecContext(ctx, `UPDATE routers SET `+col+` = ? WHERE id = ?`, v, id)
		if err != nil {
			return fmt.Errorf("update router %s: %w", id, err)
		}
		return nil
	}
	for col, v := range map[string]*string{"name": f.Name, "description": f.Description} {
		if v != nil {
			if err := set(col, *v); err != nil {
				return err
			}
		}
	}
	if f.AdminStateUp != nil {
		if err := set("admin_state_up", *f.AdminStateUp); err != nil {
			return err
		}
	}
	if f.Gateway != nil {
		if err := s.setGateway(ctx, tx, id, *f.Gateway); err != nil {
			return err
		}
	}
	if f.Routes != nil {
		if err := validateRoutes(ctx, tx, id, *f.Routes); err != nil {
			return err
		}
		b, err := json.Marshal(nonNilRoutes(*f.Routes))
		if err != nil {
			return err
		}
		if err := set("routes", string(b)); err != nil {
			return err
		}
	}
	if !revise {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE routers SET revision_number = revision_number + 1, updated_at = ? WHERE id = ?`,
		store.Now(), id)
	return err
}

func nonNilRoutes(rs []Route) []Route {
	if rs == nil {
		return []Route{}
	}
	return rs
}

// Delete removes router id: one with interfaces is in use (RouterInUse);
// its gateway port goes.
func (s *Service) Delete(ctx context.Context, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getIn(ctx, tx, id); err != nil {
			return err
		}
		ports, err := interfaces(ctx, tx, id)
		if err != nil {
			return err
		}
		if len(ports) > 0 {
			return errs.Named("RouterInUse", errs.Conflict("Router %s still has ports", id))
		}
		if err := releaseGateway(ctx, tx, id); err != nil {
			return err
		}
		if err := network.DeleteTags(ctx, tx, KindRouters, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM routers WHERE id = ?`, id)
		return err
	})
}

// Tags returns the tags of router id.
func (s *Service) Tags(ctx context.Context, id string) ([]string, error) {
	r, err := s.Get(ctx, id)
	return r.Tags, err
}

// ChangeTags applies c to router id's tags, revising it when they
// change.
func (s *Service) ChangeTags(ctx context.Context, id string, c network.TagChange) ([]string, error) {
	var out []string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := getIn(ctx, tx, id)
		if err != nil {
			return err
		}
		out, err = network.ChangeTags(ctx, tx, KindRouters, id, c, func() error {
			_, err := tx.ExecContext(ctx, `UPDATE routers SET revision_number = revision_number + 1, updated_at = ? WHERE id = ?`,
				store.Now(), id)
			return err
		})
		return err
	})
	return out, err
}

func newID() string { return uuid.NewString() }
