package compute

// The server view builder: Nova's views/servers.py. Every field a server
// shows, and at which microversion and to whom, is decided here so that
// list, show, update, create and rebuild answer alike.

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/mv"
	"github.com/kumocloud/kumo/internal/network"
)

// ServerViewOptions say which of Nova's optional parts a server view has.
type ServerViewOptions struct {
	// Full adds what Nova's show() hides from pre-2.75 PUT and rebuild
	// responses: availability zone, config drive, key name, usage times,
	// security groups, OS-EXT-STS, volumes, admin attributes, host status
	// and extended address fields.
	Full bool
	// ServerGroups adds "server_groups" (2.71: show, update and rebuild,
	// never the detailed list).
	ServerGroups bool
	// HideUserData drops OS-EXT-SRV-ATTR:user_data (rebuild shows it on
	// its own from 2.57).
	HideUserData bool
	// KeyName shows key_name without Full (rebuild from 2.54).
	KeyName bool
	// UserData adds "user_data" (rebuild from 2.57).
	UserData bool
	// AdminPass adds "adminPass" (rebuild).
	AdminPass *string
}

// serverExtras are what a view needs beyond the server row, loaded once
// for a whole page.
type serverExtras struct {
	addresses   map[string][]network.Address
	hostStatus  map[string]string // nil: not shown
	withAddress bool
	groups      map[string][]string // server_groups (2.71) by server id
	// securityGroups are the names of the groups of each server's ports
	// (full views only).
	securityGroups map[string][]string
	links          linkBases
	hostIDs        map[[2]string]string // hostId by project and host
	// volumes are each server's volumes (full views only).
	volumes map[string][]compute.BlockDevice
}

// hostID is hostID(projectID, host), computed once per project and host
// of a reply by loadServerExtras (the views of a listing are written
// concurrently, so they only read ex).
func (ex *serverExtras) hostID(projectID, host string) string {
	if id, ok := ex.hostIDs[[2]string{projectID, host}]; ok {
		return id
	}
	return hostID(projectID, host)
}

// linkBases are the bases of the links in one reply's server views,
// each followed by an id.
type linkBases struct {
	server [2]api.Link // self and bookmark
	image  api.Link
	flavor api.Link
}

func newLinkBases(c *api.Call) linkBases {
	return linkBases{
		server: [2]api.Link{{Href: c.Link("/servers/"), Rel: "self"}, {Href: bookmarkLink(c, "/servers/"), Rel: "bookmark"}},
		image:  api.Link{Href: bookmarkLink(c, "/images/"), Rel: "bookmark"},
		flavor: api.Link{Href: bookmarkLink(c, "/flavors/"), Rel: "bookmark"},
	}
}

// serverSelfLink is a server's self link, the Location of a new or
// rebuilt server.
func serverSelfLink(c *api.Call, id string) string { return c.Link("/servers/" + id) }

// serverBrief is a GET /servers entry.
type serverBrief struct {
	srv   *compute.Server
	links *linkBases
}

func (v serverBrief) AppendJSON(b []byte) ([]byte, error) {
	w := api.OpenObject(b)
	w.String("id", v.srv.ID)
	w.LinksTo("links", v.srv.ID, v.links.server[:]...)
	w.String("name", v.srv.Name)
	return w.Close(), nil
}

// ServerView renders one server as GET /servers/{id} does at c's
// microversion (with o.Full and o.ServerGroups as show sets them). Other
// handlers (create, rebuild) call it for their responses.
func (h *handlers) ServerView(c *api.Call, srv *compute.Server, o ServerViewOptions) (*serverView, error) {
	views, err := h.serverViews(c, []*compute.Server{srv}, o)
	if err != nil {
		return nil, err
	}
	return views[0], nil
}

// serverViews renders a page of servers, loading addresses and host
// statuses for all of them at once.
func (h *handlers) serverViews(c *api.Call, servers []*compute.Server, o ServerViewOptions) ([]*serverView, error) {
	ex, err := h.loadServerExtras(c, servers, o)
	if err != nil {
		return nil, err
	}
	views := make([]serverView, len(servers))
	out := make([]*serverView, len(servers))
	for i, srv := range servers {
		views[i] = serverView{c: c, srv: srv, o: &o, ex: ex}
		out[i] = &views[i]
	}
	return out, nil
}

func (h *handlers) loadServerExtras(c *api.Call, servers []*compute.Server, o ServerViewOptions) (*serverExtras, error) {
	ex := &serverExtras{withAddress: o.Full, links: newLinkBases(c), hostIDs: map[[2]string]string{}}
	for _, srv := range servers {
		k := [2]string{srv.ProjectID, srv.Host}
		if _, ok := ex.hostIDs[k]; !ok {
			ex.hostIDs[k] = hostID(srv.ProjectID, srv.Host)
		}
	}
	if len(servers) > 0 {
		ids := make([]string, len(servers))
		for i, srv := range servers {
			ids[i] = srv.ID
		}
		addrs, err := h.Network.Addresses(c.Ctx, ids)
		if err != nil {
			return nil, err
		}
		ex.addresses = addrs
		if o.Full {
			names, err := h.SecurityGroups.ServerGroupNames(c.Ctx, c.Principal, ids)
			if err != nil {
				return nil, err
			}
			ex.securityGroups = names
			if ex.volumes, err = h.Servers.AttachedVolumes(c.Ctx, ids); err != nil {
				return nil, err
			}
		}
	}
	// host_status is admin-only by default policy (show:host_status).
	if o.Full && c.AtLeast(mv.V2_16) && c.Allowed("os_compute_api:servers:show:host_status", nil) {
		st, err := h.Servers.HostStatuses(c.Ctx, servers)
		if err != nil {
			return nil, err
		}
		ex.hostStatus = st
	}
	if o.ServerGroups {
		ex.groups = map[string][]string{}
		for _, srv := range servers {
			g, err := h.ServerGroups.GroupsOf(c.Ctx, srv.ID)
			if err != nil {
				return nil, err
			}
			ex.groups[srv.ID] = g
		}
	}
	return ex, nil
}

// progressStatuses are the statuses Nova shows "progress" with.
var progressStatuses = map[string]bool{
	state.StatusActive: true, state.StatusBuild: true, state.StatusRebuild: true,
	state.StatusResize: true, state.StatusVerifyResize: true, state.StatusMigrating: true,
}

// serverStatus is Nova's status: DELETED for a deleted row whatever its
// states.
func serverStatus(srv *compute.Server) string {
	if srv.Deleted {
		return state.StatusDeleted
	}
	return srv.Status()
}

// serverView is one server as Nova's views/servers.py shows it at the
// call's microversion. It writes its JSON directly: a listing renders a
// thousand of them.
type serverView struct {
	c   *api.Call
	srv *compute.Server
	o   *ServerViewOptions
	ex  *serverExtras
}

// AppendJSON writes the view with its fields in sorted order.
func (v *serverView) AppendJSON(b []byte) ([]byte, error) {
	c, srv, o, ex := v.c, v.srv, v.o, v.ex
	status := serverStatus(srv)
	full := o.Full
	adminAttrs := full && c.Allowed("os_compute_api:os-extended-server-attributes", nil)
	w := api.OpenObject(b)
	w.String("OS-DCF:diskConfig", diskConfig(srv))
	if full {
		w.String("OS-EXT-AZ:availability_zone", srv.AZ)
	}
	if adminAttrs {
		appendExtendedAttributes(&w, c, srv, !o.HideUserData)
	} else if c.AtLeast(mv.V2_90) {
		w.String("OS-EXT-SRV-ATTR:hostname", srv.Hostname)
	}
	if full {
		w.Int("OS-EXT-STS:power_state", int64(srv.PowerState))
		w.StringOrNull("OS-EXT-STS:task_state", string(srv.TaskState))
		w.String("OS-EXT-STS:vm_state", string(srv.VMState))
		w.Time("OS-SRV-USG:launched_at", srv.LaunchedAt, usageTimeLayout)
		w.Time("OS-SRV-USG:terminated_at", srv.TerminatedAt, usageTimeLayout)
	}
	w.String("accessIPv4", srv.AccessIPv4)
	w.String("accessIPv6", srv.AccessIPv6)
	w.Key("addresses")
	w.B = serverAddresses(srv, ex).appendJSON(w.B)
	if o.AdminPass != nil {
		w.String("adminPass", *o.AdminPass)
	}
	if full {
		w.String("config_drive", srv.ConfigDrive)
	}
	w.Key("created")
	w.B = appendISOTime(w.B, srv.CreatedAt)
	if c.AtLeast(mv.V2_19) {
		w.OptString("description", srv.Description)
	}
	if (status == state.StatusError || status == state.StatusDeleted) && srv.Fault != nil {
		w.Key("fault")
		w.B = appendServerFault(w.B, srv.Fault, c.IsAdmin())
	}
	w.Key("flavor")
	w.B = appendServerFlavor(w.B, c, srv, ex.links.flavor)
	w.String("hostId", ex.hostID(srv.ProjectID, srv.Host))
	if ex.hostStatus != nil {
		w.String("host_status", ex.hostStatus[srv.ID])
	}
	w.Key("id")
	w.B = api.AppendString(w.B, srv.ID)
	w.Key("image")
	w.B = appendServerImage(w.B, c, srv, ex.links.image)
	if full || o.KeyName {
		w.StringOrNull("key_name", srv.KeyName)
	}
	w.LinksTo("links", srv.ID, ex.links.server[:]...)
	if c.AtLeast(mv.V2_9) {
		w.Bool("locked", srv.Locked)
	}
	if c.AtLeast(mv.V2_73) {
		w.OptString("locked_reason", srv.LockedReason)
	}
	w.StringMap("metadata", srv.Metadata)
	w.String("name", srv.Name)
	if full {
		w.Key("os-extended-volumes:volumes_attached")
		w.B = appendVolumesAttached(w.B, c, ex.volumes[srv.ID])
	}
	if full && c.AtLeast(mv.V2_96) {
		w.OptString("pinned_availability_zone", srv.PinnedAZ())
	}
	if progressStatuses[status] {
		w.Int("progress", int64(srv.Progress))
	}
	if c.AtLeast(mv.V2_100) {
		w.Value("scheduler_hints", nonNilHints(srv.SchedulerHints))
	}
	if full {
		appendSecurityGroups(&w, srv, ex)
	}
	if o.ServerGroups {
		w.Strings("server_groups", ex.groups[srv.ID])
	}
	w.String("status", status)
	if c.AtLeast(mv.V2_26) {
		w.Strings("tags", srv.Tags)
	}
	w.String("tenant_id", srv.ProjectID)
	if c.AtLeast(mv.V2_63) {
		w.Null("trusted_image_certificates")
	}
	w.Key("updated")
	w.B = appendISOTime(w.B, srv.UpdatedAt)
	if o.UserData {
		w.StringOrNull("user_data", srv.UserData)
	}
	w.String("user_id", srv.UserID)
	b = w.Close()
	return b, w.Err()
}

// appendVolumesAttached is Nova's volumes_attached: each volume's id, and
// from 2.3 its delete_on_termination.
func appendVolumesAttached(b []byte, c *api.Call, bs []compute.BlockDevice) []byte {
	b = append(b, '[')
	for i := range bs {
		if i > 0 {
			b = append(b, ',')
		}
		w := api.OpenObject(b)
		if c.AtLeast(mv.V2_3) {
			w.Bool("delete_on_termination", bs[i].DeleteOnTermination)
		}
		w.String("id", bs[i].VolumeID)
		b = w.Close()
	}
	return append(b, ']')
}

// appendExtendedAttributes writes the OS-EXT-SRV-ATTR fields (2.3 adds
// all but host, instance_name and hypervisor_hostname).
func appendExtendedAttributes(w *api.Object, c *api.Call, srv *compute.Server, withUserData bool) {
	since23 := c.AtLeast(mv.V2_3)
	w.StringOrNull("OS-EXT-SRV-ATTR:host", srv.Host)
	if since23 {
		w.String("OS-EXT-SRV-ATTR:hostname", srv.Hostname)
	}
	w.StringOrNull("OS-EXT-SRV-ATTR:hypervisor_hostname", srv.Node)
	w.String("OS-EXT-SRV-ATTR:instance_name", instanceName(srv.Number))
	if !since23 {
		return
	}
	w.String("OS-EXT-SRV-ATTR:kernel_id", "")
	w.Int("OS-EXT-SRV-ATTR:launch_index", int64(srv.LaunchIndex))
	w.String("OS-EXT-SRV-ATTR:ramdisk_id", "")
	w.String("OS-EXT-SRV-ATTR:reservation_id", srv.ReservationID)
	// Set by the compute host once the guest is built.
	if srv.LaunchedAt == nil {
		w.Null("OS-EXT-SRV-ATTR:root_device_name")
	} else {
		w.String("OS-EXT-SRV-ATTR:root_device_name", "/dev/vda")
	}
	if withUserData {
		w.StringOrNull("OS-EXT-SRV-ATTR:user_data", srv.UserData)
	}
}

// instanceName is Nova's default instance_name_template, instance-%08x
// (without fmt: a listing writes a thousand).
func instanceName(number int64) string {
	h := strconv.FormatInt(number, 16)
	if len(h) < 8 {
		h = "00000000"[len(h):] + h
	}
	return "instance-" + h
}

// hostID is Nova's generate_hostid: sha224 of project and host, "" when
// the server has no host.
func hostID(projectID, host string) string {
	if host == "" {
		return ""
	}
	sum := sha256.Sum224([]byte(projectID + host))
	return hex.EncodeToString(sum[:])
}
