package compute

// Server addresses (/servers/{id}/ips): Nova's ips.py, addresses grouped
// by network label without the extended type and MAC fields.

import (
	"net/http"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/network"
)

// serverAddressList returns the server's addresses by label, after the
// same visibility check as GET /servers/{id}.
func (h *handlers) serverAddressList(c *api.Call) (addressView, error) {
	if err := checkPlainQuery(c); err != nil {
		return addressView{}, err
	}
	srv, err := h.Servers.Get(c.Ctx, c.Principal, c.Param("server_id"))
	if err != nil {
		return addressView{}, err
	}
	addrs, err := h.addressesOf(c, srv)
	if err != nil {
		return addressView{}, err
	}
	return addressView{addrs: addrs}, nil
}

func (h *handlers) addressesOf(c *api.Call, srv *compute.Server) ([]network.Address, error) {
	addrs, err := h.Network.Addresses(c.Ctx, []string{srv.ID})
	if err != nil {
		return nil, err
	}
	return addrs[srv.ID], nil
}

func (h *handlers) listServerIPs(c *api.Call) (*api.Reply, error) {
	addrs, err := h.serverAddressList(c)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, map[string]any{"addresses": addrs}), nil
}

func (h *handlers) showServerIPs(c *api.Call) (*api.Reply, error) {
	addrs, err := h.serverAddressList(c)
	if err != nil {
		return nil, err
	}
	// {label: [...]}: the view of the one network's addresses.
	group := addrs.group(c.Param("network_label"))
	if group == nil {
		return nil, errs.NotFound("Instance is not a member of specified network")
	}
	return api.JSON(http.StatusOK, addressView{addrs: group}), nil
}
