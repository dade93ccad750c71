package compute

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/flavor"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/scheduler"
	"github.com/kumocloud/kumo/internal/secgroup"
	"github.com/kumocloud/kumo/internal/servergroup"
	"github.com/kumocloud/kumo/internal/store"
)

// NetworkRequest is what a create asks of the address manager: Nova's
// "auto", "none", or a list of networks.
type NetworkRequest struct {
	Mode     string // "auto", "none" or "list"
	Networks []RequestedNetwork
	// Zone is the server's availability zone (set by create, not the
	// request): its ports' device_owner is "compute:<zone>".
	Zone string
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
	Name      string
	ImageRef  string
	FlavorRef string
	Metadata  map[string]string
	UserData  string // base64
	KeyName   string
	AdminPass string // "" = generate
	AZ        string
	Host      string // 2.74, admin only (checked by the API)
	Node      string
	// ForcedHost: Host and Node come from the admin's "az:host:node",
	// which Nova takes without running the scheduler's filters.
	ForcedHost     bool
	Networks       NetworkRequest
	SecurityGroups []string
	// MinCount and MaxCount are how many servers to make (Nova's
	// min_count and max_count; below 1 they are 1 and MinCount).
	MinCount int
	MaxCount int
	// BigMinCount and BigMaxCount, when set, replace MinCount and
	// MaxCount: Nova reads the counts with Python's int(), so a request
	// may ask for more than an int holds, and its quota error quotes the
	// numbers whole.
	BigMinCount *big.Int
	BigMaxCount *big.Int
	ConfigDrive bool
	AccessIPv4  string
	AccessIPv6  string
	DiskConfig  string
	Description *string
	Tags        []string
	Hostname    string // 2.90; "" = derived from the name
	// BlockDevices are block_device_mapping(_v2) in Nova's v2 form.
	BlockDevices   []BlockDeviceRequest
	SchedulerHints map[string]any
	RequestID      string
}

// CreateResult is what a create answers with.
type CreateResult struct {
	Servers       []*Server
	ReservationID string
	AdminPass     string // shown once, never stored in clear
}

// counts are the request's min_count and max_count, defaults applied.
func (r *CreateRequest) counts() (minCount, maxCount *big.Int) {
	minCount, maxCount = r.BigMinCount, r.BigMaxCount
	if minCount == nil {
		minCount = big.NewInt(int64(r.MinCount))
	}
	if maxCount == nil {
		maxCount = big.NewInt(int64(r.MaxCount))
	}
	if minCount.Sign() < 1 {
		minCount = big.NewInt(1)
	}
	if maxCount.Cmp(minCount) < 0 {
		maxCount = minCount
	}
	return minCount, maxCount
}

// maxCountOf is maxCount as an int64 (the largest one when it does not
// fit: only whether it exceeds 1 matters to the volume checks).
func maxCountOf(n *big.Int) int64 {
	if !n.IsInt64() {
		return 1 << 62
	}
	return n.Int64()
}

// DefaultMaxCreateCount is how many servers one create makes at most
// when Settings.MaxCreateCount is not set.
const DefaultMaxCreateCount = 100

// maxCreateCount is the most servers one create makes.
func (s *Service) maxCreateCount() int {
	if s.Settings.MaxCreateCount > 0 {
		return s.Settings.MaxCreateCount
	}
	return DefaultMaxCreateCount
}

// Create validates the request's references, then checks quota and
// makes the servers: each is placed on a host that gets its capacity
// claimed, gets addresses, an instance action and a build task. A server
// that fits no host is created in ERROR with Nova's "No valid host was
// found." fault, as Nova does.
//
// The count is decided first, as Nova's check_num_instances_quota does
// (max_count lowered to what the quota allows if that is at least
// min_count), then capped at Settings.MaxCreateCount. The first
// min_count servers are made in one transaction with that check, so they
// are all made or none (Nova's min_count); each further server is its own
// transaction that checks the quota again and, if it no longer fits,
// ends the create there. So a multiple create holds the database's write
// lock no longer at a time than a create of min_count servers, and other
// projects' requests run between its servers.
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
	var img *image.Image
	if req.ImageRef != "" {
		if img, err = s.bootImage(ctx, p, req.ImageRef, fl); err != nil {
			return nil, err
		}
	}
	keyData := ""
	if req.KeyName != "" {
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
	minCount, maxCount := req.counts()
	var defined []BlockDeviceRequest
	if img != nil {
		defined = imageDefinedBlockDevices(img.Properties)
	}
	plan, err := s.planBlockDevices(ctx, p, &req, defined, fl, maxCountOf(maxCount))
	if err != nil {
		return nil, err
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
	var sysmeta map[string]string
	if img == nil {
		sysmeta = plan.sysmeta
	} else {
		sysmeta = imageSystemMetadata(img)
	}
	if req.AZ != "" {
		sysmeta[PinnedAZKey] = req.AZ // Nova's request spec keeps the asked-for zone
	}
	candidates, err := scheduler.ReadCandidates(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	b := &createBatch{s: s, p: p, req: &req, fl: fl, snapshot: snapshot, keyData: keyData, volumes: plan,
		sysmeta: sysmeta, sealedPass: s.Secrets.Seal(adminPass), reservationID: res.ReservationID, hosts: candidates}

	// The count, and the first min_count servers: all or nothing.
	var n int
	var first []*Server
	var hosts []string
	err = s.DB.InTxHold(ctx, createHold(minCount), func(tx *store.Tx) error {
		first, hosts = nil, nil
		if err := b.prepare(ctx, tx); err != nil {
			return err
		}
		maxCount, err := s.portRoom(ctx, tx, p.ProjectID, req.Networks, minCount, maxCount)
		if err != nil {
			return err
		}
		if n, err = s.createCount(ctx, tx, p, minCount, maxCount, fl); err != nil {
			return err
		}
		b.n = n
		if b.group != nil {
			if err := s.Quotas.CheckGroupMembers(ctx, tx, p.ProjectID, p.UserID, b.group.ID, n); err != nil {
				return err
			}
		}
		for i := range int(minCount.Int64()) { // at most n: createCount checked it
			srv, host, err := b.make(ctx, tx, i)
			if err != nil {
				return err
			}
			first = append(first, srv)
			hosts = append(hosts, host)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	b.hosts.Committed()
	res.Servers = first
	for _, h := range hosts {
		s.wake(h)
	}

	// The rest, one server per transaction, while the quota still has
	// room (another request may have taken it since the count was set).
	for i := len(first); i < n; i++ {
		if ctx.Err() != nil {
			break // the client is gone; what exists stays, as in Nova
		}
		var srv *Server
		var host string
		err := s.DB.InTx(ctx, func(tx *store.Tx) error {
			if err := b.prepare(ctx, tx); err != nil {
				return err
			}
			if _, err := s.Quotas.CheckInstanceCount(ctx, tx, p.ProjectID, p.UserID, 1, 1, fl.VCPUs, fl.RAM); err != nil {
				return err
			}
			if b.group != nil {
				if err := s.Quotas.CheckGroupMembers(ctx, tx, p.ProjectID, p.UserID, b.group.ID, 1); err != nil {
					return err
				}
			}
			var err error
			srv, host, err = b.make(ctx, tx, i)
			return err
		})
		if err != nil {
			if errs.KindOf(err) == errs.KindInternal && ctx.Err() == nil {
				return nil, err
			}
			// Over quota since, a group or address pool gone or full:
			// max_count is a most, and min_count servers exist.
			break
		}
		b.hosts.Committed()
		res.Servers = append(res.Servers, srv)
		s.wake(host)
	}
	return res, nil
}

// createHold bounds the transaction that makes a create's first minCount
// servers: store.MaxTxHold, plus 100 ms a server beyond the first. Those
// servers are all made or none (Nova's min_count), so they are one
// transaction of some 15 statements each; on a loaded machine, where a
// statement waits milliseconds for PostgreSQL's backend to be scheduled,
// 100 of them took more than MaxTxHold and every such create failed with
// a 500. The bound still stops a runaway: minCount is at most
// Settings.MaxCreateCount (createCount checks it before any server is
// made).
func createHold(minCount *big.Int) time.Duration {
	n := int64(1)
	if minCount.IsInt64() {
		n = min(max(minCount.Int64(), 1), 1000)
	}
	return store.MaxTxHold + time.Duration(n-1)*100*time.Millisecond
}

// portRoom is Nova's port quota check of a create (validate_networks):
// maxCount lowered to the servers whose new ports fit the project's port
// quota, or Nova's 403 when not even minCount fit. Ports passed in need
// no room; "none" needs none.
func (s *Service) portRoom(ctx context.Context, tx *store.Tx, projectID string, nr NetworkRequest, minCount, maxCount *big.Int) (*big.Int, error) {
	perServer := 0
	switch nr.Mode {
	case "none":
	case "list":
		for _, n := range nr.Networks {
			if n.Port == "" {
				perServer++
			}
		}
	default:
		perServer = 1
	}
	if perServer == 0 {
		return maxCount, nil
	}
	limit, used, err := s.Addresses.PortQuota(ctx, tx, projectID)
	if err != nil || limit < 0 {
		return maxCount, err
	}
	free := limit - used
	if free < 0 {
		return nil, errs.OverQuota("The number of defined ports: %d is over the limit: %d", used, limit)
	}
	fit := big.NewInt(int64(free / perServer))
	if fit.Cmp(minCount) < 0 {
		return nil, errs.OverQuota("Maximum number of ports exceeded")
	}
	if fit.Cmp(maxCount) < 0 {
		return fit, nil
	}
	return maxCount, nil
}

// createCount is how many servers a create makes: Nova's quota check
// (max_count lowered to what fits, if at least min_count), then at most
// the deployment's per-request cap; a min_count above the cap is refused.
func (s *Service) createCount(ctx context.Context, tx *store.Tx, p *auth.Principal, minCount, maxCount *big.Int, fl *flavor.Flavor) (int, error) {
	n, err := s.Quotas.CheckInstanceRange(ctx, tx, p.ProjectID, p.UserID, minCount, maxCount, fl.VCPUs, fl.RAM)
	if err != nil {
		return 0, err
	}
	limit := s.maxCreateCount()
	if minCount.Cmp(big.NewInt(int64(limit))) > 0 {
		return 0, errs.OverQuota("Requested %s instances, but one request may create at most %d.", minCount, limit)
	}
	return min(n, limit), nil
}

// createBatch is what every server of one create shares; prepare reads
// what each of its transactions needs, make writes one server.
type createBatch struct {
	s                   *Service
	p                   *auth.Principal
	req                 *CreateRequest
	fl                  *flavor.Flavor
	snapshot            FlavorSnapshot
	keyData, sealedPass string
	sysmeta             map[string]string
	reservationID       string
	n                   int // servers the create makes
	groupIDs            []string
	group               *servergroup.Group
	volumes             *bdmPlan // nil: no volumes
	// hosts are the host states the batch's servers claim from, read
	// before its transactions.
	hosts *scheduler.Candidates
}

// prepare resolves the security groups and the server group hint in tx.
func (b *createBatch) prepare(ctx context.Context, tx *store.Tx) error {
	var err error
	b.hosts.Begin()
	if b.groupIDs, err = secgroup.ResolveForCreate(ctx, tx, b.p, b.req.SecurityGroups); err != nil {
		return err
	}
	b.group, err = checkGroupHint(ctx, tx, b.p.ProjectID, b.req.SchedulerHints)
	return err
}

// make writes server i of the create in tx: the row, its host and
// capacity claim (or ERROR when nothing fits), group membership,
// addresses, security groups, the create action and the build task. It
// returns the server and the host to wake ("" when none).
func (b *createBatch) make(ctx context.Context, tx *store.Tx, i int) (*Server, string, error) {
	s, p, req := b.s, b.p, b.req
	now := s.now()
	srv := &Server{
		ID: uuid.NewString(), ProjectID: p.ProjectID, UserID: p.UserID,
		Name: req.Name, Description: req.Description, ReservationID: b.reservationID, LaunchIndex: i,
		ImageRef: req.ImageRef, Flavor: b.snapshot, VMState: state.VMBuilding, TaskState: state.TaskScheduling,
		PowerState: state.PowerNoState, AZ: req.AZ, KeyName: req.KeyName, KeyData: b.keyData,
		UserData: req.UserData, AccessIPv4: CanonicalIP(req.AccessIPv4), AccessIPv6: CanonicalIP(req.AccessIPv6),
		DiskConfig: req.DiskConfig, SystemMetadata: b.sysmeta,
		SchedulerHints: req.SchedulerHints, Metadata: req.Metadata, Tags: req.Tags,
		CreatedAt: now.UTC(), UpdatedAt: now.UTC(),
	}
	if req.ConfigDrive {
		srv.ConfigDrive = "True"
	}
	if srv.DiskConfig == "" {
		srv.DiskConfig = "MANUAL"
	}
	if b.n > 1 {
		srv.Name = fmt.Sprintf("%s-%d", req.Name, i+1)
	}
	srv.Hostname = req.Hostname
	if srv.Hostname == "" || b.n > 1 {
		srv.Hostname = SanitizeHostname(srv.Name, srv.ID)
	}
	schedReq := claimOf(b.snapshot, b.volumes.bootsFromVolume())
	schedReq.AZ, schedReq.Host, schedReq.Node, schedReq.Forced = req.AZ, req.Host, req.Node, req.ForcedHost
	var placement scheduler.Placement
	err := s.completeSpec(ctx, tx, &schedReq, specSource{projectID: p.ProjectID, flavor: b.snapshot,
		sysmeta: b.sysmeta, hints: req.SchedulerHints, group: b.group})
	if err == nil {
		placement, err = b.hosts.Claim(ctx, tx, schedReq, now)
	}
	switch {
	case errors.Is(err, scheduler.ErrNoValidHost):
		srv.VMState, srv.TaskState = state.VMError, state.TaskNone
		srv.Fault = &Fault{Code: 500, Message: scheduler.ErrNoValidHost.Error(), Created: now.UTC()}
		if srv.AZ == "" {
			srv.AZ = scheduler.DefaultAZ
		}
	case err != nil:
		return nil, "", err
	default:
		srv.Host, srv.Node = placement.Host, placement.Node
		if srv.AZ == "" {
			srv.AZ = placement.AZ
		}
	}
	if err := insertServer(ctx, tx, srv); err != nil {
		return nil, "", err
	}
	if err := joinServerGroup(ctx, tx, b.group, srv.ID, now); err != nil {
		return nil, "", err
	}
	if srv.Fault == nil && b.volumes != nil {
		if err := s.insertCreateVolumes(ctx, tx, srv, b.volumes, now); err != nil {
			return nil, "", err
		}
	}
	if srv.Fault == nil {
		nets := req.Networks
		nets.Zone = srv.AZ
		if err := s.Addresses.Allocate(ctx, tx, p.ProjectID, srv.ID, nets); err != nil {
			return nil, "", err
		}
	}
	// The server's groups are its ports' (Nova with Neutron); a server
	// that got no ports (none asked for, or no host) has none to give.
	if srv.Fault == nil && req.Networks.Mode != "none" {
		if err := secgroup.ApplyToNewServer(ctx, tx, p.ProjectID, srv.ID, b.groupIDs); err != nil {
			return nil, "", err
		}
	}
	actionID, err := startAction(ctx, tx, srv, "create", req.RequestID, p, now)
	if err != nil {
		return nil, "", err
	}
	if srv.Fault != nil {
		if err := recordFailedEvent(ctx, tx, actionID, "conductor_schedule_and_build_instances", s.ServiceHost, srv.Fault.Message, now); err != nil {
			return nil, "", err
		}
		return srv, "", nil
	}
	if err := insertTask(ctx, tx, &Task{InstanceID: srv.ID, Host: srv.Host, Kind: TaskBuild,
		Params: &BuildParams{AdminPass: b.sealedPass}, RequestID: req.RequestID, ActionID: actionID}, now); err != nil {
		return nil, "", err
	}
	return srv, srv.Host, nil
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
	flavorJSON, _ := json.Marshal(srv.Flavor)
	sysmeta, _ := json.Marshal(srv.SystemMetadata)
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
	// The number is the next after the largest, taken in the INSERT
	// itself: one round trip, not two.
	err := tx.QueryRowContext(ctx, `INSERT INTO instances (id, number, project_id, user_id, name, hostname,
		description, reservation_id, launch_index, image_ref, flavor_id, flavor, vcpus, memory_mb, root_gb,
		ephemeral_gb, vm_state, task_state, power_state, host, node, availability_zone, key_name, key_data,
		user_data, config_drive, access_ip_v4, access_ip_v6, disk_config, fault, system_metadata,
		scheduler_hints, created_at, updated_at)
		VALUES (?, (SELECT COALESCE(MAX(number), 0) + 1 FROM instances), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		RETURNING number`,
		srv.ID, srv.ProjectID, srv.UserID, srv.Name, srv.Hostname, srv.Description,
		srv.ReservationID, srv.LaunchIndex, srv.ImageRef, srv.Flavor.ID, string(flavorJSON), srv.Flavor.VCPUs,
		srv.Flavor.RAM, srv.Flavor.Disk, srv.Flavor.Ephemeral, string(srv.VMState), nullTask(srv.TaskState),
		int(srv.PowerState), nullStr(srv.Host), nullStr(srv.Node), nullStr(srv.AZ), nullStr(srv.KeyName),
		nullStr(srv.KeyData), nullStr(srv.UserData), srv.ConfigDrive, srv.AccessIPv4, srv.AccessIPv6,
		srv.DiskConfig, faultJSON, string(sysmeta), string(hintsJSON),
		srv.CreatedAt.UnixMicro(), srv.UpdatedAt.UnixMicro()).Scan(&srv.Number)
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
