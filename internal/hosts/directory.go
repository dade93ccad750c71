package hosts

import (
	"os"
	"time"

	"github.com/kumocloud/kumo/internal/store"
)

// Directory is what the host APIs need: the store, the name of the
// machine the control services run on, and a clock.
type Directory struct {
	DB          *store.DB
	ControlHost string
	Clock       func() time.Time
}

// NewDirectory reads hosts from db; the control services are named after
// this machine.
func NewDirectory(db *store.DB) *Directory {
	name, err := os.Hostname()
	if err != nil || name == "" {
		name = "localhost"
	}
	return &Directory{DB: db, ControlHost: name}
}

// Now is the directory's clock, the wall clock by default.
func (d *Directory) Now() time.Time {
	if d.Clock != nil {
		return d.Clock()
	}
	return time.Now()
}
