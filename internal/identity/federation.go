package identity

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// The OS-FEDERATION objects, kept as Keystone's federation SQL driver
// keeps them. kumo stores and serves them; it does not authenticate
// federated users (no SAML2 or OpenID Connect assertion is consumed).

// IdentityProvider is a trusted source of federated users.
type IdentityProvider struct {
	ID               string
	Enabled          bool
	Description      *string
	DomainID         string
	AuthorizationTTL *int
	RemoteIDs        []string
}

// IdentityProviderPatch lists the changes of an update; a Set flag says
// the field was given (its value may be null).
type IdentityProviderPatch struct {
	Enabled             *bool
	Description         *string
	SetDescription      bool
	AuthorizationTTL    *int
	SetAuthorizationTTL bool
	RemoteIDs           []string
	SetRemoteIDs        bool
}

// FederationProtocol ties an identity provider's protocol to a mapping.
type FederationProtocol struct {
	ID                string
	IdPID             string
	MappingID         string
	RemoteIDAttribute *string
}

// Mapping turns federated assertions into local users and groups.
type Mapping struct {
	ID            string
	Rules         []any
	SchemaVersion string
}

// ServiceProvider is a remote cloud kumo's users may be federated to.
type ServiceProvider struct {
	ID               string
	Enabled          bool
	Description      *string
	AuthURL          string
	SPURL            string
	RelayStatePrefix string
}

// ServiceProviderPatch lists the changes of an update (nil: unchanged).
type ServiceProviderPatch struct {
	Enabled          *bool
	Description      *string
	SetDescription   bool
	AuthURL          *string
	SPURL            *string
	RelayStatePrefix *string
}

// DefaultRelayStatePrefix is Keystone's [saml] relay_state_prefix.
const DefaultRelayStatePrefix = "ss:mem:"

func idpNotFound(id string) error { return errs.NotFound("Could not find Identity Provider: %s.", id) }

func idpConflict(details string) error {
	return errs.Conflict("Conflict occurred attempting to store identity_provider - %s.", details)
}

// CreateIdentityProvider stores an identity provider. Without a domain
// one is made for it, as Keystone's federation manager does.
func (s *Service) CreateIdentityProvider(ctx context.Context, idp IdentityProvider) (*IdentityProvider, error) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if idp.DomainID == "" {
			id := newID()
			_, err := tx.ExecContext(ctx, `INSERT INTO domains (id, name, description, enabled, created_at) VALUES (?, ?, ?, ?, ?)`,
				id, id, "Auto generated federated domain for Identity Provider: "+idp.ID, true, s.nowMicros())
			if err != nil {
				return fmt.Errorf("create domain of identity provider %s: %w", idp.ID, err)
			}
			idp.DomainID = id
		} else if _, err := getDomain(ctx, tx, idp.DomainID); err != nil {
			return err
		}
		if ok, err := exists(ctx, tx, `SELECT 1 FROM identity_providers WHERE id = ?`, idp.ID); err != nil {
			return err
		} else if ok {
			return idpConflict("Duplicate entry: " + idp.ID)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO identity_providers (id, enabled, description, domain_id, authorization_ttl, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, idp.ID, idp.Enabled, idp.Description, idp.DomainID, idp.AuthorizationTTL, s.nowMicros())
		if err != nil {
			return fmt.Errorf("create identity provider %s: %w", idp.ID, err)
		}
		return setRemoteIDs(ctx, tx, idp.ID, idp.RemoteIDs)
	})
	if err != nil {
		return nil, err
	}
	return s.GetIdentityProvider(ctx, idp.ID)
}

// setRemoteIDs replaces an identity provider's remote ids; each remote
// id belongs to one provider only.
func setRemoteIDs(ctx context.Context, tx *store.Tx, idpID string, ids []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM idp_remote_ids WHERE idp_id = ?`, idpID); err != nil {
		return fmt.Errorf("set remote ids of %s: %w", idpID, err)
	}
	for _, r := range ids {
		if ok, err := exists(ctx, tx, `SELECT 1 FROM idp_remote_ids WHERE remote_id = ?`, r); err != nil {
			return err
		} else if ok {
			return idpConflict("Duplicate remote ID: " + r)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO idp_remote_ids (remote_id, idp_id) VALUES (?, ?)`, r, idpID); err != nil {
			if store.IsUniqueViolation(err) {
				return idpConflict("Duplicate remote ID: " + r)
			}
			return fmt.Errorf("set remote ids of %s: %w", idpID, err)
		}
	}
	return nil
}

func scanIdentityProvider(row interface{ Scan(...any) error }) (*IdentityProvider, error) {
	var idp IdentityProvider
	var desc sql.NullString
	var ttl sql.NullInt64
	if err := row.Scan(&idp.ID, &idp.Enabled, &desc, &idp.DomainID, &ttl); err != nil {
		return nil, err
	}
	if desc.Valid {
		idp.Description = &desc.String
	}
	if ttl.Valid {
		v := int(ttl.Int64)
		idp.AuthorizationTTL = &v
	}
	idp.RemoteIDs = []string{}
	return &idp, nil
}

// remoteIDsOf maps each identity provider to its remote ids, sorted.
func remoteIDsOf(ctx context.Context, q store.Querier, idpID string) (map[string][]string, error) {
	query, args := `SELECT idp_id, remote_id FROM idp_remote_ids ORDER BY remote_id`, []any{}
	if idpID != "" {
		query, args = `SELECT idp_id, remote_id FROM idp_remote_ids WHERE idp_id = ? ORDER BY remote_id`, []any{idpID}
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list remote ids: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var idp, r string
		if err := rows.Scan(&idp, &r); err != nil {
			return nil, fmt.Errorf("list remote ids: %w", err)
		}
		out[idp] = append(out[idp], r)
	}
	return out, rows.Err()
}

const idpColumns = `id, enabled, description, domain_id, authorization_ttl`

func getIdentityProvider(ctx context.Context, q store.Querier, id string) (*IdentityProvider, error) {
	idp, err := scanIdentityProvider(q.QueryRowContext(ctx, `SELECT `+idpColumns+` FROM identity_providers WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, idpNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("get identity provider %s: %w", id, err)
	}
	remote, err := remoteIDsOf(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if r := remote[id]; r != nil {
		idp.RemoteIDs = r
	}
	return idp, nil
}

// GetIdentityProvider returns an identity provider with its remote ids.
func (s *Service) GetIdentityProvider(ctx context.Context, id string) (*IdentityProvider, error) {
	return getIdentityProvider(ctx, s.db, id)
}

// ListIdentityProviders lists the identity providers, filtered on id and
// enabled as Keystone's list allows.
func (s *Service) ListIdentityProviders(ctx context.Context, id string, enabled *bool) ([]IdentityProvider, error) {
	var c conds
	if id != "" {
		c.add(`id = ?`, id)
	}
	if enabled != nil {
		c.add(`enabled = ?`, *enabled)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+idpColumns+` FROM identity_providers`+c.where()+` ORDER BY id`, c.args...)
	if err != nil {
		return nil, fmt.Errorf("list identity providers: %w", err)
	}
	var out []IdentityProvider
	for rows.Next() {
		idp, err := scanIdentityProvider(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list identity providers: %w", err)
		}
		out = append(out, *idp)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list identity providers: %w", err)
	}
	remote, err := remoteIDsOf(ctx, s.db, "")
	if err != nil {
		return nil, err
	}
	for i := range out {
		if r := remote[out[i].ID]; r != nil {
			out[i].RemoteIDs = r
		}
	}
	return out, nil
}

// UpdateIdentityProvider changes the mutable attributes of an identity
// provider (its id and domain stay).
func (s *Service) UpdateIdentityProvider(ctx context.Context, id string, p IdentityProviderPatch) (*IdentityProvider, error) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		idp, err := getIdentityProvider(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.Enabled != nil {
			idp.Enabled = *p.Enabled
		}
		if p.SetDescription {
			idp.Description = p.Description
		}
		if p.SetAuthorizationTTL {
			idp.AuthorizationTTL = p.AuthorizationTTL
		}
		if _, err := tx.ExecContext(ctx, `UPDATE identity_providers SET enabled = ?, description = ?, authorization_ttl = ? WHERE id = ?`,
			idp.Enabled, idp.Description, idp.AuthorizationTTL, id); err != nil {
			return fmt.Errorf("update identity provider %s: %w", id, err)
		}
		if p.SetRemoteIDs {
			return setRemoteIDs(ctx, tx, id, p.RemoteIDs)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.GetIdentityProvider(ctx, id)
}

// DeleteIdentityProvider deletes an identity provider with its protocols
// and remote ids; its domain stays, as in Keystone.
func (s *Service) DeleteIdentityProvider(ctx context.Context, id string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getIdentityProvider(ctx, tx, id); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM federation_protocols WHERE idp_id = ?`, `DELETE FROM idp_remote_ids WHERE idp_id = ?`,
			`DELETE FROM identity_providers WHERE id = ?`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("delete identity provider %s: %w", id, err)
			}
		}
		return nil
	})
}

func protocolNotFound(idpID, id string) error {
	return errs.NotFound("Could not find federated protocol %s for Identity Provider: %s.", id, idpID)
}

func getProtocol(ctx context.Context, q store.Querier, idpID, id string) (*FederationProtocol, error) {
	var p FederationProtocol
	var attr sql.NullString
	err := q.QueryRowContext(ctx, `SELECT id, idp_id, mapping_id, remote_id_attribute FROM federation_protocols WHERE idp_id = ? AND id = ?`,
		idpID, id).Scan(&p.ID, &p.IdPID, &p.MappingID, &attr)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, protocolNotFound(idpID, id)
	}
	if err != nil {
		return nil, fmt.Errorf("get protocol %s of %s: %w", id, idpID, err)
	}
	if attr.Valid {
		p.RemoteIDAttribute = &attr.String
	}
	return &p, nil
}

// CreateProtocol adds a protocol to an identity provider; its mapping
// must exist (checked first, as Keystone's manager does).
func (s *Service) CreateProtocol(ctx context.Context, p FederationProtocol) (*FederationProtocol, error) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getMapping(ctx, tx, p.MappingID); err != nil {
			return err
		}
		if _, err := getIdentityProvider(ctx, tx, p.IdPID); err != nil {
			return err
		}
		if ok, err := exists(ctx, tx, `SELECT 1 FROM federation_protocols WHERE idp_id = ? AND id = ?`, p.IdPID, p.ID); err != nil {
			return err
		} else if ok {
			return errs.Conflict("Conflict occurred attempting to store federation_protocol - Duplicate entry.")
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO federation_protocols (id, idp_id, mapping_id, remote_id_attribute, created_at)
			VALUES (?, ?, ?, ?, ?)`, p.ID, p.IdPID, p.MappingID, p.RemoteIDAttribute, s.nowMicros())
		if err != nil {
			return fmt.Errorf("create protocol %s of %s: %w", p.ID, p.IdPID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// GetProtocol returns a protocol of an identity provider.
func (s *Service) GetProtocol(ctx context.Context, idpID, id string) (*FederationProtocol, error) {
	return getProtocol(ctx, s.db, idpID, id)
}

// ListProtocols lists an identity provider's protocols (none for an
// unknown provider, as Keystone's driver answers).
func (s *Service) ListProtocols(ctx context.Context, idpID string) ([]FederationProtocol, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, idp_id, mapping_id, remote_id_attribute FROM federation_protocols
		WHERE idp_id = ? ORDER BY id`, idpID)
	if err != nil {
		return nil, fmt.Errorf("list protocols of %s: %w", idpID, err)
	}
	defer rows.Close()
	var out []FederationProtocol
	for rows.Next() {
		var p FederationProtocol
		var attr sql.NullString
		if err := rows.Scan(&p.ID, &p.IdPID, &p.MappingID, &attr); err != nil {
			return nil, fmt.Errorf("list protocols of %s: %w", idpID, err)
		}
		if attr.Valid {
			p.RemoteIDAttribute = &attr.String
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// UpdateProtocol changes a protocol's mapping and remote id attribute.
// Like Keystone's manager it checks the new mapping exists.
func (s *Service) UpdateProtocol(ctx context.Context, idpID, id, mappingID string, remoteIDAttribute *string) (*FederationProtocol, error) {
	var out *FederationProtocol
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getMapping(ctx, tx, mappingID); err != nil {
			return err
		}
		p, err := getProtocol(ctx, tx, idpID, id)
		if err != nil {
			return err
		}
		p.MappingID = mappingID
		if remoteIDAttribute != nil {
			p.RemoteIDAttribute = remoteIDAttribute
		}
		if _, err := tx.ExecContext(ctx, `UPDATE federation_protocols SET mapping_id = ?, remote_id_attribute = ? WHERE idp_id = ? AND id = ?`,
			p.MappingID, p.RemoteIDAttribute, idpID, id); err != nil {
			return fmt.Errorf("update protocol %s of %s: %w", id, idpID, err)
		}
		out = p
		return nil
	})
	return out, err
}

// DeleteProtocol deletes a protocol of an identity provider.
func (s *Service) DeleteProtocol(ctx context.Context, idpID, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM federation_protocols WHERE idp_id = ? AND id = ?`, idpID, id)
	if err != nil {
		return fmt.Errorf("delete protocol %s of %s: %w", id, idpID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete protocol %s of %s: %w", id, idpID, err)
	} else if n == 0 {
		return protocolNotFound(idpID, id)
	}
	return nil
}

func getMapping(ctx context.Context, q store.Querier, id string) (*Mapping, error) {
	var m Mapping
	var rules string
	err := q.QueryRowContext(ctx, `SELECT id, rules, schema_version FROM federation_mappings WHERE id = ?`, id).Scan(&m.ID, &rules, &m.SchemaVersion)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound("Could not find mapping: %s.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get mapping %s: %w", id, err)
	}
	if err := json.Unmarshal([]byte(rules), &m.Rules); err != nil {
		return nil, fmt.Errorf("decode mapping %s: %w", id, err)
	}
	return &m, nil
}

// CreateMapping stores a mapping whose rules passed ValidateMapping.
func (s *Service) CreateMapping(ctx context.Context, m Mapping) (*Mapping, error) {
	rules, err := json.Marshal(m.Rules)
	if err != nil {
		return nil, fmt.Errorf("encode mapping %s: %w", m.ID, err)
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if ok, err := exists(ctx, tx, `SELECT 1 FROM federation_mappings WHERE id = ?`, m.ID); err != nil {
			return err
		} else if ok {
			return errs.Conflict("Conflict occurred attempting to store mapping - Duplicate entry.")
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO federation_mappings (id, rules, schema_version, created_at) VALUES (?, ?, ?, ?)`,
			m.ID, string(rules), m.SchemaVersion, s.nowMicros())
		if err != nil {
			return fmt.Errorf("create mapping %s: %w", m.ID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// GetMapping returns a mapping.
func (s *Service) GetMapping(ctx context.Context, id string) (*Mapping, error) {
	return getMapping(ctx, s.db, id)
}

// ListMappings lists the mappings by id.
func (s *Service) ListMappings(ctx context.Context) ([]Mapping, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM federation_mappings ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list mappings: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list mappings: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list mappings: %w", err)
	}
	out := make([]Mapping, 0, len(ids))
	for _, id := range ids {
		m, err := getMapping(ctx, s.db, id)
		if errs.Is(err, errs.KindNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	return out, nil
}

// UpdateMapping replaces a mapping's rules, and its schema version when
// one is given.
func (s *Service) UpdateMapping(ctx context.Context, m Mapping) (*Mapping, error) {
	rules, err := json.Marshal(m.Rules)
	if err != nil {
		return nil, fmt.Errorf("encode mapping %s: %w", m.ID, err)
	}
	var out *Mapping
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		old, err := getMapping(ctx, tx, m.ID)
		if err != nil {
			return err
		}
		if m.SchemaVersion == "" {
			m.SchemaVersion = old.SchemaVersion
		}
		if _, err := tx.ExecContext(ctx, `UPDATE federation_mappings SET rules = ?, schema_version = ? WHERE id = ?`,
			string(rules), m.SchemaVersion, m.ID); err != nil {
			return fmt.Errorf("update mapping %s: %w", m.ID, err)
		}
		out = &m
		return nil
	})
	return out, err
}

// DeleteMapping deletes a mapping.
func (s *Service) DeleteMapping(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM federation_mappings WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete mapping %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete mapping %s: %w", id, err)
	} else if n == 0 {
		return errs.NotFound("Could not find mapping: %s.", id)
	}
	return nil
}

func spNotFound(id string) error { return errs.NotFound("Could not find Service Provider: %s.", id) }

const spColumns = `id, enabled, description, auth_url, sp_url, relay_state_prefix`

func scanServiceProvider(row interface{ Scan(...any) error }) (*ServiceProvider, error) {
	var sp ServiceProvider
	var desc sql.NullString
	if err := row.Scan(&sp.ID, &sp.Enabled, &desc, &sp.AuthURL, &sp.SPURL, &sp.RelayStatePrefix); err != nil {
		return nil, err
	}
	if desc.Valid {
		sp.Description = &desc.String
	}
	return &sp, nil
}

func getServiceProvider(ctx context.Context, q store.Querier, id string) (*ServiceProvider, error) {
	sp, err := scanServiceProvider(q.QueryRowContext(ctx, `SELECT `+spColumns+` FROM service_providers WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, spNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("get service provider %s: %w", id, err)
	}
	return sp, nil
}

// CreateServiceProvider stores a service provider.
func (s *Service) CreateServiceProvider(ctx context.Context, sp ServiceProvider) (*ServiceProvider, error) {
	if sp.RelayStatePrefix == "" {
		sp.RelayStatePrefix = DefaultRelayStatePrefix
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if ok, err := exists(ctx, tx, `SELECT 1 FROM service_providers WHERE id = ?`, sp.ID); err != nil {
			return err
		} else if ok {
			return errs.Conflict("Conflict occurred attempting to store service_provider - Duplicate entry.")
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO service_providers (`+spColumns+`, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			sp.ID, sp.Enabled, sp.Description, sp.AuthURL, sp.SPURL, sp.RelayStatePrefix, s.nowMicros())
		if err != nil {
			return fmt.Errorf("create service provider %s: %w", sp.ID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &sp, nil
}

// GetServiceProvider returns a service provider.
func (s *Service) GetServiceProvider(ctx context.Context, id string) (*ServiceProvider, error) {
	return getServiceProvider(ctx, s.db, id)
}

// ListServiceProviders lists service providers, filtered on id and
// enabled as Keystone's list allows.
func (s *Service) ListServiceProviders(ctx context.Context, id string, enabled *bool) ([]ServiceProvider, error) {
	var c conds
	if id != "" {
		c.add(`id = ?`, id)
	}
	if enabled != nil {
		c.add(`enabled = ?`, *enabled)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+spColumns+` FROM service_providers`+c.where()+` ORDER BY id`, c.args...)
	if err != nil {
		return nil, fmt.Errorf("list service providers: %w", err)
	}
	defer rows.Close()
	var out []ServiceProvider
	for rows.Next() {
		sp, err := scanServiceProvider(rows)
		if err != nil {
			return nil, fmt.Errorf("list service providers: %w", err)
		}
		out = append(out, *sp)
	}
	return out, rows.Err()
}

// UpdateServiceProvider changes a service provider.
func (s *Service) UpdateServiceProvider(ctx context.Context, id string, p ServiceProviderPatch) (*ServiceProvider, error) {
	var out *ServiceProvider
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		sp, err := getServiceProvider(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.Enabled != nil {
			sp.Enabled = *p.Enabled
		}
		if p.SetDescription {
			sp.Description = p.Description
		}
		if p.AuthURL != nil {
			sp.AuthURL = *p.AuthURL
		}
		if p.SPURL != nil {
			sp.SPURL = *p.SPURL
		}
		if p.RelayStatePrefix != nil {
			sp.RelayStatePrefix = *p.RelayStatePrefix
		}
		if _, err := tx.ExecContext(ctx, `UPDATE service_providers SET enabled = ?, description = ?, auth_url = ?, sp_url = ?,
			relay_state_prefix = ? WHERE id = ?`, sp.Enabled, sp.Description, sp.AuthURL, sp.SPURL, sp.RelayStatePrefix, id); err != nil {
			return fmt.Errorf("update service provider %s: %w", id, err)
		}
		out = sp
		return nil
	})
	return out, err
}

// DeleteServiceProvider deletes a service provider.
func (s *Service) DeleteServiceProvider(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM service_providers WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete service provider %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete service provider %s: %w", id, err)
	} else if n == 0 {
		return spNotFound(id)
	}
	return nil
}

// MappingSchemaVersions are the attribute mapping schema versions
// Keystone knows; DefaultMappingSchemaVersion is its
// attribute_mapping_default_schema_version.
var MappingSchemaVersions = []string{"1.0", "2.0", "3.0"}

// DefaultMappingSchemaVersion is the version a mapping without one gets.
const DefaultMappingSchemaVersion = "1.0"

// ValidateMapping checks a mapping body ({"rules": [...],
// "schema_version": ...}) against Keystone's attribute mapping schema of
// its version (keystone/federation/utils.py), reporting every problem,
// sorted, one a line, as validate_mapping_structure does.
func ValidateMapping(m map[string]any) error {
	version, _ := m["schema_version"].(string)
	if version == "" {
		version = DefaultMappingSchemaVersion
	}
	if !slices.Contains(MappingSchemaVersions, version) {
		return errs.Invalid("Invalid input for field 'schema_version': %q is not one of %v", version, MappingSchemaVersions)
	}
	var v mappingValidator
	v.version = version
	v.mapping(m)
	if len(v.msgs) == 0 {
		return nil
	}
	slices.Sort(v.msgs)
	return errs.Invalid("%s", strings.Join(v.msgs, "\n")+"\n")
}

type mappingValidator struct {
	version string
	msgs    []string
}

func (v *mappingValidator) fail(format string, args ...any) {
	v.msgs = append(v.msgs, fmt.Sprintf(format, args...))
}

// pyRepr renders a JSON value roughly as jsonschema's messages show it.
func pyRepr(x any) string {
	switch t := x.(type) {
	case string:
		return "'" + t + "'"
	case nil:
		return "None"
	case bool:
		if t {
			return "True"
		}
		return "False"
	}
	b, _ := json.Marshal(x)
	return string(b)
}

func (v *mappingValidator) typed(x any, want string) bool {
	ok := false
	switch want {
	case "object":
		_, ok = x.(map[string]any)
	case "array":
		_, ok = x.([]any)
	case "string":
		_, ok = x.(string)
	case "boolean":
		_, ok = x.(bool)
	}
	if !ok {
		v.fail("%s is not of type '%s'", pyRepr(x), want)
	}
	return ok
}

// object checks required and allowed properties (nil allowed: any).
func (v *mappingValidator) object(x any, required, allowed []string) (map[string]any, bool) {
	o, ok := x.(map[string]any)
	if !ok {
		v.fail("%s is not of type 'object'", pyRepr(x))
		return nil, false
	}
	good := true
	for _, r := range required {
		if _, has := o[r]; !has {
			v.fail("'%s' is a required property", r)
			good = false
		}
	}
	if allowed != nil {
		var extra []string
		for k := range o {
			if !slices.Contains(allowed, k) {
				extra = append(extra, "'"+k+"'")
			}
		}
		if len(extra) > 0 {
			slices.Sort(extra)
			verb := "was"
			if len(extra) > 1 {
				verb = "were"
			}
			v.fail("Additional properties are not allowed (%s %s unexpected)", strings.Join(extra, ", "), verb)
			good = false
		}
	}
	return o, good
}

func (v *mappingValidator) mapping(m map[string]any) {
	o, _ := v.object(m, []string{"rules"}, nil)
	if sv, ok := o["schema_version"]; ok {
		v.typed(sv, "string")
	}
	rules, ok := o["rules"]
	if !ok {
		return
	}
	list, ok := rules.([]any)
	if !ok {
		v.fail("%s is not of type 'array'", pyRepr(rules))
		return
	}
	if len(list) < 1 {
		v.fail("[] is too short")
	}
	for _, r := range list {
		rule, ok := v.object(r, []string{"local", "remote"}, []string{"local", "remote"})
		if rule == nil && !ok {
			continue
		}
		if local, has := rule["local"]; has && v.typed(local, "array") {
			for _, l := range local.([]any) {
				v.local(l)
			}
		}
		if remote, has := rule["remote"]; has && v.typed(remote, "array") {
			items := remote.([]any)
			if len(items) < 1 {
				v.fail("[] is too short")
			}
			for _, it := range items {
				v.remote(it)
			}
		}
	}
}

func (v *mappingValidator) domain(x any) {
	d, _ := v.object(x, nil, []string{"id", "name"})
	for _, k := range []string{"id", "name"} {
		if s, has := d[k]; has {
			v.typed(s, "string")
		}
	}
}

func (v *mappingValidator) local(x any) {
	allowed := []string{"user", "projects", "group", "groups", "group_ids", "domain"}
	if v.version == "3.0" {
		allowed = append(allowed, "projects_json")
	}
	o, _ := v.object(x, nil, allowed)
	if u, has := o["user"]; has {
		user, _ := v.object(u, nil, []string{"id", "name", "email", "domain", "type"})
		for _, k := range []string{"id", "name", "email"} {
			if s, has := user[k]; has {
				v.typed(s, "string")
			}
		}
		if d, has := user["domain"]; has {
			v.domain(d)
		}
		if t, has := user["type"]; has && v.typed(t, "string") && t != "ephemeral" && t != "local" {
			v.fail("%s is not one of ['ephemeral', 'local']", pyRepr(t))
		}
	}
	if p, has := o["projects"]; has && v.typed(p, "array") {
		allowedP := []string{"name", "roles"}
		if v.version != "1.0" {
			allowedP = append(allowedP, "domain")
		}
		for _, it := range p.([]any) {
			proj, _ := v.object(it, []string{"name", "roles"}, allowedP)
			if n, has := proj["name"]; has {
				v.typed(n, "string")
			}
			if d, has := proj["domain"]; has {
				v.domain(d)
			}
			if roles, has := proj["roles"]; has && v.typed(roles, "array") {
				for _, r := range roles.([]any) {
					role, _ := v.object(r, []string{"name"}, []string{"name"})
					if n, has := role["name"]; has {
						v.typed(n, "string")
					}
				}
			}
		}
	}
	if g, has := o["group"]; has {
		v.group(g)
	}
	for _, k := range []string{"groups", "group_ids", "projects_json"} {
		if s, has := o[k]; has {
			v.typed(s, "string")
		}
	}
	if d, has := o["domain"]; has {
		v.domain(d)
	}
}

// group is oneOf group_by_id ({id}) and group_by_name ({name, domain}).
func (v *mappingValidator) group(x any) {
	o, ok := x.(map[string]any)
	if !ok {
		v.fail("%s is not of type 'object'", pyRepr(x))
		return
	}
	byID := len(o) == 1 && isString(o["id"])
	byName := len(o) == 2 && isString(o["name"]) && o["domain"] != nil && validDomain(o["domain"])
	if byID == byName {
		v.fail("%s is not valid under any of the given schemas", pyRepr(x))
	}
}

func isString(x any) bool { _, ok := x.(string); return ok }

func validDomain(x any) bool {
	d, ok := x.(map[string]any)
	if !ok {
		return false
	}
	for k, val := range d {
		if (k != "id" && k != "name") || !isString(val) {
			return false
		}
	}
	return true
}

// remote is oneOf: {type}, or {type, any_one_of|not_any_of|blacklist|
// whitelist (array), regex (boolean)?}.
func (v *mappingValidator) remote(x any) {
	o, ok := x.(map[string]any)
	if !ok {
		v.fail("%s is not of type 'object'", pyRepr(x))
		return
	}
	matches := 0
	if len(o) == 1 && isString(o["type"]) {
		matches++
	}
	for _, kind := range []string{"any_one_of", "not_any_of", "blacklist", "whitelist"} {
		if !isString(o["type"]) {
			break
		}
		list, isList := o[kind].([]any)
		if !isList {
			continue
		}
		_ = list
		good := true
		for k, val := range o {
			switch k {
			case "type", kind:
			case "regex":
				if _, isBool := val.(bool); !isBool {
					good = false
				}
			default:
				good = false
			}
		}
		if good {
			matches++
		}
	}
	if matches != 1 {
		v.fail("%s is not valid under any of the given schemas", pyRepr(x))
	}
}
