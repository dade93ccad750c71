package hosts

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// InternalZone is Nova's internal_service_availability_zone: where the
// control services live.
const InternalZone = "internal"

// controlBinaries are the control services kumo runs in its own process,
// listed as Nova lists its scheduler and conductor. Their integer ids
// come first; compute services follow.
var controlBinaries = [...]string{"nova-scheduler", "nova-conductor"}

// serviceNamespace seeds the stable uuids of services (a compute
// service's uuid differs from its compute node's, as in Nova).
var serviceNamespace = uuid.MustParse("6f3c2a1e-5b0d-4c8e-9a77-3d1f0b6e2c44")

// Service is one row of os-services.
type Service struct {
	ID             int64
	UUID           string
	Binary         string
	Host           string
	Zone           string
	Disabled       bool
	DisabledReason *string
	ForcedDown     bool
	Up             bool
	UpdatedAt      time.Time
	// Compute is the host behind a nova-compute service; nil for the
	// in-process control services.
	Compute *Host
}

// ComputeService is the nova-compute service of host h at now.
func ComputeService(h Host, now time.Time) Service {
	updated := h.UpdatedAt
	if h.HeartbeatAt.After(updated) {
		updated = h.HeartbeatAt // the heartbeat is the service's report
	}
	hc := h
	return Service{
		ID:             int64(len(controlBinaries)) + h.Number,
		UUID:           uuid.NewSHA1(serviceNamespace, []byte("nova-compute/"+h.ID)).String(),
		Binary:         "nova-compute",
		Host:           h.Hostname,
		Zone:           h.AvailabilityZone,
		Disabled:       h.Disabled,
		DisabledReason: h.DisabledReason,
		ForcedDown:     h.ForcedDown,
		Up:             h.Up(now),
		UpdatedAt:      updated,
		Compute:        &hc,
	}
}

// ControlServices are the in-process services on controlHost: always up
// (they answer this very request), reporting at now.
func ControlServices(controlHost string, now time.Time) []Service {
	out := make([]Service, len(controlBinaries))
	for i, b := range controlBinaries {
		out[i] = Service{
			ID:        int64(i + 1),
			UUID:      uuid.NewSHA1(serviceNamespace, []byte(b+"/"+controlHost)).String(),
			Binary:    b,
			Host:      controlHost,
			Zone:      InternalZone,
			Up:        true,
			UpdatedAt: now,
		}
	}
	return out
}

// Services lists the control services then one nova-compute service per
// registered host, as of the directory's clock.
func (d *Directory) Services(ctx context.Context) ([]Service, error) {
	hs, err := d.List(ctx)
	if err != nil {
		return nil, err
	}
	now := d.Now()
	out := ControlServices(d.ControlHost, now)
	for _, h := range hs {
		out = append(out, ComputeService(h, now))
	}
	return out, nil
}
