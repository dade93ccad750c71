package compute

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/flavor"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/scheduler"
	"github.com/kumocloud/kumo/internal/secgroup"
	"github.com/kumocloud/kumo/internal/store"
)

// NetworkRequest is what a create asks of the address manager: Nova's
// "auto", "none", or a list of networks.
type NetworkRequest struct {
	Mode     string // "auto", "none" or "list"
	Networks []RequestedNetwork
}

// RequestedNetwork is one entry of a create's networks list.
type RequestedNetwork struct {
	UUID    string
	FixedIP string
	Port    string
	Tag     string
}

// CreateRequest is a validated POST /servers.
type CreateRequest struct {
	Name           string
	ImageRef       string
	FlavorRef      string
	Metadata       map[string]string
	UserData       string // base64
	KeyName        string
	AdminPass      string // "" = generate
	AZ             string
	Host           string // 2.74, admin only (checked by the API)
	Node           string
	Networks       NetworkRequest
	SecurityGroups []string
	MinCount       int
	MaxCount       int
	ConfigDrive    bool
	AccessIPv4     string
	AccessIPv6     string
	DiskConfig     string
	Description    *string
	Tags           []string
	Hostname       string // 2.90; "" = derived from the name
	SchedulerHints map[string]any
	RequestID      string
}

// CreateResult is what a create answers with.
type CreateResult struct {
	Servers       []*Server
	ReservationID string
	AdminPass     string // shown once, never stored in clear
}

// Create validates the request's references, then in one transaction
// checks quota, places each server on a host and claims its capacity,
// allocates addresses, records the instance action and queues the build
// task. A server that fits no host is created in ERROR with Nova's
// "No valid host was found." fault, as Nova does.
func (s *Service) Create(ctx context.Context, p *auth.Principal, req CreateRequest) (*CreateResult, error) {
	fl, err := s.Flavors.Get(ctx, flavor.ViewerOf(p), req.FlavorRef)
	if err != nil {
		if errs.Is(err, errs.KindNotFound) {
			return nil, errs.Invalid("Flavor %s could not be found.", req.FlavorRef)
		}
		return nil, fmt.Errorf("look up flavor: %w", err)
	}
	if fl.Disabled {
		return nil, errs.Invalid("Flavor %s could not be found.", req.FlavorRef)
	}
	img, err := s.bootImage(ctx, p, req.ImageRef, fl)
	if err != nil {
		return nil, err
	}
	keyData := ""
	if req.KeyName != "" {
		if s.KeyPairs == nil {
			return nil, errs.Invalid("Invalid key_name provided.")
		}
		kp, err := s.KeyPairs.Get(ctx, p.UserID, req.KeyName)
		if err == nil {
			keyData = kp.PublicKey
		}
		if err != nil {
			if errs.Is(err, errs.KindNotFound) {
				return nil, errs.Invalid("Invalid key_name provided.")
			}
			return nil, fmt.Errorf("look up key pair: %w", err)
		}
	}
	if req.MinCount < 1 {
		req.MinCount = 1
	}
	if req.MaxCount < req.MinCount {
		req.MaxCount = req.MinCount
	}
	adminPass := req.AdminPass
	if adminPass == "" {
		adminPass = GeneratePassword()
	}
	res := &CreateResult{ReservationID: newReservationID(), AdminPass: adminPass}
	snapshot := FlavorSnapshot{ID: fl.ID, Name: fl.Name, VCPUs: fl.VCPUs, RAM: fl.RAM, Disk: fl.Disk,
		Ephemeral: fl.Ephemeral, Swap: fl.Swap, ExtraSpecs: fl.ExtraSpecs}
	if snapshot.ExtraSpecs == nil {
		snapshot.ExtraSpecs = map[string]string{}
	}
	sysmeta := imageSystemMetadata(img)
	if req.AZ != "" {
		sysmeta[PinnedAZKey] = req.AZ // Nova's request spec keeps the asked-for zone
	}
	sealedPass := ""
	if s.Secrets != nil {
		sealedPass = s.Secrets.Seal(adminPass)
	}
	var hosts []string
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		res.Servers, hosts = nil, nil
		groupIDs, err := secgroup.ResolveForCreate(ctx, tx, p, req.SecurityGroups)
		if err != nil {
			return err
		}
		n := req.MaxCount
		if s.Quotas != nil {
			var err error
			n, err = s.Quotas.CheckInstanceCount(ctx, tx, p.ProjectID, p.UserID, req.MinCount, req.MaxCount, fl.VCPUs, fl.RAM)
			if err != nil {
				return err
			}
		}
		now := s.now()
		group, err := checkGroupHint(ctx, tx, p.ProjectID, req.SchedulerHints)
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			srv := &Server{
				ID: uuid.NewString(), ProjectID: p.ProjectID, UserID: p.UserID,
				Name: req.Name, Description: req.Description, ReservationID: res.ReservationID, LaunchIndex: i,
				ImageRef: req.ImageRef, Flavor: snapshot, VMState: state.VMBuilding, TaskState: state.TaskScheduling,
				PowerState: state.PowerNoState, AZ: req.AZ, KeyName: req.KeyName, KeyData: keyData,
				UserData: req.UserData, AccessIPv4: CanonicalIP(req.AccessIPv4), AccessIPv6: CanonicalIP(req.AccessIPv6),
				DiskConfig: req.DiskConfig, SystemMetadata: sysmeta, SecurityGroups: req.SecurityGroups,
				SchedulerHints: req.SchedulerHints, Metadata: req.Metadata, Tags: req.Tags,
				CreatedAt: now.UTC(), UpdatedAt: now.UTC(),
			}
			if req.ConfigDrive {
				srv.ConfigDrive = "True"
			}
			if srv.DiskConfig == "" {
				srv.DiskConfig = "MANUAL"
			}
			if n > 1 {
				srv.Name = fmt.Sprintf("%s-%d", req.Name, i+1)
			}
			srv.Hostname = req.Hostname
			if srv.Hostname == "" || n > 1 {
				srv.Hostname = SanitizeHostname(srv.Name, srv.ID)
			}
			schedReq := scheduler.Request{
				VCPUs: fl.VCPUs, MemoryMB: fl.RAM, DiskGB: fl.Disk + fl.Ephemeral,
				AZ: req.AZ, Host: req.Host, Node: req.Node,
			}
			var placement scheduler.Placement
			fits, err := groupPlacement(ctx, tx, group, &schedReq)
			if err == nil && !fits {
				err = scheduler.ErrNoValidHost
			}
			if err == nil {
				placement, err = scheduler.Claim(ctx, tx, schedReq, now)
			}
			switch {
			case errors.Is(err, scheduler.ErrNoValidHost):
				srv.VMState, srv.TaskState = state.VMError, state.TaskNone
				srv.Fault = &Fault{Code: 500, Message: scheduler.ErrNoValidHost.Error(), Created: now.UTC()}
				if srv.AZ == "" {
					srv.AZ = scheduler.DefaultAZ
				}
			case err != nil:
				return err
			default:
				srv.Host, srv.Node = placement.Host, placement.Node
				if srv.AZ == "" {
					srv.AZ = placement.AZ
				}
			}
			if err := insertServer(ctx, tx, srv); err != nil {
				return err
			}
			if err := joinServerGroup(ctx, tx, group, srv.ID, now); err != nil {
				return err
			}
			if s.Addresses != nil && srv.Fault == nil {
				if err := s.Addresses.Allocate(ctx, tx, p.ProjectID, srv.ID, req.Networks); err != nil {
					return err
				}
			}
			if err := secgroup.Attach(ctx, tx, srv.ID, groupIDs); err != nil {
				return err
			}
			actionID, err := startAction(ctx, tx, srv, "create", req.RequestID, p, now)
			if err != nil {
				return err
			}
			if srv.Fault != nil {
				if err := recordFailedEvent(ctx, tx, actionID, "conductor_schedule_and_build_instances", "", srv.Fault.Message, now); err != nil {
					return err
				}
			} else {
				params := map[string]string{}
				if sealedPass != "" {
					params["admin_pass"] = sealedPass
				}
				if err := insertTask(ctx, tx, &Task{InstanceID: srv.ID, Host: srv.Host, Kind: TaskBuild,
					Params: params, RequestID: req.RequestID, ActionID: actionID}, now); err != nil {
					return err
				}
				hosts = append(hosts, srv.Host)
			}
			res.Servers = append(res.Servers, srv)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, h := range hosts {
		s.wake(h)
	}
	return res, nil
}

// bootImage resolves and checks the image a server boots from.
func (s *Service) bootImage(ctx context.Context, p *auth.Principal, ref string, fl *flavor.Flavor) (*image.Image, error) {
	img, err := s.Images.Get(ctx, p, ref)
	if err != nil {
		if errs.Is(err, errs.KindNotFound) {
			return nil, errs.Invalid("Can not find requested image")
		}
		return nil, fmt.Errorf("look up image: %w", err)
	}
	if img.Status != "active" {
		return nil, errs.Invalid("Image %s is not active.", ref)
	}
	if img.MinRAM > fl.RAM {
		return nil, errs.Invalid("Flavor's memory is too small for requested image.")
	}
	if fl.Disk > 0 {
		if img.MinDisk > fl.Disk {
			return nil, errs.Invalid("Flavor's disk is smaller than the minimum size specified in image metadata. Flavor disk is %d bytes, minimum size is %d bytes.", int64(fl.Disk)<<30, int64(img.MinDisk)<<30)
		}
		if img.Size != nil && *img.Size > int64(fl.Disk)<<30 {
			return nil, errs.Invalid("Flavor's disk is too small for requested image. Flavor disk is %d bytes, image is %d bytes.", int64(fl.Disk)<<30, *img.Size)
		}
	}
	return img, nil
}

// imageSystemMetadata is what Nova copies from the image into the
// server's system_metadata at boot.
func imageSystemMetadata(img *image.Image) map[string]string {
	m := map[string]string{
		"image_min_disk":       fmt.Sprint(img.MinDisk),
		"image_min_ram":        fmt.Sprint(img.MinRAM),
		"image_base_image_ref": img.ID,
	}
	if img.DiskFormat != nil {
		m["image_disk_format"] = *img.DiskFormat
	}
	if img.ContainerFormat != nil {
		m["image_container_format"] = *img.ContainerFormat
	}
	for k, v := range img.Properties {
		m["image_"+k] = v
	}
	return m
}

func insertServer(ctx context.Context, tx *store.Tx, srv *Server) error {
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(number), 0) + 1 FROM instances`).Scan(&srv.Number); err != nil {
		return fmt.Errorf("number server: %w", err)
	}
	flavorJSON, _ := json.Marshal(srv.Flavor)
	sysmeta, _ := json.Marshal(srv.SystemMetadata)
	groups := srv.SecurityGroups
	if groups == nil {
		groups = []string{}
	}
	sgJSON, _ := json.Marshal(groups)
	hints := srv.SchedulerHints
	if hints == nil {
		hints = map[string]any{}
	}
	hintsJSON, _ := json.Marshal(hints)
	var faultJSON *string
	if srv.Fault != nil {
		b, _ := json.Marshal(srv.Fault)
		f := string(b)
		faultJSON = &f
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO instances (id, number, project_id, user_id, name, hostname,
		description, reservation_id, launch_index, image_ref, flavor_id, flavor, vcpus, memory_mb, root_gb,
		ephemeral_gb, vm_state, task_state, power_state, host, node, availability_zone, key_name, key_data,
		user_data, config_drive, access_ip_v4, access_ip_v6, disk_config, fault, system_metadata,
		security_groups, scheduler_hints, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		srv.ID, srv.Number, srv.ProjectID, srv.UserID, srv.Name, srv.Hostname, srv.Description,
		srv.ReservationID, srv.LaunchIndex, srv.ImageRef, srv.Flavor.ID, string(flavorJSON), srv.Flavor.VCPUs,
		srv.Flavor.RAM, srv.Flavor.Disk, srv.Flavor.Ephemeral, string(srv.VMState), nullTask(srv.TaskState),
		int(srv.PowerState), nullStr(srv.Host), nullStr(srv.Node), nullStr(srv.AZ), nullStr(srv.KeyName),
		nullStr(srv.KeyData), nullStr(srv.UserData), srv.ConfigDrive, srv.AccessIPv4, srv.AccessIPv6,
		srv.DiskConfig, faultJSON, string(sysmeta), string(sgJSON), string(hintsJSON),
		srv.CreatedAt.UnixMicro(), srv.UpdatedAt.UnixMicro())
	if err != nil {
		return fmt.Errorf("insert server: %w", err)
	}
	for k, v := range srv.Metadata {
		if _, err := tx.ExecContext(ctx, `INSERT INTO instance_metadata (instance_id, key, value) VALUES (?, ?, ?)`, srv.ID, k, v); err != nil {
			return fmt.Errorf("insert metadata: %w", err)
		}
	}
	for _, t := range srv.Tags {
		if _, err := tx.ExecContext(ctx, `INSERT INTO instance_tags (instance_id, tag) VALUES (?, ?)`, srv.ID, t); err != nil {
			if store.IsUniqueViolation(err) {
				continue
			}
			return fmt.Errorf("insert tag: %w", err)
		}
	}
	return nil
}

func nullStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullTask(t state.TaskState) *string { return nullStr(string(t)) }

// GeneratePassword returns a random 12-character password like Nova's
// generate_password (letters and digits without look-alikes).
func GeneratePassword() string {
	const symbols = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
	return randomString(12, symbols)
}

func newReservationID() string {
	return "r-" + randomString(8, "abcdefghijklmnopqrstuvwxyz0123456789")
}

// randomString draws n symbols uniformly (rejection sampling avoids the
// modulo bias).
func randomString(n int, symbols string) string {
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	limit := 256 - 256%len(symbols)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			panic(fmt.Sprintf("crypto/rand: %v", err))
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, symbols[int(b)%len(symbols)])
			}
		}
	}
	return string(out)
}

var hostnameInvalid = regexp.MustCompile(`[^\w.-]+`)

// SanitizeHostname turns a display name into a hostname as Nova does
// (lower case, invalid characters to '-', at most 63 characters, never
// empty: "Server-<uuid>" when nothing is left).
func SanitizeHostname(name, id string) string {
	h := strings.ReplaceAll(name, "_", "-")
	h = strings.ReplaceAll(h, " ", "-")
	h = hostnameInvalid.ReplaceAllString(h, "")
	h = strings.ToLower(strings.Trim(h, ".-"))
	if len(h) > 63 {
		h = strings.Trim(h[:63], ".-")
	}
	if h == "" {
		h = "server-" + id
	}
	return h
}
