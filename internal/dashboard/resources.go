package dashboard

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
)

type apiImage struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Status          string `json:"status"`
	Visibility      string `json:"visibility"`
	Size            *int64 `json:"size"`
	DiskFormat      string `json:"disk_format"`
	ContainerFormat string `json:"container_format"`
	Owner           string `json:"owner"`
	CreatedAt       string `json:"created_at"`
	Protected       bool   `json:"protected"`
}

func (s *session) listImages() ([]apiImage, error) {
	var body struct {
		Images []apiImage `json:"images"`
	}
	err := s.get("/image/v2/images?limit=1000", &body)
	return body.Images, err
}

func (d *Dashboard) images(s *session) error {
	list, err := s.listImages()
	if err != nil {
		return err
	}
	return s.render("images", "Images", list)
}

// createImage makes the image record (POST /image/v2/images) and answers
// its id; the page's script then uploads the file to uploadImage.
func (d *Dashboard) createImage(s *session) error {
	f := s.req.PostFormValue
	body := map[string]any{"name": f("name"), "disk_format": f("disk_format"), "container_format": f("container_format")}
	if v := f("visibility"); v != "" {
		body["visibility"] = v
	}
	var out apiImage
	if err := s.send(http.MethodPost, "/image/v2/images", body, &out); err != nil {
		return jsonError(s.w, err)
	}
	return writeJSON(s.w, http.StatusCreated, map[string]string{"id": out.ID})
}

// uploadImage streams the browser's body on to Glance's upload
// (PUT /image/v2/images/{id}/file), which bounds it as it bounds any.
func (d *Dashboard) uploadImage(s *session) error {
	hdr := http.Header{"Content-Type": {"application/octet-stream"}}
	rep, err := d.do(s.ctx, s.req, call{method: http.MethodPut, path: path("/image/v2/images", s.req.PathValue("id"), "file"),
		token: s.token, body: s.req.Body, length: s.req.ContentLength, header: hdr})
	if err != nil {
		return err
	}
	if err := rep.err(); err != nil {
		return jsonError(s.w, err)
	}
	return writeJSON(s.w, http.StatusOK, map[string]string{"status": "uploaded"})
}

func (d *Dashboard) deleteImage(s *session) error {
	err := s.send(http.MethodDelete, path("/image/v2/images", s.req.PathValue("id")), nil, nil)
	return s.done(Prefix+"images", err, "Image deleted.")
}

type apiFlavor struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	VCPUs     int     `json:"vcpus"`
	RAM       int     `json:"ram"`
	Disk      int     `json:"disk"`
	Ephemeral int     `json:"OS-FLV-EXT-DATA:ephemeral"`
	Public    bool    `json:"os-flavor-access:is_public"`
	RXTX      float64 `json:"rxtx_factor"`
}

func (s *session) listFlavors() ([]apiFlavor, error) {
	var body struct {
		Flavors []apiFlavor `json:"flavors"`
	}
	err := s.get("/v2.1/flavors/detail", &body)
	return body.Flavors, err
}

func (d *Dashboard) flavors(s *session) error {
	list, err := s.listFlavors()
	if err != nil {
		return err
	}
	return s.render("flavors", "Flavors", list)
}

type apiKeypair struct {
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"`
	Type        string `json:"type"`
	PublicKey   string `json:"public_key"`
	PrivateKey  string `json:"private_key"`
}

func (s *session) listKeypairs() ([]apiKeypair, error) {
	var body struct {
		Keypairs []struct {
			Keypair apiKeypair `json:"keypair"`
		} `json:"keypairs"`
	}
	err := s.get("/v2.1/os-keypairs", &body)
	out := make([]apiKeypair, 0, len(body.Keypairs))
	for _, k := range body.Keypairs {
		out = append(out, k.Keypair)
	}
	return out, err
}

// keypairsPage is the key pair page; Created is a key pair just
// generated, its private key shown this once (kumo keeps no copy).
type keypairsPage struct {
	Keypairs []apiKeypair
	Created  *apiKeypair
}

func (d *Dashboard) keypairs(s *session) error {
	list, err := s.listKeypairs()
	if err != nil {
		return err
	}
	return s.render("keypairs", "Key pairs", keypairsPage{Keypairs: list})
}

// createKeypair creates (Nova generates the key) or imports (public_key
// given) a key pair. A generated private key is rendered in the answer
// itself, never stored or redirected through a cookie.
func (d *Dashboard) createKeypair(s *session) error {
	f := s.req.PostFormValue
	kp := map[string]any{"name": f("name")}
	if pub := f("public_key"); pub != "" {
		kp["public_key"] = pub
	}
	if t := f("type"); t != "" {
		kp["type"] = t
	}
	var out struct {
		Keypair apiKeypair `json:"keypair"`
	}
	if err := s.send(http.MethodPost, "/v2.1/os-keypairs", map[string]any{"keypair": kp}, &out); err != nil {
		return s.done(Prefix+"keypairs", err, "")
	}
	if out.Keypair.PrivateKey == "" {
		return s.done(Prefix+"keypairs", nil, "Key pair "+out.Keypair.Name+" imported.")
	}
	list, err := s.listKeypairs()
	if err != nil {
		return err
	}
	return s.render("keypairs", "Key pairs", keypairsPage{Keypairs: list, Created: &out.Keypair})
}

func (d *Dashboard) deleteKeypair(s *session) error {
	err := s.send(http.MethodDelete, path("/v2.1/os-keypairs", s.req.PathValue("name")), nil, nil)
	return s.done(Prefix+"keypairs", err, "Key pair deleted.")
}

type apiNetwork struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Status   string   `json:"status"`
	Shared   bool     `json:"shared"`
	External bool     `json:"router:external"`
	Subnets  []string `json:"subnets"`
	Project  string   `json:"project_id"`
}

func (s *session) listNetworks() ([]apiNetwork, error) {
	var body struct {
		Networks []apiNetwork `json:"networks"`
	}
	err := s.get("/networking/v2.0/networks", &body)
	return body.Networks, err
}

type apiSubnet struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	NetworkID string `json:"network_id"`
	CIDR      string `json:"cidr"`
	IPVersion int    `json:"ip_version"`
}

type networksPage struct {
	Networks []apiNetwork
	Subnets  map[string][]apiSubnet // by network
}

func (d *Dashboard) networks(s *session) error {
	list, err := s.listNetworks()
	if err != nil {
		return err
	}
	var subs struct {
		Subnets []apiSubnet `json:"subnets"`
	}
	p := networksPage{Networks: list, Subnets: map[string][]apiSubnet{}}
	if err := s.get("/networking/v2.0/subnets", &subs); err == nil {
		for _, sn := range subs.Subnets {
			p.Subnets[sn.NetworkID] = append(p.Subnets[sn.NetworkID], sn)
		}
	}
	return s.render("networks", "Networks", p)
}

// createNetwork makes a network and, when a CIDR is given, its subnet.
func (d *Dashboard) createNetwork(s *session) error {
	f := s.req.PostFormValue
	var out struct {
		Network apiNetwork `json:"network"`
	}
	err := s.send(http.MethodPost, "/networking/v2.0/networks", map[string]any{"network": map[string]any{"name": f("name")}}, &out)
	if err == nil && f("cidr") != "" {
		err = s.send(http.MethodPost, "/networking/v2.0/subnets", map[string]any{"subnet": map[string]any{
			"network_id": out.Network.ID, "cidr": f("cidr"), "ip_version": 4, "name": f("name") + "-subnet"}}, nil)
	}
	return s.done(Prefix+"networks", err, "Network created.")
}

func (d *Dashboard) deleteNetwork(s *session) error {
	err := s.send(http.MethodDelete, path("/networking/v2.0/networks", s.req.PathValue("id")), nil, nil)
	return s.done(Prefix+"networks", err, "Network deleted.")
}

type apiVolume struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Status      string `json:"status"`
	Size        int    `json:"size"`
	VolumeType  string `json:"volume_type"`
	Bootable    string `json:"bootable"`
	Attachments []struct {
		ServerID string `json:"server_id"`
		Device   string `json:"device"`
	} `json:"attachments"`
}

func (s *session) volumesPath(segs ...string) string {
	return path("/volume/v3", append([]string{s.ProjectID}, segs...)...)
}

func (s *session) listVolumes() ([]apiVolume, error) {
	var body struct {
		Volumes []apiVolume `json:"volumes"`
	}
	err := s.get(s.volumesPath("volumes", "detail"), &body)
	return body.Volumes, err
}

func (d *Dashboard) volumes(s *session) error {
	list, err := s.listVolumes()
	if err != nil {
		return err
	}
	return s.render("volumes", "Volumes", list)
}

func (d *Dashboard) createVolume(s *session) error {
	f := s.req.PostFormValue
	size, err := strconv.Atoi(f("size"))
	if err != nil {
		return s.done(Prefix+"volumes", &apiError{Status: http.StatusBadRequest, Message: "size must be a whole number of GiB"}, "")
	}
	err = s.send(http.MethodPost, s.volumesPath("volumes"), map[string]any{"volume": map[string]any{"name": f("name"), "size": size}}, nil)
	return s.done(Prefix+"volumes", err, "Volume creation accepted.")
}

func (d *Dashboard) deleteVolume(s *session) error {
	err := s.send(http.MethodDelete, s.volumesPath("volumes", s.req.PathValue("id")), nil, nil)
	return s.done(Prefix+"volumes", err, "Volume deletion accepted.")
}

// bar is one quota as a bar: Limit < 0 is unlimited.
type bar struct {
	Name        string
	Used, Limit int64
}

// Percent is the bar's fill.
func (b bar) Percent() int64 {
	switch {
	case b.Limit < 0:
		return 0
	case b.Limit == 0:
		if b.Used > 0 {
			return 100
		}
		return 0
	}
	return min(100, b.Used*100/b.Limit)
}

// LimitText is the limit as shown.
func (b bar) LimitText() string {
	if b.Limit < 0 {
		return "unlimited"
	}
	return strconv.FormatInt(b.Limit, 10)
}

type quotaGroup struct {
	Title string
	Bars  []bar
	Error string
}

// quotas shows compute limits (GET /v2.1/limits), Neutron's quota
// details and Cinder's quota set with usage.
func (d *Dashboard) quotas(s *session) error {
	var groups []quotaGroup
	var lim struct {
		Limits struct {
			Absolute map[string]int64 `json:"absolute"`
		} `json:"limits"`
	}
	g := quotaGroup{Title: "Compute"}
	if err := s.get("/v2.1/limits", &lim); err != nil {
		g.Error = err.Error()
	}
	a := lim.Limits.Absolute
	for _, q := range [][3]string{
		{"Instances", "totalInstancesUsed", "maxTotalInstances"},
		{"VCPUs", "totalCoresUsed", "maxTotalCores"},
		{"RAM (MiB)", "totalRAMUsed", "maxTotalRAMSize"},
		{"Server groups", "totalServerGroupsUsed", "maxServerGroups"},
	} {
		if _, ok := a[q[2]]; ok {
			g.Bars = append(g.Bars, bar{Name: q[0], Used: a[q[1]], Limit: a[q[2]]})
		}
	}
	if v, ok := a["maxTotalKeypairs"]; ok {
		kps, _ := s.listKeypairs()
		g.Bars = append(g.Bars, bar{Name: "Key pairs", Used: int64(len(kps)), Limit: v})
	}
	groups = append(groups, g)

	g = quotaGroup{Title: "Network"}
	var nq struct {
		Quota map[string]struct {
			Used  int64 `json:"used"`
			Limit int64 `json:"limit"`
		} `json:"quota"`
	}
	if err := s.get(path("/networking/v2.0/quotas", s.ProjectID, "details"), &nq); err != nil {
		g.Error = err.Error()
	}
	for _, k := range slices.Sorted(maps.Keys(nq.Quota)) {
		g.Bars = append(g.Bars, bar{Name: k, Used: nq.Quota[k].Used, Limit: nq.Quota[k].Limit})
	}
	groups = append(groups, g)

	g = quotaGroup{Title: "Volume"}
	var vq struct {
		QuotaSet map[string]any `json:"quota_set"`
	}
	if err := s.get(s.volumesPath("os-quota-sets", s.ProjectID)+"?usage=true", &vq); err != nil {
		g.Error = err.Error()
	}
	for _, k := range slices.Sorted(maps.Keys(vq.QuotaSet)) {
		m, ok := vq.QuotaSet[k].(map[string]any)
		if !ok {
			continue
		}
		used, _ := m["in_use"].(float64)
		limit, _ := m["limit"].(float64)
		g.Bars = append(g.Bars, bar{Name: k, Used: int64(used), Limit: int64(limit)})
	}
	groups = append(groups, g)
	return s.render("quotas", "Quotas and usage", groups)
}

// hypervisors lists compute hosts (admin by the API's policy: a member
// sees the API's 403 as worded).
func (d *Dashboard) hypervisors(s *session) error {
	var body struct {
		Hypervisors []map[string]any `json:"hypervisors"`
	}
	if err := s.get("/v2.1/os-hypervisors/detail", &body); err != nil {
		return err
	}
	return s.render("hypervisors", "Hypervisors", body.Hypervisors)
}

type servicesPage struct {
	Compute, Volume []map[string]any
	VolumeError     string
}

func (d *Dashboard) services(s *session) error {
	var c, v struct {
		Services []map[string]any `json:"services"`
	}
	if err := s.get("/v2.1/os-services", &c); err != nil {
		return err
	}
	p := servicesPage{Compute: c.Services}
	if err := s.get(s.volumesPath("os-services"), &v); err != nil {
		p.VolumeError = err.Error()
	}
	p.Volume = v.Services
	return s.render("services", "Services", p)
}

// faultRule and faultEvent are the fault injection API's (/kumo/v1/faults).
type faultRule struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Service      string   `json:"service"`
	Method       string   `json:"method"`
	Path         string   `json:"path"`
	ProjectID    string   `json:"project_id"`
	Microversion string   `json:"microversion"`
	Probability  *float64 `json:"probability"` // null: every match
	Count        *int     `json:"count"`
	Action       struct {
		Type       string `json:"type"`
		Status     int    `json:"status"`
		RetryAfter *int   `json:"retry_after"`
		DelayMS    int    `json:"delay_ms"`
		Message    string `json:"message"`
	} `json:"action"`
	Operation string `json:"operation"`
	ServerID  string `json:"server_id"`
	Hits      int    `json:"hits"`
	CreatedAt string `json:"created_at"`
}

type faultEvent struct {
	FaultID   string `json:"fault_id"`
	FaultName string `json:"fault_name"`
	RequestID string `json:"request_id"`
	Service   string `json:"service"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	ProjectID string `json:"project_id"`
	Action    any    `json:"action"`
	At        string `json:"at"`
}

type faultsPage struct {
	Unavailable bool
	Faults      []faultRule
	Events      []faultEvent
	EventsError string
}

func (d *Dashboard) faults(s *session) error {
	var rules struct {
		Faults []faultRule `json:"faults"`
	}
	var p faultsPage
	err := s.get("/kumo/v1/faults", &rules)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		p.Unavailable = true
		return s.render("faults", "Fault injection", p)
	}
	if err != nil {
		return err
	}
	p.Faults = rules.Faults
	var ev struct {
		Events []faultEvent `json:"events"`
	}
	if err := s.get("/kumo/v1/faults/events", &ev); err != nil {
		p.EventsError = err.Error()
	}
	p.Events = ev.Events
	return s.render("faults", "Fault injection", p)
}

func (d *Dashboard) deleteFault(s *session) error {
	err := s.send(http.MethodDelete, path("/kumo/v1/faults", s.req.PathValue("id")), nil, nil)
	return s.done(Prefix+"admin/faults", err, "Fault rule deleted.")
}

// humanBytes prints a size for people.
func humanBytes(n *int64) string {
	if n == nil {
		return "-"
	}
	v := float64(*n)
	for _, u := range []string{"B", "KiB", "MiB", "GiB"} {
		if v < 1024 {
			return fmt.Sprintf("%.1f %s", v, u)
		}
		v /= 1024
	}
	return fmt.Sprintf("%.1f TiB", v)
}
