package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// netSetup is what the network figures run on, all named after the run's
// prefix: a network with one IPv4 subnet, a router with its gateway on
// the external network and an interface on the subnet (Neutron binds a
// floating IP only through one), and a security group.
type netSetup struct {
	external, network, subnet, router, group string
	// restoreQuota puts the project's network quota back as it was.
	restoreQuota func(ctx context.Context) error
}

// benchCIDR is the bench network's subnet: room for every port a
// throughput figure makes before its clean-up.
const benchCIDR = "10.250.0.0/16"

// networking measures the networking API (the catalog's "network"
// service): port, security group rule and floating IP round trips, port
// creates under load, port and network listings with b.ports ports, and
// a server booted on a given port. Everything it makes is deleted again.
func (b *bench) networking(ctx context.Context, liftQuota bool) {
	if b.c.network == "" {
		fmt.Fprintln(b.verbose, "bench: the cloud has no network endpoint in its catalog: network figures skipped")
		return
	}
	n, err := b.netSetUp(ctx, liftQuota)
	if err == nil {
		b.netFigures(ctx, n)
	} else {
		b.figures = append(b.figures, Figure{Name: "network set-up", Error: err.Error()})
		b.progress(b.figures[len(b.figures)-1])
	}
	if err := b.netCleanUp(ctx, n); err != nil {
		b.figures = append(b.figures, Figure{Name: "network clean-up", Error: err.Error()})
		b.progress(b.figures[len(b.figures)-1])
	}
}

func (b *bench) netFigures(ctx context.Context, n *netSetup) {
	createPort := func(ctx context.Context, name string) (string, error) {
		return b.netCreate(ctx, "ports", "port", map[string]any{"network_id": n.network, "name": name})
	}
	b.recordPair(ctx, "port create + delete round trip", func(ctx context.Context) (time.Duration, time.Duration, error) {
		return latency(ctx, b.samples, func(ctx context.Context) error {
			id, err := createPort(ctx, b.prefix+"-rt")
			if err != nil {
				return err
			}
			return b.netDelete(ctx, "ports", id)
		})
	})
	b.record(ctx, fmt.Sprintf("port create throughput, %d clients, %s", b.clients, b.duration), "ports/s", func(ctx context.Context) (float64, error) {
		v, err := throughput(ctx, b.clients, b.duration, func(ctx context.Context) error {
			_, err := createPort(ctx, b.prefix+"-tp")
			return err
		})
		// The ports go before the next repeat, whatever happened.
		if _, derr := b.deletePorts(ctx, url.Values{"network_id": {n.network}, "name": {b.prefix + "-tp"}}); err == nil {
			err = derr
		}
		return v, err
	})

	// Listings with b.ports ports on the bench's network.
	err := parallel(ctx, b.ports, b.concurrency, func(ctx context.Context, i int) error {
		_, err := createPort(ctx, b.prefix+"-fill")
		return err
	})
	if err != nil {
		b.figures = append(b.figures, Figure{Name: fmt.Sprintf("fill the network with %d ports", b.ports), Error: err.Error()})
	} else {
		listings := []struct{ name, path string }{
			{fmt.Sprintf("GET /v2.0/ports, %d ports", b.ports), "ports"},
			{fmt.Sprintf("GET /v2.0/ports?network_id=…&fields=id, %d ports", b.ports), "ports?" + url.Values{"network_id": {n.network}, "fields": {"id"}}.Encode()},
			{"GET /v2.0/networks", "networks"},
		}
		for _, l := range listings {
			b.recordPair(ctx, l.name, func(ctx context.Context) (time.Duration, time.Duration, error) {
				return latency(ctx, b.samples, func(ctx context.Context) error {
					return b.c.do(ctx, "GET", b.c.networkURL(l.path), nil, nil, http.StatusOK)
				})
			})
		}
	}
	if _, err := b.deletePorts(ctx, url.Values{"network_id": {n.network}, "name": {b.prefix + "-fill"}}); err != nil {
		b.figures = append(b.figures, Figure{Name: "delete the filling ports", Error: err.Error()})
	}

	b.recordPair(ctx, "security group rule create + delete round trip", func(ctx context.Context) (time.Duration, time.Duration, error) {
		rule := map[string]any{"security_group_id": n.group, "direction": "ingress", "ethertype": "IPv4",
			"protocol": "tcp", "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "192.0.2.0/24"}
		return latency(ctx, b.samples, func(ctx context.Context) error {
			id, err := b.netCreate(ctx, "security-group-rules", "security_group_rule", rule)
			if err != nil {
				return err
			}
			return b.netDelete(ctx, "security-group-rules", id)
		})
	})

	const fipName = "floating IP create + associate + disassociate + delete round trip"
	port, err := createPort(ctx, b.prefix+"-fip")
	if err == nil && n.external == "" {
		err = errors.New("the cloud has no external network")
	}
	if err != nil {
		b.figures = append(b.figures, Figure{Name: fipName + " p50", Error: err.Error()})
	} else {
		b.recordPair(ctx, fipName, func(ctx context.Context) (time.Duration, time.Duration, error) {
			return latency(ctx, b.samples, func(ctx context.Context) error { return b.fipRoundTrip(ctx, n.external, port) })
		})
	}

	b.oneServerFigure(ctx, "one server POST on a given port until ACTIVE", "oneport", func(ctx context.Context, i int) ([]serverOption, error) {
		id, err := createPort(ctx, fmt.Sprintf("%s-oneport-%d", b.prefix, i))
		return []serverOption{onPorts(id)}, err
	})
}

// fipRoundTrip makes a floating IP on the external network, binds it to
// port, unbinds it and deletes it.
func (b *bench) fipRoundTrip(ctx context.Context, external, port string) error {
	id, err := b.netCreate(ctx, "floatingips", "floatingip", map[string]any{"floating_network_id": external, "description": b.prefix})
	if err != nil {
		return err
	}
	for _, portID := range []any{port, nil} {
		body := map[string]any{"floatingip": map[string]any{"port_id": portID}}
		if err := b.c.do(ctx, "PUT", b.c.networkURL("floatingips/"+id), body, nil, http.StatusOK); err != nil {
			return err
		}
	}
	return b.netDelete(ctx, "floatingips", id)
}

// netSetUp makes the network, subnet, router and security group, and
// lifts the project's port quota when asked (the figures make thousands).
func (b *bench) netSetUp(ctx context.Context, liftQuota bool) (*netSetup, error) {
	n := &netSetup{}
	if liftQuota {
		restore, err := b.liftPortQuota(ctx)
		if err != nil {
			fmt.Fprintln(b.verbose, "bench: warning: could not lift the port quota:", err)
		}
		n.restoreQuota = restore
	}
	var ext struct {
		Networks []struct {
			ID string `json:"id"`
		} `json:"networks"`
	}
	if err := b.c.do(ctx, "GET", b.c.networkURL("networks?router:external=true&fields=id"), nil, &ext, http.StatusOK); err != nil {
		return n, err
	}
	if len(ext.Networks) > 0 {
		n.external = ext.Networks[0].ID
	}
	var err error
	if n.network, err = b.netCreate(ctx, "networks", "network", map[string]any{"name": b.prefix + "-net"}); err != nil {
		return n, err
	}
	if n.subnet, err = b.netCreate(ctx, "subnets", "subnet", map[string]any{"name": b.prefix + "-subnet",
		"network_id": n.network, "ip_version": 4, "cidr": benchCIDR}); err != nil {
		return n, err
	}
	if n.group, err = b.netCreate(ctx, "security-groups", "security_group", map[string]any{"name": b.prefix + "-sg"}); err != nil {
		return n, err
	}
	if n.external == "" {
		return n, nil
	}
	if n.router, err = b.netCreate(ctx, "routers", "router", map[string]any{"name": b.prefix + "-router",
		"external_gateway_info": map[string]any{"network_id": n.external}}); err != nil {
		return n, err
	}
	return n, b.c.do(ctx, "PUT", b.c.networkURL("routers/"+n.router+"/add_router_interface"),
		map[string]any{"subnet_id": n.subnet}, nil, http.StatusOK)
}

// netCleanUp deletes what netSetUp and the figures made, in the order
// Neutron allows, and puts the quota back; it goes on past errors.
func (b *bench) netCleanUp(ctx context.Context, n *netSetup) error {
	var errs []error
	keep := func(err error) {
		if err != nil && !isStatus(err, http.StatusNotFound) {
			errs = append(errs, err)
		}
	}
	_, err := b.deleteMany(ctx, b.prefix+"-oneport", b.concurrency)
	keep(err)
	var fips struct {
		FloatingIPs []struct {
			ID string `json:"id"`
		} `json:"floatingips"`
	}
	err = b.c.do(ctx, "GET", b.c.networkURL("floatingips?"+url.Values{"description": {b.prefix}, "fields": {"id"}}.Encode()), nil, &fips, http.StatusOK)
	keep(err)
	for _, f := range fips.FloatingIPs {
		keep(b.netDelete(ctx, "floatingips", f.ID))
	}
	if n.network != "" {
		_, err := b.deletePorts(ctx, url.Values{"network_id": {n.network}})
		keep(err)
	}
	if n.router != "" {
		keep(b.c.do(ctx, "PUT", b.c.networkURL("routers/"+n.router+"/remove_router_interface"),
			map[string]any{"subnet_id": n.subnet}, nil, http.StatusOK))
		keep(b.netDelete(ctx, "routers", n.router))
	}
	if n.network != "" {
		keep(b.netDelete(ctx, "networks", n.network)) // and its subnet
	}
	if n.group != "" {
		keep(b.netDelete(ctx, "security-groups", n.group))
	}
	if n.restoreQuota != nil {
		keep(n.restoreQuota(ctx))
	}
	return errors.Join(errs...)
}

// liftPortQuota sets the project's port quota to unlimited and returns
// how to put it back: the old limit if the project had limits of its
// own, else the defaults again.
func (b *bench) liftPortQuota(ctx context.Context) (func(ctx context.Context) error, error) {
	path := "quotas/" + url.PathEscape(b.c.projectID)
	var own struct {
		Quotas []struct {
			ProjectID string `json:"project_id"`
			Port      int    `json:"port"`
		} `json:"quotas"`
	}
	if err := b.c.do(ctx, "GET", b.c.networkURL("quotas"), nil, &own, http.StatusOK); err != nil {
		return nil, err
	}
	restore := func(ctx context.Context) error {
		return b.c.do(ctx, "DELETE", b.c.networkURL(path), nil, nil, http.StatusNoContent)
	}
	for _, q := range own.Quotas {
		if q.ProjectID == b.c.projectID {
			if q.Port < 0 {
				return nil, nil // unlimited already
			}
			old := q.Port
			restore = func(ctx context.Context) error {
				return b.c.do(ctx, "PUT", b.c.networkURL(path), map[string]any{"quota": map[string]any{"port": old}}, nil, http.StatusOK)
			}
		}
	}
	if err := b.c.do(ctx, "PUT", b.c.networkURL(path), map[string]any{"quota": map[string]any{"port": -1}}, nil, http.StatusOK); err != nil {
		return nil, err
	}
	return restore, nil
}

// netCreate posts one object of kind (the body's key) to collection and
// returns its id.
func (b *bench) netCreate(ctx context.Context, collection, kind string, attrs map[string]any) (string, error) {
	var out map[string]struct {
		ID string `json:"id"`
	}
	if err := b.c.do(ctx, "POST", b.c.networkURL(collection), map[string]any{kind: attrs}, &out, http.StatusCreated); err != nil {
		return "", err
	}
	return out[kind].ID, nil
}

// netDelete deletes one object of collection.
func (b *bench) netDelete(ctx context.Context, collection, id string) error {
	return b.c.do(ctx, "DELETE", b.c.networkURL(collection+"/"+url.PathEscape(id)), nil, nil, http.StatusNoContent)
}

// deletePorts deletes the ports matching the filters q with b.concurrency
// clients, a page of 1000 at a time, except router interfaces (they go
// with remove_router_interface); it returns how many it deleted.
func (b *bench) deletePorts(ctx context.Context, q url.Values) (int, error) {
	deleted := 0
	for {
		page := url.Values{"fields": {"id", "device_owner"}, "limit": {"1000"}}
		for k, v := range q {
			page[k] = v
		}
		var out struct {
			Ports []struct {
				ID          string `json:"id"`
				DeviceOwner string `json:"device_owner"`
			} `json:"ports"`
		}
		if err := b.c.do(ctx, "GET", b.c.networkURL("ports?"+page.Encode()), nil, &out, http.StatusOK); err != nil {
			return deleted, err
		}
		var ids []string
		for _, p := range out.Ports {
			if p.DeviceOwner != "network:router_interface" {
				ids = append(ids, p.ID)
			}
		}
		if len(ids) == 0 {
			return deleted, nil
		}
		err := parallel(ctx, len(ids), b.concurrency, func(ctx context.Context, i int) error {
			if err := b.netDelete(ctx, "ports", ids[i]); err != nil && !isStatus(err, http.StatusNotFound) {
				return err
			}
			return nil
		})
		if err != nil {
			return deleted, err
		}
		deleted += len(ids)
	}
}
