package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// IsDiskFull reports whether err is a write refused for lack of disk
// space: SQLite's SQLITE_FULL ("database or disk is full"), PostgreSQL's
// disk_full, or ENOSPC itself.
func IsDiskFull(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "53100"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return sqErr.Code()&0xff == sqlite3.SQLITE_FULL
	}
	return errors.Is(err, syscall.ENOSPC)
}

// keepWAL opens SQLite connections that leave the -wal and -shm files in
// place when they close (SQLITE_FCNTL_PERSIST_WAL). Otherwise the last
// connection to close (idle ones close after 15 s) deletes both, and the
// next one must create the -shm again and write its 32 KiB: on a full
// disk that fails, and every read with it ("disk I/O error"). The kept
// -wal also keeps its size, room the next transactions reuse when the
// disk has none left (a delete that frees an image file).
type keepWAL struct{ driver.Connector }

func (k keepWAL) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := k.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	fc, ok := conn.(sqlite.FileControl)
	if !ok {
		conn.Close()
		return nil, errors.New("sqlite connection without file controls")
	}
	if _, err := fc.FileControlPersistWAL("main", 1); err != nil {
		conn.Close()
		return nil, fmt.Errorf("keep sqlite WAL: %w", err)
	}
	return conn, nil
}
