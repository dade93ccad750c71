package compute

// Server diagnostics (Nova's compute API get_instance_diagnostics): a
// synchronous call to the server's host for what its driver measures.

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Diagnostics is what the host reports of a guest for Nova's server
// diagnostics (2.48's standard form): its power state in Nova's terms and
// what its driver measures. Counters the driver cannot measure are nil;
// Nova's API shows them as null.
type Diagnostics struct {
	Power        state.PowerState
	Driver       string
	Hypervisor   string
	HypervisorOS string
	Uptime       *int64 // seconds since the guest started
	ConfigDrive  bool
	MemoryMaxMB  int
	MemoryUsedMB *int64
	CPUs         []CPUDiagnostics
	NICs         []NICDiagnostics
	Disks        []DiskDiagnostics
}

// CPUDiagnostics is one vCPU's time used (ns) and utilisation (%).
type CPUDiagnostics struct {
	ID          int
	TimeNS      *int64
	Utilisation *int64
}

// NICDiagnostics is one interface's traffic.
type NICDiagnostics struct {
	MAC                                           string
	RxOctets, RxErrors, RxDrop, RxPackets, RxRate *int64
	TxOctets, TxErrors, TxDrop, TxPackets, TxRate *int64
}

// DiskDiagnostics is one disk's I/O.
type DiskDiagnostics struct {
	ReadBytes, ReadRequests, WriteBytes, WriteRequests, Errors *int64
}

// Diagnostics asks the server's host for its guest's diagnostics. A
// server without a host is Nova's 409 (check_instance_host), a driver
// that cannot tell a 501, a guest the host does not know a 404.
func (s *Service) Diagnostics(ctx context.Context, p *auth.Principal, id, requestID string) (*Diagnostics, error) {
	var host, taskID string
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		srv, err := s.visible(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if srv.Host == "" {
			return errs.Conflict("Instance %s is not ready", id)
		}
		host = srv.Host
		taskID, err = queueCall(ctx, tx, srv, nil, CallDiagnostics, "", requestID, nil, s.now())
		return err
	})
	if err != nil {
		return nil, err
	}
	answer, err := s.awaitCall(ctx, host, taskID)
	if err != nil {
		return nil, err
	}
	switch answer.Failure {
	case "":
		var d Diagnostics
		if err := json.Unmarshal([]byte(answer.Output), &d); err != nil {
			return nil, fmt.Errorf("diagnostics of %s: %w", id, err)
		}
		return &d, nil
	case callNotSupported:
		return nil, &errs.Error{Kind: errs.KindNotImplemented, Message: "The requested functionality is not supported."}
	}
	return nil, notFound(id)
}
