package compute

// The server view builder: Nova's views/servers.py. Every field a server
// shows, and at which microversion and to whom, is decided here so that
// list, show, update, create and rebuild answer alike.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/compute/state"
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
}

// serverExtras are what a view needs beyond the server row, loaded once
// for a whole page.
type serverExtras struct {
	addresses   map[string][]network.Address
	hostStatus  map[string]string // nil: not shown
	withAddress bool
	groups      map[string][]string // server_groups (2.71) by server id
}

// serverLinks are a server's self and bookmark links.
func serverLinks(c *api.Call, id string) []api.Link {
	path := "/servers/" + id
	return []api.Link{
		{Href: c.Link(path), Rel: "self"},
		{Href: bookmarkLink(c, path), Rel: "bookmark"},
	}
}

// serverBrief is a GET /servers entry.
func serverBrief(c *api.Call, srv *compute.Server) map[string]any {
	return map[string]any{"id": srv.ID, "name": srv.Name, "links": serverLinks(c, srv.ID)}
}

// ServerView renders one server as GET /servers/{id} does at c's
// microversion (with o.Full and o.ServerGroups as show sets them). Other
// handlers (create, rebuild) call it for their responses.
func (h *handlers) ServerView(c *api.Call, srv *compute.Server, o ServerViewOptions) (map[string]any, error) {
	views, err := h.serverViews(c, []*compute.Server{srv}, o)
	if err != nil {
		return nil, err
	}
	return views[0], nil
}

// serverViews renders a page of servers, loading addresses and host
// statuses for all of them at once.
func (h *handlers) serverViews(c *api.Call, servers []*compute.Server, o ServerViewOptions) ([]map[string]any, error) {
	ex, err := h.loadServerExtras(c, servers, o)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(servers))
	for i, srv := range servers {
		out[i] = serverFull(c, srv, o, ex)
	}
	return out, nil
}

func (h *handlers) loadServerExtras(c *api.Call, servers []*compute.Server, o ServerViewOptions) (*serverExtras, error) {
	ex := &serverExtras{withAddress: o.Full}
	if h.Network != nil && len(servers) > 0 {
		ids := make([]string, len(servers))
		for i, srv := range servers {
			ids[i] = srv.ID
		}
		addrs, err := h.Network.ForInstances(c.Ctx, h.Servers.DB, ids)
		if err != nil {
			return nil, err
		}
		ex.addresses = addrs
	}
	// host_status is admin-only by default policy (show:host_status).
	if o.Full && c.AtLeast(2, 16) && c.IsAdmin() {
		st, err := h.Servers.HostStatuses(c.Ctx, servers)
		if err != nil {
			return nil, err
		}
		ex.hostStatus = st
	}
	if o.ServerGroups && h.ServerGroups != nil {
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

func serverFull(c *api.Call, srv *compute.Server, o ServerViewOptions, ex *serverExtras) map[string]any {
	admin := c.IsAdmin()
	status := serverStatus(srv)
	// Sized for the view's fields (~60 in full): growing a map rehashes it.
	size := 24
	if o.Full {
		size = 64
	}
	m := make(map[string]any, size)
	m["accessIPv4"] = srv.AccessIPv4
	m["accessIPv6"] = srv.AccessIPv6
	m["addresses"] = serverAddresses(srv, ex)
	m["created"] = isoTime(srv.CreatedAt)
	m["flavor"] = serverFlavor(c, srv)
	m["hostId"] = hostID(srv.ProjectID, srv.Host)
	m["id"] = srv.ID
	m["image"] = serverImage(c, srv)
	m["links"] = serverLinks(c, srv.ID)
	m["metadata"] = nonNilMap(srv.Metadata)
	m["name"] = srv.Name
	m["status"] = status
	m["tenant_id"] = srv.ProjectID
	m["user_id"] = srv.UserID
	m["updated"] = isoTime(srv.UpdatedAt)
	m["OS-DCF:diskConfig"] = diskConfig(srv)
	if (status == state.StatusError || status == state.StatusDeleted) && srv.Fault != nil {
		m["fault"] = serverFault(srv.Fault, admin)
	}
	if progressStatuses[status] {
		m["progress"] = srv.Progress
	}
	if o.Full {
		m["OS-EXT-AZ:availability_zone"] = srv.AZ
		m["config_drive"] = srv.ConfigDrive
		m["key_name"] = nullIfEmpty(srv.KeyName)
		m["OS-SRV-USG:launched_at"] = usageTime(srv.LaunchedAt)
		m["OS-SRV-USG:terminated_at"] = usageTime(srv.TerminatedAt)
		if groups := securityGroups(srv, ex); len(groups) > 0 {
			m["security_groups"] = groups
		}
		// Extended server attributes: admin-only by default policy.
		if admin {
			addExtendedAttributes(c, m, srv, !o.HideUserData)
		}
		m["OS-EXT-STS:task_state"] = nullIfEmpty(string(srv.TaskState))
		m["OS-EXT-STS:vm_state"] = string(srv.VMState)
		m["OS-EXT-STS:power_state"] = int(srv.PowerState)
		m["os-extended-volumes:volumes_attached"] = []any{}
	}
	if c.AtLeast(2, 9) {
		m["locked"] = srv.Locked
	}
	if ex.hostStatus != nil {
		m["host_status"] = ex.hostStatus[srv.ID]
	}
	if c.AtLeast(2, 19) {
		m["description"] = srv.Description
	}
	if c.AtLeast(2, 26) {
		tags := srv.Tags
		if tags == nil {
			tags = []string{}
		}
		m["tags"] = tags
	}
	if c.AtLeast(2, 63) {
		m["trusted_image_certificates"] = nil
	}
	if o.ServerGroups {
		m["server_groups"] = []string{}
		if g := ex.groups[srv.ID]; g != nil {
			m["server_groups"] = g
		}
	}
	if c.AtLeast(2, 73) {
		m["locked_reason"] = srv.LockedReason
	}
	if c.AtLeast(2, 90) && !(o.Full && admin) {
		m["OS-EXT-SRV-ATTR:hostname"] = srv.Hostname
	}
	if o.Full && c.AtLeast(2, 96) {
		m["pinned_availability_zone"] = srv.PinnedAZ()
	}
	if c.AtLeast(2, 100) {
		m["scheduler_hints"] = nonNilHints(srv.SchedulerHints)
	}
	return m
}

// addExtendedAttributes adds the OS-EXT-SRV-ATTR fields (2.3 adds all but
// host, instance_name and hypervisor_hostname).
func addExtendedAttributes(c *api.Call, m map[string]any, srv *compute.Server, withUserData bool) {
	m["OS-EXT-SRV-ATTR:host"] = nullIfEmpty(srv.Host)
	m["OS-EXT-SRV-ATTR:hypervisor_hostname"] = nullIfEmpty(srv.Node)
	m["OS-EXT-SRV-ATTR:instance_name"] = instanceName(srv.Number)
	if !c.AtLeast(2, 3) {
		return
	}
	m["OS-EXT-SRV-ATTR:hostname"] = srv.Hostname
	m["OS-EXT-SRV-ATTR:kernel_id"] = ""
	m["OS-EXT-SRV-ATTR:ramdisk_id"] = ""
	m["OS-EXT-SRV-ATTR:launch_index"] = srv.LaunchIndex
	m["OS-EXT-SRV-ATTR:reservation_id"] = srv.ReservationID
	m["OS-EXT-SRV-ATTR:root_device_name"] = rootDeviceName(srv)
	if withUserData {
		m["OS-EXT-SRV-ATTR:user_data"] = nullIfEmpty(srv.UserData)
	}
}

// instanceName is Nova's default instance_name_template.
func instanceName(number int64) string { return fmt.Sprintf("instance-%08x", number) }

// rootDeviceName is set by the compute host once the guest is built.
func rootDeviceName(srv *compute.Server) any {
	if srv.LaunchedAt == nil {
		return nil
	}
	return "/dev/vda"
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
