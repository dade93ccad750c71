package image

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/kumocloud/kumo/internal/store"
)

// imageColumns is the column list every image query selects, in the order
// scanImage reads them.
const imageColumns = `i.id, i.name, i.status, i.visibility, i.owner, i.container_format, i.disk_format,
	i.size, i.virtual_size, i.checksum, i.os_hash_algo, i.os_hash_value, i.min_disk, i.min_ram,
	i.protected, i.os_hidden, i.created_at, i.updated_at`

type rowScanner interface{ Scan(dest ...any) error }

func scanImage(r rowScanner) (*Image, error) {
	var (
		img                           Image
		name, cf, df, sum, algo, hash sql.NullString
		size, vsize                   sql.NullInt64
	)
	err := r.Scan(&img.ID, &name, &img.Status, &img.Visibility, &img.Owner, &cf, &df,
		&size, &vsize, &sum, &algo, &hash, &img.MinDisk, &img.MinRAM,
		&img.Protected, &img.OSHidden, &img.CreatedAt, &img.UpdatedAt)
	if err != nil {
		return nil, err
	}
	img.Name = store.StringPtr(name)
	img.ContainerFormat = store.StringPtr(cf)
	img.DiskFormat = store.StringPtr(df)
	img.Checksum = store.StringPtr(sum)
	img.OSHashAlgo = store.StringPtr(algo)
	img.OSHashValue = store.StringPtr(hash)
	if size.Valid {
		img.Size = &size.Int64
	}
	if vsize.Valid {
		img.VirtualSize = &vsize.Int64
	}
	img.Properties = map[string]string{}
	img.Tags = []string{}
	return &img, nil
}

// loadImage reads a live (not deleted) image with its tags and
// properties; store.ErrNotFound when there is none.
func loadImage(ctx context.Context, q store.Querier, id string) (*Image, error) {
	row := q.QueryRowContext(ctx, `SELECT `+imageColumns+` FROM images i WHERE i.id = ? AND i.deleted = FALSE`, id)
	img, err := scanImage(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load image %s: %w", id, err)
	}
	if err := loadDetails(ctx, q, []*Image{img}); err != nil {
		return nil, err
	}
	return img, nil
}

// loadDetails fills in the tags and properties of images.
func loadDetails(ctx context.Context, q store.Querier, images []*Image) error {
	if len(images) == 0 {
		return nil
	}
	byID := make(map[string]*Image, len(images))
	args := make([]any, 0, len(images))
	for _, img := range images {
		byID[img.ID] = img
		args = append(args, img.ID)
	}
	in := placeholders(len(args))
	rows, err := q.QueryContext(ctx, `SELECT image_id, name, value FROM image_properties WHERE image_id IN (`+in+`)`, args...)
	if err != nil {
		return fmt.Errorf("load image properties: %w", err)
	}
	for rows.Next() {
		var id, k, v string
		if err := rows.Scan(&id, &k, &v); err != nil {
			rows.Close()
			return fmt.Errorf("scan image property: %w", err)
		}
		byID[id].Properties[k] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load image properties: %w", err)
	}
	rows, err = q.QueryContext(ctx, `SELECT image_id, value FROM image_tags WHERE image_id IN (`+in+`)`, args...)
	if err != nil {
		return fmt.Errorf("load image tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, tag string
		if err := rows.Scan(&id, &tag); err != nil {
			return fmt.Errorf("scan image tag: %w", err)
		}
		byID[id].Tags = append(byID[id].Tags, tag)
	}
	for _, img := range images {
		sort.Strings(img.Tags)
	}
	return rows.Err()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// insertImage writes a new image row with its tags and properties.
func insertImage(ctx context.Context, tx *store.Tx, img *Image) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO images (id, name, status, visibility, owner, container_format,
		disk_format, size, virtual_size, checksum, os_hash_algo, os_hash_value, min_disk, min_ram, protected,
		os_hidden, deleted, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,FALSE,?,?)`,
		img.ID, img.Name, img.Status, img.Visibility, img.Owner, img.ContainerFormat, img.DiskFormat,
		img.Size, img.VirtualSize, img.Checksum, img.OSHashAlgo, img.OSHashValue, img.MinDisk, img.MinRAM,
		img.Protected, img.OSHidden, img.CreatedAt, img.UpdatedAt)
	if err != nil {
		return err
	}
	return writeDetails(ctx, tx, img)
}

// saveImage rewrites an image's mutable columns, tags and properties.
func saveImage(ctx context.Context, tx *store.Tx, img *Image) error {
	_, err := tx.ExecContext(ctx, `UPDATE images SET name = ?, status = ?, visibility = ?, owner = ?,
		container_format = ?, disk_format = ?, size = ?, virtual_size = ?, checksum = ?, os_hash_algo = ?,
		os_hash_value = ?, min_disk = ?, min_ram = ?, protected = ?, os_hidden = ?, updated_at = ?
		WHERE id = ? AND deleted = FALSE`,
		img.Name, img.Status, img.Visibility, img.Owner, img.ContainerFormat, img.DiskFormat, img.Size,
		img.VirtualSize, img.Checksum, img.OSHashAlgo, img.OSHashValue, img.MinDisk, img.MinRAM,
		img.Protected, img.OSHidden, img.UpdatedAt, img.ID)
	if err != nil {
		return fmt.Errorf("save image %s: %w", img.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM image_properties WHERE image_id = ?`, img.ID); err != nil {
		return fmt.Errorf("save image properties: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM image_tags WHERE image_id = ?`, img.ID); err != nil {
		return fmt.Errorf("save image tags: %w", err)
	}
	return writeDetails(ctx, tx, img)
}

func writeDetails(ctx context.Context, tx *store.Tx, img *Image) error {
	for k, v := range img.Properties {
		if _, err := tx.ExecContext(ctx, `INSERT INTO image_properties (image_id, name, value) VALUES (?,?,?)`, img.ID, k, v); err != nil {
			return fmt.Errorf("save image property %s: %w", k, err)
		}
	}
	for _, t := range img.Tags {
		if _, err := tx.ExecContext(ctx, `INSERT INTO image_tags (image_id, value) VALUES (?,?)`, img.ID, t); err != nil {
			return fmt.Errorf("save image tag %s: %w", t, err)
		}
	}
	return nil
}

// memberStatus returns project's membership status on an image, "" when
// it is not a member.
func memberStatus(ctx context.Context, q store.Querier, imageID, project string) (string, error) {
	if project == "" {
		return "", nil
	}
	var status string
	err := q.QueryRowContext(ctx, `SELECT status FROM image_members WHERE image_id = ? AND member_id = ?`, imageID, project).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("load image membership: %w", err)
	}
	return status, nil
}
