package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/kumocloud/kumo/internal/compute/state"
	"github.com/kumocloud/kumo/internal/errs"
)

// apiServer is the part of a Nova server (at computeVersion) the pages show.
type apiServer struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	Status     string  `json:"status"`
	VMState    string  `json:"OS-EXT-STS:vm_state"`
	TaskState  *string `json:"OS-EXT-STS:task_state"`
	PowerState int     `json:"OS-EXT-STS:power_state"`
	Locked     bool    `json:"locked"`
	LaunchedAt *string `json:"OS-SRV-USG:launched_at"`
	HostID     string  `json:"hostId"`
	Created    string  `json:"created"`
	KeyName    *string `json:"key_name"`
	Addresses  map[string][]struct {
		Addr string `json:"addr"`
	} `json:"addresses"`
	Flavor struct {
		OriginalName string `json:"original_name"`
		VCPUs        int    `json:"vcpus"`
		RAM          int    `json:"ram"`
		Disk         int    `json:"disk"`
	} `json:"flavor"`
	Image json.RawMessage `json:"image"`
	Fault *struct {
		Message string `json:"message"`
	} `json:"fault"`
}

// Task is the task state as Nova shows it ("" for none).
func (s apiServer) Task() string {
	if s.TaskState == nil {
		return ""
	}
	return *s.TaskState
}

// Power is the power state's name.
func (s apiServer) Power() string { return state.PowerState(s.PowerState).String() }

// IPs lists the server's addresses, network by network.
func (s apiServer) IPs() string {
	var out []string
	for _, n := range slices.Sorted(maps.Keys(s.Addresses)) {
		for _, a := range s.Addresses[n] {
			out = append(out, n+": "+a.Addr)
		}
	}
	return strings.Join(out, ", ")
}

// instance is the server as internal/compute/state sees it. The host is
// admin-only; hostId (a hash of it, shown to everyone) is "" exactly
// when the server has no host, which is all the host guard asks.
func (s apiServer) instance() state.Instance {
	return state.Instance{UUID: s.ID, VMState: state.VMState(s.VMState), TaskState: state.TaskState(s.Task()),
		Locked: s.Locked, Launched: s.LaunchedAt != nil && *s.LaunchedAt != "", Host: s.HostID}
}

// serverAction is one button of a server's page: the API body it posts
// and the state model's action that decides whether Nova would accept it.
type serverAction struct {
	Key   string // the form's action value
	Label string
	Check state.Action
	// Input names a form field the action needs ("" none): name, flavor,
	// image, password, state.
	Input string
	Admin bool // shown to admins only (the API's default policy is admin)
	Body  func(in map[string]string) any
}

func simple(key string) func(map[string]string) any {
	return func(map[string]string) any { return map[string]any{key: nil} }
}

// serverActions are the buttons, in Horizon's order.
var serverActions = []serverAction{
	{Key: "reboot-soft", Label: "Soft reboot", Check: state.ActionRebootSoft,
		Body: func(map[string]string) any { return map[string]any{"reboot": map[string]any{"type": "SOFT"}} }},
	{Key: "reboot-hard", Label: "Hard reboot", Check: state.ActionRebootHard,
		Body: func(map[string]string) any { return map[string]any{"reboot": map[string]any{"type": "HARD"}} }},
	{Key: "os-stop", Label: "Stop", Check: state.ActionStop, Body: simple("os-stop")},
	{Key: "os-start", Label: "Start", Check: state.ActionStart, Body: simple("os-start")},
	{Key: "pause", Label: "Pause", Check: state.ActionPause, Body: simple("pause")},
	{Key: "unpause", Label: "Unpause", Check: state.ActionUnpause, Body: simple("unpause")},
	{Key: "suspend", Label: "Suspend", Check: state.ActionSuspend, Body: simple("suspend")},
	{Key: "resume", Label: "Resume", Check: state.ActionResume, Body: simple("resume")},
	{Key: "lock", Label: "Lock", Check: state.ActionLock, Body: simple("lock")},
	{Key: "unlock", Label: "Unlock", Check: state.ActionUnlock, Body: simple("unlock")},
	{Key: "rescue", Label: "Rescue", Check: state.ActionRescue,
		Body: func(map[string]string) any { return map[string]any{"rescue": map[string]any{}} }},
	{Key: "unrescue", Label: "Unrescue", Check: state.ActionUnrescue, Body: simple("unrescue")},
	{Key: "shelve", Label: "Shelve", Check: state.ActionShelve, Body: simple("shelve")},
	{Key: "shelveOffload", Label: "Shelve offload", Check: state.ActionShelveOffload, Body: simple("shelveOffload")},
	{Key: "unshelve", Label: "Unshelve", Check: state.ActionUnshelve, Body: simple("unshelve")},
	{Key: "resize", Label: "Resize", Check: state.ActionResize, Input: "flavor",
		Body: func(in map[string]string) any {
			return map[string]any{"resize": map[string]any{"flavorRef": in["flavor"]}}
		}},
	{Key: "confirmResize", Label: "Confirm resize", Check: state.ActionConfirmResize, Body: simple("confirmResize")},
	{Key: "revertResize", Label: "Revert resize", Check: state.ActionRevertResize, Body: simple("revertResize")},
	{Key: "rebuild", Label: "Rebuild", Check: state.ActionRebuild, Input: "image",
		Body: func(in map[string]string) any {
			return map[string]any{"rebuild": map[string]any{"imageRef": in["image"]}}
		}},
	{Key: "createImage", Label: "Create snapshot", Check: state.ActionCreateImage, Input: "name",
		Body: func(in map[string]string) any {
			return map[string]any{"createImage": map[string]any{"name": in["name"]}}
		}},
	{Key: "changePassword", Label: "Change password", Check: state.ActionChangePassword, Input: "password",
		Body: func(in map[string]string) any {
			return map[string]any{"changePassword": map[string]any{"adminPass": in["password"]}}
		}},
	{Key: "trigger_crash_dump", Label: "Trigger crash dump", Check: state.ActionTriggerCrashDump, Body: simple("trigger_crash_dump")},
	{Key: "restore", Label: "Restore", Check: state.ActionRestore, Body: simple("restore")},
	{Key: "forceDelete", Label: "Force delete", Check: state.ActionForceDelete, Body: simple("forceDelete")},
	{Key: "migrate", Label: "Migrate", Check: state.ActionMigrate, Admin: true, Body: simple("migrate")},
	{Key: "os-migrateLive", Label: "Live migrate", Check: state.ActionLiveMigrate, Admin: true,
		Body: func(map[string]string) any {
			return map[string]any{"os-migrateLive": map[string]any{"host": nil, "block_migration": "auto"}}
		}},
	{Key: "os-resetState", Label: "Reset state", Check: state.ActionResetState, Input: "state", Admin: true,
		Body: func(in map[string]string) any {
			return map[string]any{"os-resetState": map[string]any{"state": in["state"]}}
		}},
}

func findAction(key string) (serverAction, bool) {
	for _, a := range serverActions {
		if a.Key == key {
			return a, true
		}
	}
	return serverAction{}, false
}

// buttonState is one action for one server: Refusal is Nova's 409 text
// when its preconditions refuse it now ("" when enabled).
type buttonState struct {
	serverAction
	Refusal string
}

// buttons decides every action's state for srv with the state model.
func buttons(srv apiServer, admin bool) []buttonState {
	var out []buttonState
	for _, a := range serverActions {
		if a.Admin && !admin {
			continue
		}
		b := buttonState{serverAction: a}
		if err := state.Check(a.Check, srv.instance(), admin); err != nil {
			b.Refusal = errs.Message(err)
		}
		out = append(out, b)
	}
	return out
}

// statusJSON is a server's live state for the pages' polling script.
type statusJSON struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Status    string            `json:"status"`
	TaskState string            `json:"task_state"`
	Power     string            `json:"power_state"`
	IPs       string            `json:"ips"`
	Locked    bool              `json:"locked"`
	Actions   map[string]string `json:"actions"` // key -> refusal ("" enabled)
	Delete    string            `json:"delete"`  // delete's refusal
}

func toStatus(srv apiServer, admin bool) statusJSON {
	st := statusJSON{ID: srv.ID, Name: srv.Name, Status: srv.Status, TaskState: srv.Task(), Power: srv.Power(),
		IPs: srv.IPs(), Locked: srv.Locked, Actions: map[string]string{}}
	for _, b := range buttons(srv, admin) {
		st.Actions[b.Key] = b.Refusal
	}
	if err := state.Check(state.ActionDelete, srv.instance(), admin); err != nil {
		st.Delete = errs.Message(err)
	}
	return st
}

func (s *session) listServers() ([]apiServer, error) {
	var body struct {
		Servers []apiServer `json:"servers"`
	}
	if err := s.get("/v2.1/servers/detail", &body); err != nil {
		return nil, err
	}
	return body.Servers, nil
}

type serverRow struct {
	apiServer
	Status statusJSON
}

func (d *Dashboard) servers(s *session) error {
	list, err := s.listServers()
	if err != nil {
		return err
	}
	rows := make([]serverRow, 0, len(list))
	for _, srv := range list {
		rows = append(rows, serverRow{apiServer: srv, Status: toStatus(srv, s.Admin())})
	}
	return s.render("servers", "Servers", rows)
}

// serversStatus is the list's live state for the polling script.
func (d *Dashboard) serversStatus(s *session) error {
	list, err := s.listServers()
	if err != nil {
		return jsonError(s.w, err)
	}
	out := make([]statusJSON, 0, len(list))
	for _, srv := range list {
		out = append(out, toStatus(srv, s.Admin()))
	}
	return writeJSON(s.w, http.StatusOK, map[string]any{"servers": out})
}

func (s *session) showServer(id string) (apiServer, error) {
	var body struct {
		Server apiServer `json:"server"`
	}
	err := s.get(path("/v2.1/servers", id), &body)
	return body.Server, err
}

func (d *Dashboard) serverStatus(s *session) error {
	srv, err := s.showServer(s.req.PathValue("id"))
	if err != nil {
		return jsonError(s.w, err)
	}
	return writeJSON(s.w, http.StatusOK, toStatus(srv, s.Admin()))
}

// instanceAction is an entry of the server's action history.
type instanceAction struct {
	Action    string  `json:"action"`
	RequestID string  `json:"request_id"`
	StartTime string  `json:"start_time"`
	Message   *string `json:"message"`
	UserID    string  `json:"user_id"`
	Events    []struct {
		Event      string  `json:"event"`
		StartTime  string  `json:"start_time"`
		FinishTime *string `json:"finish_time"`
		Result     *string `json:"result"`
		Host       string  `json:"host"`
	} `json:"events"`
}

// serverPage is the server page's data.
type serverPage struct {
	Server     apiServer
	Status     statusJSON
	Buttons    []buttonState
	Flavors    []apiFlavor
	Images     []apiImage
	History    []instanceAction
	HistoryErr string
	ImageID    string
}

// historyDepth is how many of the latest instance actions show events.
const historyDepth = 10

func (d *Dashboard) server(s *session) error {
	srv, err := s.showServer(s.req.PathValue("id"))
	if err != nil {
		return err
	}
	p := serverPage{Server: srv, Status: toStatus(srv, s.Admin()), Buttons: buttons(srv, s.Admin())}
	var img struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(srv.Image, &img)
	p.ImageID = img.ID
	p.Flavors, _ = s.listFlavors()
	p.Images, _ = s.listImages()
	var acts struct {
		Actions []instanceAction `json:"instanceActions"`
	}
	if err := s.get(path("/v2.1/servers", srv.ID, "os-instance-actions"), &acts); err != nil {
		p.HistoryErr = err.Error()
	}
	for i, a := range acts.Actions {
		if i < historyDepth {
			var one struct {
				Action instanceAction `json:"instanceAction"`
			}
			if err := s.get(path("/v2.1/servers", srv.ID, "os-instance-actions", a.RequestID), &one); err == nil {
				a = one.Action
			}
		}
		p.History = append(p.History, a)
	}
	return s.render("server", "Server "+srv.Name, p)
}

// serverAction posts one action of the table to /servers/{id}/action.
func (d *Dashboard) serverAction(s *session) error {
	id := s.req.PathValue("id")
	to := Prefix + "servers/" + url.PathEscape(id)
	a, ok := findAction(s.req.PostFormValue("action"))
	if !ok {
		return s.done(to, &apiError{Status: http.StatusBadRequest, Message: "unknown action"}, "")
	}
	in := map[string]string{}
	for _, k := range []string{"name", "flavor", "image", "password", "state"} {
		in[k] = s.req.PostFormValue(k)
	}
	err := s.send(http.MethodPost, path("/v2.1/servers", id, "action"), a.Body(in), nil)
	return s.done(to, err, a.Label+": accepted.")
}

func (d *Dashboard) deleteServer(s *session) error {
	err := s.send(http.MethodDelete, path("/v2.1/servers", s.req.PathValue("id")), nil, nil)
	return s.done(Prefix+"servers", err, "Server deletion accepted.")
}

// consoleLog shows os-getConsoleOutput's text.
func (d *Dashboard) consoleLog(s *session) error {
	id := s.req.PathValue("id")
	var out struct {
		Output string `json:"output"`
	}
	err := s.send(http.MethodPost, path("/v2.1/servers", id, "action"),
		map[string]any{"os-getConsoleOutput": map[string]any{"length": 500}}, &out)
	data := map[string]string{"ID": id, "Output": out.Output}
	var ae *apiError
	if errors.As(err, &ae) {
		data["Error"] = ae.Message
	} else if err != nil {
		return err
	}
	return s.render("consolelog", "Console log", data)
}

// remoteConsole asks for a console (POST /servers/{id}/remote-consoles)
// and shows it: noVNC's page in a frame, the serial websocket in the
// terminal script. The API's refusal (404 before consoles exist) shows
// as worded.
func (d *Dashboard) remoteConsole(s *session) error {
	id := s.req.PathValue("id")
	protocol, typ := "vnc", "novnc"
	if s.req.PostFormValue("type") == "serial" {
		protocol, typ = "serial", "serial"
	}
	var out struct {
		Console struct {
			Protocol string `json:"protocol"`
			Type     string `json:"type"`
			URL      string `json:"url"`
		} `json:"remote_console"`
	}
	err := s.send(http.MethodPost, path("/v2.1/servers", id, "remote-consoles"),
		map[string]any{"remote_console": map[string]any{"protocol": protocol, "type": typ}}, &out)
	data := map[string]any{"ID": id, "Type": typ}
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		data["Error"] = ae.Message
	case err != nil:
		return err
	default:
		// Only a websocket for the terminal, a web page for the frame:
		// html/template would blank any other scheme, so say why instead.
		u, perr := url.Parse(out.Console.URL)
		want := map[string][]string{"serial": {"ws", "wss"}, "novnc": {"http", "https"}}[typ]
		if perr != nil || !slices.Contains(want, u.Scheme) {
			data["Error"] = fmt.Sprintf("the API answered a %s console at %q, which the dashboard cannot open", typ, out.Console.URL)
		} else {
			data["URL"] = template.URL(u.String())
		}
	}
	s.w.Header().Set("Content-Security-Policy", contentPolicy(out.Console.URL))
	return s.render("console", "Console", data)
}

// newServerPage is the create form's choices.
type newServerPage struct {
	Images   []apiImage
	Flavors  []apiFlavor
	Keypairs []apiKeypair
	Networks []apiNetwork
	Volumes  []apiVolume
	// Errors of the lists that failed, as the APIs worded them.
	Errors []string
}

func (d *Dashboard) newServer(s *session) error {
	var p newServerPage
	var err error
	note := func(what string, e error) {
		if e != nil {
			p.Errors = append(p.Errors, what+": "+e.Error())
		}
	}
	p.Images, err = s.listImages()
	note("images", err)
	p.Flavors, err = s.listFlavors()
	note("flavors", err)
	p.Keypairs, err = s.listKeypairs()
	note("key pairs", err)
	if s.Services["network"] {
		p.Networks, err = s.listNetworks()
		note("networks", err)
	}
	if s.Services["volumev3"] || s.Services["block-storage"] {
		var vols []apiVolume
		vols, err = s.listVolumes()
		note("volumes", err)
		for _, v := range vols {
			if v.Status == "available" {
				p.Volumes = append(p.Volumes, v)
			}
		}
	}
	return s.render("newserver", "Launch a server", p)
}

// createServer posts the form as POST /v2.1/servers.
func (d *Dashboard) createServer(s *session) error {
	f := s.req.PostFormValue
	srv := map[string]any{"name": f("name"), "imageRef": f("image"), "flavorRef": f("flavor")}
	if k := f("key_name"); k != "" {
		srv["key_name"] = k
	}
	if n := f("network"); n != "" {
		srv["networks"] = []map[string]any{{"uuid": n}}
	} else {
		srv["networks"] = "auto"
	}
	if v := f("volume"); v != "" {
		srv["block_device_mapping_v2"] = []map[string]any{
			{"boot_index": 0, "uuid": f("image"), "source_type": "image", "destination_type": "local", "delete_on_termination": true},
			{"boot_index": -1, "uuid": v, "source_type": "volume", "destination_type": "volume", "delete_on_termination": false},
		}
	}
	var out struct {
		Server struct {
			ID string `json:"id"`
		} `json:"server"`
	}
	err := s.send(http.MethodPost, "/v2.1/servers", map[string]any{"server": srv}, &out)
	if err != nil {
		return s.done(Prefix+"servers/new", err, "")
	}
	return s.done(Prefix+"servers/"+url.PathEscape(out.Server.ID), nil, fmt.Sprintf("Server %s is being built.", f("name")))
}

// writeJSON answers the polling scripts.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// jsonError answers a script with the API's refusal as worded.
func jsonError(w http.ResponseWriter, err error) error {
	var ae *apiError
	if errors.As(err, &ae) {
		return writeJSON(w, ae.Status, map[string]string{"error": ae.Message})
	}
	return err
}
