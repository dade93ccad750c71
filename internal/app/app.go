package app

import (
	"context"
	"errors"
	"fmt"
	"github.com/kumocloud/kumo/internal/dataplane"
	"github.com/kumocloud/kumo/internal/dataplane/linux"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/agent"
	"github.com/kumocloud/kumo/internal/aggregate"
	"github.com/kumocloud/kumo/internal/api"
	blockstorageapi "github.com/kumocloud/kumo/internal/api/blockstorage"
	computeapi "github.com/kumocloud/kumo/internal/api/compute"
	"github.com/kumocloud/kumo/internal/api/compute/v2xml"
	identityapi "github.com/kumocloud/kumo/internal/api/identity"
	imageapi "github.com/kumocloud/kumo/internal/api/image"
	kumoapi "github.com/kumocloud/kumo/internal/api/kumo"
	networkingapi "github.com/kumocloud/kumo/internal/api/networking"
	"github.com/kumocloud/kumo/internal/apirate"
	"github.com/kumocloud/kumo/internal/auth"
	"github.com/kumocloud/kumo/internal/clock"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/console"
	"github.com/kumocloud/kumo/internal/dashboard"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/faults"
	"github.com/kumocloud/kumo/internal/flavor"
	"github.com/kumocloud/kumo/internal/floatingip"
	"github.com/kumocloud/kumo/internal/hostinfo"
	"github.com/kumocloud/kumo/internal/hostlink"
	"github.com/kumocloud/kumo/internal/hosts"
	"github.com/kumocloud/kumo/internal/identity"
	"github.com/kumocloud/kumo/internal/image"
	"github.com/kumocloud/kumo/internal/keypair"
	"github.com/kumocloud/kumo/internal/network"
	"github.com/kumocloud/kumo/internal/network/computeaddr"
	"github.com/kumocloud/kumo/internal/quota"
	"github.com/kumocloud/kumo/internal/quota/netquota"
	"github.com/kumocloud/kumo/internal/ratelimit"
	"github.com/kumocloud/kumo/internal/reqlog"
	"github.com/kumocloud/kumo/internal/router"
	"github.com/kumocloud/kumo/internal/secgroup"
	"github.com/kumocloud/kumo/internal/secret"
	"github.com/kumocloud/kumo/internal/servergroup"
	"github.com/kumocloud/kumo/internal/store"
	"github.com/kumocloud/kumo/internal/virt"
	"github.com/kumocloud/kumo/internal/volume"
	"github.com/kumocloud/kumo/internal/volume/computevol"
	"github.com/kumocloud/kumo/internal/volume/volfile"
)

// App is a running kumo: its store, services and HTTP handler.
type App struct {
	Config   Config
	DB       *store.DB
	Identity *identity.Service
	Images   *image.Service
	Flavors  *flavor.Service
	Quotas   *quota.Service
	// NetQuotas are the networking API's quotas (Neutron's).
	NetQuotas *netquota.Service
	Keypairs  *keypair.Service
	Compute   *compute.Service
	Network   *network.Manager
	// Hosts is the compute host inventory, Networks the network service
	// the APIs share.
	Hosts    *hosts.Directory
	Networks *network.Service
	// Volumes is the block storage service (Cinder's API and Nova's
	// volume calls share it).
	Volumes *volume.Service
	// VolumeWorker does the volumes' slow work (Serve runs it; tests
	// Step it).
	VolumeWorker *volume.Worker
	Agent        *agent.Agent
	// Consoles are the remote consoles' tokens and connections.
	Consoles *console.Service
	Driver   virt.Driver // the agent's
	// dataplane keeps a qemu host's guest network as the database says
	// (bridge networking only; Serve runs it).
	dataplane        *dataplane.Reconciler
	dataplaneApplier *linux.Applier
	Handler          http.Handler
	// HostHandler is this compute host's endpoint (hostlink.Handler,
	// mounted at hostlink.Prefix), where other hosts send servers moving
	// here. Handler serves it too; a process that runs only a compute
	// host serves it alone, at the URL it registered (HostEndpointURL).
	HostHandler http.Handler
	Log         *slog.Logger
	// APIs are the compute (/v2.1; /v2 shares its routes), identity,
	// image, networking, block storage and kumo's own services behind
	// Handler.
	APIs []*api.Service
	// Faults are the fault injection rules every API and agent of the
	// cloud reads.
	Faults *faults.Service
	// RateLimits are the compute API's request rate limits (without
	// rules when --rate-limits is off).
	RateLimits *apirate.Limiter

	servers  *compute.Inventory // compute's answers about servers to other domains
	activity idleTrimmer
	secrets  *secret.Box // the data dir's secret.key
	// hostClient calls compute hosts' endpoints (signed with the key
	// derived from secrets).
	hostClient *hostlink.Client
	lock       *DirLock // the data dir's, held until Close
	lease      agentLease
	metrics    *api.Metrics
	// recent are the API requests this process served lately (the
	// request inspector's, GET /kumo/v1/requests).
	recent *reqlog.Log

	// floatingIPs and routers are the networking service's L3 (Nova's
	// floating IP proxies share the pool).
	floatingIPs *floatingip.Service
	routers     *router.Service
	groups      *secgroup.Service
}

// agentLease is this process's compute host lease token and the one of
// the last process on the data dir, known to be gone.
type agentLease struct{ token, predecessor string }

// Open opens the database, migrates it, builds the services and, on first
// start, creates the admin account and writes clouds.yaml. The message it
// returns tells a person how to use the cloud.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	// One process per data dir, before anything in it is read or written.
	lock, err := LockDataDir(cfg.DataDir, CurrentHolder(cfg.holder()))
	if err != nil {
		return nil, err
	}
	a, err := open(ctx, cfg, log, lock, uuid.NewString())
	if err != nil {
		_ = lock.Release()
		return nil, err
	}
	return a, nil
}

// open is Open once the data dir is locked.
func open(ctx context.Context, cfg Config, log *slog.Logger, lock *DirLock, lease string) (*App, error) {
	db, err := store.Open(ctx, cfg.DatabaseDSN())
	if err != nil {
		return nil, err
	}
	// kumo serve migrates; kumo api and compute leave that to kumo
	// migrate, run once per upgrade. None serves a schema from the future.
	if err := db.CheckSchema(ctx, cfg.Role == RoleAll); err != nil {
		db.Close()
		return nil, err
	}
	if cfg.Role == RoleAll {
		if _, err := db.Migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	// One key seals what must not sit in the database in clear: server
	// passwords on their way to the agent and EC2 credential secrets.
	box, err := openSecrets(ctx, db, cfg.SecretKeyPath())
	if err != nil {
		db.Close()
		return nil, err
	}
	a := &App{Config: cfg, DB: db, Log: log, secrets: box, lock: lock,
		lease: agentLease{token: lease, predecessor: lock.Previous.HostLease}}
	a.Identity = identity.New(db, identity.Options{TokenTTL: cfg.TokenTTL, Secrets: box, PasswordHashCost: cfg.PasswordHashCost,
		LockoutFailureAttempts: cfg.LockoutFailureAttempts, LockoutDuration: cfg.LockoutDuration})
	a.Images = image.New(db, cfg.ImageDir())
	// Glance's quotas are Keystone unified limits of the image service.
	a.Images.Limits = func(ctx context.Context, q store.Querier, project string, resources []string) (map[string]int64, error) {
		return identity.EffectiveLimits(ctx, q, identity.ServiceID("image"), project, resources)
	}
	a.Images.DiskReserve = cfg.ImageDiskReserveMB << 20
	a.Images.Log = log
	a.Flavors = flavor.New(db)
	if a.Volumes, a.VolumeWorker, err = a.newVolumes(); err != nil {
		db.Close()
		return nil, err
	}
	// Other domains ask compute about servers; only it reads the
	// instances table.
	a.servers = compute.NewInventory(db)
	a.Hosts = hosts.NewDirectory(db, a.servers)
	a.Hosts.Clock = cfg.Clock
	a.Hosts.ServiceDownTime = cfg.Scheduler.ServiceDownTime
	a.Quotas = quota.New(db, quota.Options{ProjectExists: a.projectExists(), Instances: a.servers})
	a.NetQuotas = netquota.New(db, networkQuotaCounters())
	a.Keypairs = keypair.New(db, keypair.Options{Limit: func(ctx context.Context, projectID, userID string) (int, error) {
		return a.Quotas.Limit(ctx, projectID, userID, quota.KeyPairs)
	}})
	if err := a.buildCompute(); err != nil {
		db.Close()
		return nil, err
	}
	if err := a.openFaults(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := a.openRateLimits(); err != nil {
		db.Close()
		return nil, err
	}
	// Hosts of one cloud share its secret key, and so the key the host
	// endpoint's calls are signed with.
	a.hostClient = &hostlink.Client{Signer: hostlink.NewSigner(a.secrets.DeriveKey(hostlink.KeyPurpose), nil)}
	a.Consoles = console.New(db, hostLink{hosts: a.Hosts, client: a.hostClient}, a.servers, cfg.Clock)
	// The compute host's lease first: a process refused it (another one
	// runs the host on this database) leaves the database as it found it.
	if cfg.Role != RoleAPI {
		if err := a.startAgent(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	if cfg.Role == RoleCompute {
		a.Handler = a.hostRoutes()
		return a, nil
	}
	if err := a.bootstrap(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if a.Handler, err = a.routes(); err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

// secretKeySetting is the cloud setting holding the secret key's
// fingerprint.
const secretKeySetting = "secret_key_fingerprint"

// openSecrets loads the secret key at path (made when missing) and checks
// it is the cloud's: the first process on a database records the key's
// fingerprint, and a process holding another key is refused before it
// seals anything the others could not open.
func openSecrets(ctx context.Context, db *store.DB, path string) (*secret.Box, error) {
	box, err := secret.LoadOrCreate(path)
	if err != nil {
		return nil, err
	}
	cloud, err := db.SettingOrSet(ctx, secretKeySetting, box.Fingerprint())
	if err != nil {
		return nil, err
	}
	if cloud != box.Fingerprint() {
		return nil, fmt.Errorf("the secret key %s is not this cloud's: every kumo process on one database must hold "+
			"the same key (copy the secret.key of the cloud's first process and give it with --secret-key-file)", path)
	}
	return box, nil
}

// newVolumes builds the block storage service and its worker over the
// data dir's volumes/ and backups/ (qcow2 files where the qemu driver runs, sparse raw
// ones otherwise): its capacity is --volume-capacity-gb, else the data
// dir's filesystem size.
func (a *App) newVolumes() (*volume.Service, *volume.Worker, error) {
	capacity := a.Config.VolumeCapacityGB
	if capacity == 0 {
		c, err := hostinfo.Read(a.Config.DataDir)
		if err != nil {
			return nil, nil, fmt.Errorf("volume capacity: %w", err)
		}
		capacity = int64(c.DiskGB)
	}
	backend, err := volfile.New(a.Config.VolumeDir(), volfile.Options{Qcow2: a.Config.Driver == "qemu"})
	if err != nil {
		return nil, nil, err
	}
	// Backups are copies of the volumes' data in their own directory, as
	// Cinder's posix backup driver keeps them.
	backups, err := volfile.New(a.Config.BackupDir(), volfile.Options{Qcow2: a.Config.Driver == "qemu"})
	if err != nil {
		return nil, nil, err
	}
	// The storage host is this kumo's compute host (host@backend as
	// Cinder names it): kumos sharing a database each keep their files.
	svc := volume.New(a.DB, volume.Config{Host: a.Config.Hostname() + "@volfile", CapacityGB: capacity, Images: a.Images, Now: a.Config.Clock,
		Inventory: backend})
	return svc, volume.NewWorker(svc, backend, volume.WorkerOptions{Log: a.Log, Backups: backups}), nil
}

// bootstrap creates what a fresh cloud needs: the admin account (its
// password goes only to clouds.yaml), the default flavors, kumo-tiny,
// the external network.
func (a *App) bootstrap(ctx context.Context) error {
	password := RandomPassword()
	adminProject, created, err := a.Identity.Bootstrap(ctx, password)
	if err != nil {
		return fmt.Errorf("bootstrap identity: %w", err)
	}
	if created {
		if err := WriteClouds(a.Config.CloudsFile(), Credentials{
			AuthURL: a.Config.AuthURL(), Username: "admin", Password: password,
			ProjectName: "admin", Region: "RegionOne",
		}); err != nil {
			return err
		}
	} else if moved, err := FollowAuthURL(a.Config.CloudsFile(), a.Config.AuthURL()); err != nil {
		return err
	} else if moved {
		a.Log.Info("clouds.yaml now points at the new address", "auth_url", a.Config.AuthURL())
	}
	added, err := a.Identity.EnsureRegisteredLimits(ctx, identity.ServiceID("image"), a.Config.ImageLimits)
	if err != nil {
		return fmt.Errorf("register image limits: %w", err)
	}
	if len(added) > 0 {
		a.Log.Info("registered default image limits", "resources", added)
	}
	if err := a.Flavors.SeedDefaults(ctx); err != nil {
		return fmt.Errorf("seed flavors: %w", err)
	}
	// Uploads interrupted by a crash go back to queued before anything
	// else looks at images. Not in kumo api: the image files are shared
	// with other API processes whose uploads are in flight (an upload an
	// API process's crash cut short stays saving, as in Glance).
	if a.Config.Role == RoleAll {
		if err := a.Images.Recover(ctx); err != nil {
			return fmt.Errorf("recover images: %w", err)
		}
	}
	if err := a.Images.SeedTiny(ctx, adminProject); err != nil {
		return fmt.Errorf("seed image: %w", err)
	}
	if err := a.Images.SeedMetadefs(ctx, adminProject); err != nil {
		return fmt.Errorf("seed metadata definitions: %w", err)
	}
	// The floating range is the external network's subnet, there from
	// the first start as DevStack's public network.
	if a.Config.FloatingRange != "" {
		if err := a.Networks.EnsureExternal(ctx, adminProject, a.Config.FloatingPool, a.Config.FloatingRange); err != nil {
			return err
		}
		// Floating IPs and gateways from before ports get theirs, then
		// floating IPs bound before routers existed get their router.
		if err := a.floatingIPs.AdoptPorts(ctx); err != nil {
			return err
		}
		if err := a.floatingIPs.RouteBound(ctx); err != nil {
			return err
		}
	}
	return nil
}

// networkQuotaCounters count the objects of each networking quota
// resource: the domain that owns a resource registers its counter here,
// once, and checks netquota.Service.Check in its create transactions.
func networkQuotaCounters() netquota.Counters {
	return netquota.Counters{
		netquota.Network:           network.CountNetworks,
		netquota.Subnet:            network.CountSubnets,
		netquota.Port:              network.CountPorts,
		netquota.Router:            router.CountRouters,
		netquota.FloatingIP:        floatingip.CountFloatingIPs,
		netquota.SecurityGroup:     secgroup.CountGroups,
		netquota.SecurityGroupRule: secgroup.CountRules,
	}
}

// projectExists lets the quota API refuse unknown projects as Nova does
// by asking Keystone; with noauth any project id is accepted.
func (a *App) projectExists() quota.ProjectExists {
	if a.Config.Auth == "noauth" {
		return nil
	}
	return func(ctx context.Context, id string) (bool, error) {
		_, err := a.Identity.GetProject(ctx, id)
		if errs.Is(err, errs.KindNotFound) {
			return false, nil
		}
		return err == nil, err
	}
}

func (a *App) authenticator() auth.Authenticator {
	if a.Config.Auth == "noauth" {
		return auth.NoAuth{}
	}
	return a.Identity
}

// routes mounts the four APIs and health on one mux; metrics are served
// apart (--metrics-listen).
func (a *App) routes() (http.Handler, error) {
	a.metrics = api.NewMetrics()
	a.recent = reqlog.New(a.Config.RecentRequests)
	opts := api.Options{
		Auth:      a.authenticator(),
		PublicURL: a.Config.PublicURL,
		Log:       a.Log,
		AuthURL: func(r *http.Request) string {
			if a.Config.PublicURL != "" {
				return a.Config.AuthURL()
			}
			return api.RequestOrigin(r) + identityapi.Mount + "/v3"
		},
	}
	// One security group service, two faces: Nova's proxies and Neutron's.
	groups := a.groups
	v21, v2 := computeapi.NewServices(computeapi.Deps{
		Flavors: a.Flavors, Images: a.Images, Keypairs: a.Keypairs, Quotas: a.Quotas,
		Servers: a.Compute, Network: a.Networks, ServerMetadataLimit: a.Quotas.CheckMetadataItems,
		Hosts: a.Hosts, Aggregates: aggregate.New(a.DB, a.servers),
		SecurityGroups: groups, ServerGroups: servergroup.New(a.DB, a.servers),
		FloatingIPs: a.floatingIPs, BlockStorage: a.Volumes, Consoles: a.Consoles,
		HostUptime: hostLink{hosts: a.Hosts, client: a.hostClient}.HostUptime,
		RateLimits: a.RateLimits,
	}, opts)
	mux := http.NewServeMux()
	mux.Handle("/", computeapi.VersionList(a.Config.PublicURL))
	mux.Handle("/v2.1", v21)
	mux.Handle("/v2.1/", v21)
	// The legacy endpoint also speaks the v2 document's XML.
	legacy := v2xml.Handler("/v2", v2)
	mux.Handle("/v2", legacy)
	mux.Handle("/v2/", legacy)
	idsvc := identityapi.NewService(a.Identity, opts, ratelimit.New(ratelimit.Options{
		Burst: a.Config.LoginFailures, Window: a.Config.LoginFailureWindow}))
	mux.Handle(identityapi.Mount, idsvc)
	mux.Handle(identityapi.Mount+"/", idsvc)
	imgsvc := imageapi.NewService(a.Images, opts)
	mux.Handle(imageapi.Mount, imgsvc)
	mux.Handle(imageapi.Mount+"/", imgsvc)
	netsvc := networkingapi.NewService(networkingapi.Deps{Networks: a.Networks, SecurityGroups: groups,
		Quotas: a.NetQuotas, FloatingIPs: a.floatingIPs, Routers: a.routers}, opts)
	mux.Handle(networkingapi.Mount, netsvc)
	mux.Handle(networkingapi.Mount+"/", netsvc)
	volsvc, volroot := blockstorageapi.NewServices(blockstorageapi.Deps{Volumes: a.Volumes}, opts)
	volumes := blockstorageapi.Handler(volsvc, volroot)
	mux.Handle(blockstorageapi.Mount, volumes)
	mux.Handle(blockstorageapi.Mount+"/", volumes)
	injector := faultInjector{a.Faults}
	for _, svc := range []*api.Service{v21, v2, idsvc, imgsvc, netsvc, volsvc} {
		svc.Faults = injector
	}
	// Rate limits are the compute API's, as the v2 document's were.
	if a.RateLimits.On() {
		v21.RateLimits, v2.RateLimits = rateLimiter{a.RateLimits}, rateLimiter{a.RateLimits}
	}
	kumosvc := kumoapi.NewService(a.Faults, a.recent, opts)
	mux.Handle(kumoapi.Mount+"/", kumosvc)
	a.APIs = []*api.Service{v21, idsvc, imgsvc, netsvc, volsvc, kumosvc}
	mux.HandleFunc("GET /healthz", a.healthz)
	// The dashboard calls the APIs through a.Handler (set when routes
	// returns), as any client would; its own pages are no API, so it sits
	// beside them, its bodies (image uploads) bounded by the APIs it feeds.
	dash, err := dashboard.New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.Handler.ServeHTTP(w, r)
	}), a.Log)
	if err != nil {
		return nil, err
	}
	// The dashboard's page loads are no API requests: the API calls they
	// make are (they come back through a.Handler).
	apis := a.withHostEndpoint(a.withConsoleProxy(api.Middleware(cleanPaths(mux), a.Log, a.metrics, a.recent, a.Config.MaxBodyBytes)))
	return withDashboard(apis, api.Middleware(dash, a.Log, a.metrics, nil, 0)), nil
}

// withDashboard serves /dashboard/ beside the APIs (a prefix test, as
// withHostEndpoint).
func withDashboard(apis, dash http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/dashboard" || strings.HasPrefix(r.URL.Path, dashboard.Prefix) {
			dash.ServeHTTP(w, r)
			return
		}
		apis.ServeHTTP(w, r)
	})
}

// withHostEndpoint serves the host endpoint beside h in a process that
// runs a compute host. It is no OpenStack API: its bodies are guests'
// disks, streamed past the APIs' body limit, and its callers hosts. (A
// prefix test, not a mux: a mux would redirect the unclean paths the
// APIs answer themselves.)
func (a *App) withHostEndpoint(h http.Handler) http.Handler {
	if a.HostHandler == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, hostlink.Prefix) {
			a.HostHandler.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// hostRoutes is what a kumo compute process serves: its health, for load
// balancers and the processes that start it, and the host endpoint.
func (a *App) hostRoutes() http.Handler {
	a.metrics = api.NewMetrics()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", a.healthz)
	return a.withHostEndpoint(api.Middleware(mux, a.Log, a.metrics, nil, a.Config.MaxBodyBytes))
}

// healthz answers ok while the database does.
func (a *App) healthz(w http.ResponseWriter, r *http.Request) {
	if err := a.DB.QueryRowContext(r.Context(), "SELECT 1").Scan(new(int)); err != nil {
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, "ok\n")
}

// buildCompute builds the compute service and the network services it
// allocates addresses from.
func (a *App) buildCompute() error {
	var err error
	a.Network, err = network.New(a.Config.Network)
	if err != nil {
		return err
	}
	a.Networks = network.NewService(a.DB, a.Network, a.NetQuotas)
	a.floatingIPs = floatingip.New(a.DB, a.Networks, a.Config.floatingOptions(), a.NetQuotas)
	a.Networks.FloatingIPs = a.floatingIPs
	a.routers = router.New(a.DB, a.Networks, a.floatingIPs, a.NetQuotas)
	a.Networks.Devices = computeaddr.Devices{Inventory: a.servers}
	a.Networks.Hosts = a.Hosts
	// Ports keep their security groups through the security group
	// service (a compute host's dataplane reads them too).
	a.groups = secgroup.New(a.DB, a.NetQuotas)
	a.Networks.Groups = a.groups
	a.Compute = compute.New(compute.Deps{
		DB: a.DB, Flavors: a.Flavors, Images: a.Images, Secrets: a.secrets, Quotas: a.Quotas,
		KeyPairs: a.Keypairs, Addresses: computeaddr.Addresses{Manager: a.Network, Quotas: a.NetQuotas},
		Volumes: computevol.Volumes{Service: a.Volumes},
		Wake:    a.wakeAgent, Settings: a.Config.Lifecycle, Now: a.Config.Clock,
		Scheduler: a.Config.Scheduler, ServiceHost: a.Config.Hostname(),
	})
	a.VolumeWorker.TellServers(computevol.ServerEvents{Compute: a.Compute})
	return nil
}

// wakeAgent wakes this process's agent for a task just queued (kumo api
// has none: its tasks reach the hosts by database notification).
func (a *App) wakeAgent(string) {
	if a.Agent != nil {
		a.Agent.Wake()
	}
}

// startAgent starts this host's agent over its virt driver and registers
// the host (recovering interrupted work) before the API opens.
func (a *App) startAgent(ctx context.Context) error {
	capacity, err := a.hostCapacity()
	if err != nil {
		return err
	}
	signer, client := a.hostClient.Signer, a.hostClient
	driver, err := a.newDriver(ctx, capacity, hostLink{hosts: a.Hosts, client: client})
	if err != nil {
		return err
	}
	a.Driver = driver
	mover, _ := driver.(virt.Mover)
	incoming, _ := driver.(virt.MigrationReceiver)
	a.HostHandler = hostlink.Handler(signer, driver, mover, incoming, 0, a.Log)
	a.Agent = agent.New(a.Hosts, a.Compute, driver, a.Log, agent.Options{PowerSync: powerSyncInterval(driver),
		Heartbeat: heartbeatInterval(a.Config.Scheduler.DownTime()),
		Endpoint:  a.Config.HostEndpointURL(), Transfer: client, Faults: a.Faults,
		Lease: a.lease.token, Predecessor: a.lease.predecessor,
		Holder: fmt.Sprintf("%s, data dir %s", CurrentHolder(a.Config.holder()), absDir(a.Config.DataDir))})
	if err := a.Agent.Start(ctx); err != nil {
		return fmt.Errorf("start compute agent: %w", err)
	}
	if err := a.startDataplane(driver); err != nil {
		return err
	}
	// The next process on the data dir knows this agent is gone when it
	// holds the lock, and takes the host over at once.
	return a.lock.SetHostLease(a.lease.token)
}

// heartbeatInterval is how often a host reports it is alive: Nova's
// report_interval of 10 s against its service_down_time of 60 s, and as
// often against a shorter down time, so a live host never looks down.
func heartbeatInterval(downTime time.Duration) time.Duration {
	return min(10*time.Second, downTime/6)
}

// hostCapacity is the machine's real capacity with the configured
// overrides applied.
func (a *App) hostCapacity() (hostinfo.Capacity, error) {
	c, err := hostinfo.Read(a.Config.DataDir)
	if err != nil {
		return c, fmt.Errorf("read host capacity: %w", err)
	}
	if a.Config.HostVCPUs > 0 {
		c.VCPUs = a.Config.HostVCPUs
	}
	if a.Config.HostMemoryMB > 0 {
		c.MemoryMB = a.Config.HostMemoryMB
	}
	if a.Config.HostDiskGB > 0 {
		c.DiskGB = a.Config.HostDiskGB
	}
	return c, nil
}

// purgeTokens deletes expired tokens (Keystone's and the consoles') every
// interval until ctx ends.
func (a *App) purgeTokens(ctx context.Context, interval time.Duration) {
	clock.Every(ctx, interval, func(ctx context.Context) error {
		if _, err := a.Identity.PurgeExpired(ctx); err != nil {
			return err
		}
		_, err := a.Consoles.PurgeExpired(ctx)
		return err
	}, func(err error) { a.Log.Error("purge expired tokens", "error", err) })
}

// Close releases the database, then the data dir.
func (a *App) Close() error {
	err := a.DB.Close()
	if lerr := a.lock.Release(); err == nil {
		err = lerr
	}
	return err
}

// Serve listens on the configured address until ctx is cancelled, then
// shuts down gracefully. ready, if not nil, receives the bound address.
func (a *App) Serve(ctx context.Context, ready func(addr net.Addr)) error {
	ln, err := net.Listen("tcp", a.Config.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.Config.Listen, err)
	}
	defer ln.Close() // if Serve returns before serving; closing twice is harmless
	limiter := newConnLimiter(ln, a.connectionCap(), errorStyleFor)
	t := a.Config.HTTP
	srv := &http.Server{
		Handler:           a.activity.count(withDeadlines(a.Handler, t.BodyIdle, t.WriteIdle)),
		ReadHeaderTimeout: t.Header,
		IdleTimeout:       t.KeepAlive,
		MaxHeaderBytes:    maxHeaderBytes,
		ConnState:         limiter.connState,
	}
	if ready != nil {
		ready(ln.Addr())
	}
	agentCtx, stopAgent := context.WithCancel(ctx)
	defer stopAgent()
	agentDone := make(chan struct{})
	var agentErr error // set before agentDone closes
	if a.Agent != nil {
		// A compute host: its agent and its storage worker.
		go func() { agentErr = a.Agent.Run(agentCtx); close(agentDone) }()
		defer func() { stopAgent(); <-agentDone }()
		if a.dataplane != nil {
			dataplaneDone := make(chan struct{})
			go func() { a.dataplane.Run(agentCtx); close(dataplaneDone) }()
			defer func() { stopAgent(); <-dataplaneDone; a.dataplaneApplier.Close() }()
		}
		volumesDone := make(chan struct{})
		go func() { _ = a.VolumeWorker.Run(agentCtx); close(volumesDone) }()
		defer func() { stopAgent(); <-volumesDone }()
	}
	if a.Config.Role != RoleCompute {
		// An API process: image imports, the token purge and the
		// database's statistics.
		importsDone := make(chan struct{})
		go func() { a.Images.RunImports(agentCtx); close(importsDone) }()
		defer func() { stopAgent(); <-importsDone }()
		go a.purgeTokens(agentCtx, 10*time.Minute)
		go a.DB.RunMaintenance(agentCtx, store.MaintainInterval, func(err error) { a.Log.Error("database maintenance", "error", err) })
	}
	a.activity.trim = func() {
		a.Compute.ForgetListedRows()
		a.DB.ReleaseIdle()
		debug.FreeOSMemory()
	}
	go a.activity.run(agentCtx, 10*time.Second)
	if a.Config.PprofListen != "" {
		stopProfiler, err := serveProfiler(a.Config.PprofListen, a.Log)
		if err != nil {
			return err
		}
		defer stopProfiler()
	}
	if a.Config.MetricsListen != "" {
		stopMetrics, err := serveMetrics(a.Config.MetricsListen, a.metrics.Handler(), a.Log)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(limiter) }()
	shutdown := func() error {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(shutdownCtx)
	}
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
		return shutdown()
	case <-agentDone:
		if agentErr == nil { // ctx ended too
			return shutdown()
		}
		// Another agent took the host over: this process no longer owns
		// what it serves.
		_ = shutdown()
		return fmt.Errorf("compute agent: %w", agentErr)
	}
}

// absDir is dir made absolute for messages (as given if that fails).
func absDir(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// connectionCap is the configured connection limit, lowered to what the
// open-files limit (raised to its hard limit first) can hold.
func (a *App) connectionCap() int {
	files, err := raiseOpenFileLimit()
	if err != nil {
		a.Log.Warn("raise the open files limit", "error", err)
	}
	n, lowered := connectionCap(a.Config.MaxConnections, files)
	if lowered {
		a.Log.Warn("max connections lowered to fit the open files limit", "max_connections", n, "configured", a.Config.MaxConnections, "open_files", files)
	}
	return n
}
