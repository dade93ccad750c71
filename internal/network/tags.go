package network

import (
	"context"
	"fmt"
	"slices"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Kinds of tagged resources, by Neutron's collection names. The
// resource_tags table holds the tags of every Neutron resource; another
// domain keeps its own resources' tags there with the package functions
// below, in its own transactions.
const (
	KindNetworks = "networks"
	KindSubnets  = "subnets"
)

// tagsOf returns the tags of the objects ids of kind, sorted.
func tagsOf(ctx context.Context, q store.Querier, kind string, ids []string) (map[string][]string, error) {
	from, arg := store.StringsTable(q, "i", ids)
	rows, err := q.QueryContext(ctx, `SELECT t.resource_id, t.tag FROM `+from+`
		JOIN resource_tags t ON t.resource_type = ? AND t.resource_id = i.value ORDER BY t.resource_id, t.tag`, arg, kind)
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", kind, err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var id, tag string
		if err := rows.Scan(&id, &tag); err != nil {
			return nil, err
		}
		out[id] = append(out[id], tag)
	}
	return out, rows.Err()
}

// ReadTags returns the tags of object id of kind (for other domains'
// views).
func ReadTags(ctx context.Context, q store.Querier, kind, id string) ([]string, error) {
	m, err := tagsOf(ctx, q, kind, []string{id})
	return nonNilStrings(m[id]), err
}

// deleteTags removes every tag of an object.
func deleteTags(ctx context.Context, q store.Querier, kind, id string) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM resource_tags WHERE resource_type = ? AND resource_id = ?`, kind, id); err != nil {
		return fmt.Errorf("delete tags of %s %s: %w", kind, id, err)
	}
	return nil
}

// DeleteTags removes every tag of an object being deleted (for other
// domains' deletes, in their transactions).
func DeleteTags(ctx context.Context, q store.Querier, kind, id string) error {
	return deleteTags(ctx, q, kind, id)
}

// addTags adds tags an object lacks.
func addTags(ctx context.Context, q store.Querier, kind, id string, tags []string) error {
	for _, t := range tags {
		if _, err := q.ExecContext(ctx, `INSERT INTO resource_tags (resource_type, resource_id, tag) VALUES (?, ?, ?)
			ON CONFLICT DO NOTHING`, kind, id, t); err != nil {
			return fmt.Errorf("tag %s %s: %w", kind, id, err)
		}
	}
	return nil
}

// TagChange is one change of an object's tags: Replace sets them to
// Tags, else Tags are added, or Remove (one tag) or Clear taken away.
type TagChange struct {
	Replace bool
	Tags    []string
	Remove  string
	Clear   bool
}

// ChangeTags applies c to object id of kind in the caller's transaction
// and returns its tags after; a tag to remove that it lacks is
// errs.NotFound. When the tags changed it calls revise, which bumps the
// object's revision (Neutron revises an object on a tag change). The
// caller checks the object exists.
func ChangeTags(ctx context.Context, tx *store.Tx, kind, id string, c TagChange, revise func() error) ([]string, error) {
	before, err := ReadTags(ctx, tx, kind, id)
	if err != nil {
		return nil, err
	}
	switch {
	case c.Clear || c.Replace:
		if err := deleteTags(ctx, tx, kind, id); err != nil {
			return nil, err
		}
	case c.Remove != "":
		res, err := tx.ExecContext(ctx, `DELETE FROM resource_tags WHERE resource_type = ? AND resource_id = ? AND tag = ?`, kind, id, c.Remove)
		if err != nil {
			return nil, fmt.Errorf("untag %s %s: %w", kind, id, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return nil, err
			}
			return nil, errs.NotFound("Tag %s could not be found.", c.Remove)
		}
	}
	if err := addTags(ctx, tx, kind, id, c.Tags); err != nil {
		return nil, err
	}
	after, err := ReadTags(ctx, tx, kind, id)
	if err != nil || slices.Equal(before, after) {
		return after, err
	}
	return after, revise()
}

// reviseRow is the revise of ChangeTags for a row of table with
// revision_number and updated_at columns.
func reviseRow(ctx context.Context, tx *store.Tx, table, id string) func() error {
	return func() error {
		_, err := tx.ExecContext(ctx, `UPDATE `+table+` SET revision_number = revision_number + 1, updated_at = ? WHERE id = ?`,
			store.Now(), id)
		if err != nil {
			return fmt.Errorf("revise %s %s: %w", table, id, err)
		}
		return nil
	}
}

// tagTable is the table of a kind this domain owns, whose rows a tag
// change revises ("": not this domain's).
func tagTable(kind string) string {
	switch kind {
	case KindNetworks:
		return "networks"
	case KindSubnets:
		return "subnets"
	case KindPorts:
		return "network_ports"
	}
	return ""
}

// Tags returns the tags of object id of kind (networks or subnets).
func (s *Service) Tags(ctx context.Context, kind, id string) ([]string, error) {
	if err := s.exists(ctx, s.db, kind, id); err != nil {
		return nil, err
	}
	return ReadTags(ctx, s.db, kind, id)
}

// ChangeTags applies c to object id of kind (networks or subnets) and
// bumps its revision, as Neutron does for a tag change.
func (s *Service) ChangeTags(ctx context.Context, kind, id string, c TagChange) ([]string, error) {
	table := tagTable(kind)
	if table == "" {
		return nil, fmt.Errorf("network service: no tags of %s", kind)
	}
	var out []string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := s.exists(ctx, tx, kind, id); err != nil {
			return err
		}
		var err error
		out, err = ChangeTags(ctx, tx, kind, id, c, reviseRow(ctx, tx, table, id))
		return err
	})
	return out, err
}

// exists checks object id of kind is there, with its NotFound.
func (s *Service) exists(ctx context.Context, q store.Querier, kind, id string) error {
	switch kind {
	case KindNetworks:
		var n int
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM networks WHERE id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return noSuchNetwork(id)
		}
		return nil
	case KindSubnets:
		_, err := getSubnet(ctx, q, id)
		return err
	case KindPorts:
		return portExists(ctx, q, id)
	}
	return fmt.Errorf("network service: no objects of kind %s", kind)
}
