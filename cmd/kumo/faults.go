package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
)

const faultsUsage = `Usage: kumo faults [connection flags] COMMAND [flags]

Commands:
  list                 list the fault injection rules
  add [flags]          add a rule (kumo faults add -h for its flags)
  show ID|NAME         show a rule
  delete ID|NAME...    delete rules
  clear                delete every rule
  events               list the last injections

Connection: OS_CLOUD and clouds.yaml (OS_CLIENT_CONFIG_FILE, ./clouds.yaml,
~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml) or the OS_*
variables of "kumo openrc", as the openstack CLI reads them, or the flags
below. The admin role is needed.

Connection flags:
`

// faultsClient calls kumo's fault API (/kumo/v1/faults) with a token.
type faultsClient struct {
	base  string // scheme://host[/prefix]/kumo/v1
	token string
	http  *http.Client
}

// faultsCommand is kumo faults.
func faultsCommand(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("faults", flag.ContinueOnError)
	cloud := fs.String("os-cloud", os.Getenv("OS_CLOUD"), "cloud name in clouds.yaml (OS_CLOUD)")
	authURL := fs.String("os-auth-url", "", "identity endpoint (default OS_AUTH_URL)")
	user := fs.String("os-username", "", "user name (default OS_USERNAME)")
	password := fs.String("os-password", "", "password (default OS_PASSWORD)")
	project := fs.String("os-project-name", "", "project name (default OS_PROJECT_NAME)")
	domain := fs.String("os-domain-name", "", "domain of the user and the project (default OS_USER_DOMAIN_NAME and OS_PROJECT_DOMAIN_NAME, else Default)")
	kumoURL := fs.String("url", os.Getenv("KUMO_URL"), "kumo's base URL (default: the identity endpoint's scheme and host)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), faultsUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return helpIsNoError(err)
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fs.Usage()
		return errors.New("faults: a command is needed")
	}
	// The new rule is read before logging in: add -h needs no cloud.
	var rule map[string]any
	if rest[0] == "add" {
		var err error
		if rule, err = addFlags(rest[1:]); rule == nil || err != nil {
			return err
		}
	}
	ao, err := faultsAuth(*cloud, *authURL, *user, *password, *project, *domain)
	if err != nil {
		return err
	}
	c, err := newFaultsClient(ctx, ao, *kumoURL)
	if err != nil {
		return err
	}
	switch rest[0] {
	case "list":
		return c.list(ctx, out)
	case "add":
		var reply struct {
			Fault map[string]any `json:"fault"`
		}
		if err := c.do(ctx, "POST", "/faults", map[string]any{"fault": rule}, &reply, http.StatusCreated); err != nil {
			return err
		}
		return printJSON(out, reply.Fault)
	case "show":
		if len(rest) != 2 {
			return errors.New("faults show: one ID or NAME")
		}
		r, err := c.resolve(ctx, rest[1])
		if err != nil {
			return err
		}
		return printJSON(out, r)
	case "delete":
		if len(rest) < 2 {
			return errors.New("faults delete: ID or NAME...")
		}
		for _, ref := range rest[1:] {
			r, err := c.resolve(ctx, ref)
			if err != nil {
				return err
			}
			if err := c.do(ctx, "DELETE", "/faults/"+url.PathEscape(r["id"].(string)), nil, nil, http.StatusNoContent); err != nil {
				return err
			}
		}
		return nil
	case "clear":
		rules, err := c.rules(ctx)
		if err != nil {
			return err
		}
		for _, r := range rules {
			if err := c.do(ctx, "DELETE", "/faults/"+url.PathEscape(r["id"].(string)), nil, nil, http.StatusNoContent); err != nil {
				return err
			}
		}
		fmt.Fprintf(out, "deleted %d fault rules\n", len(rules))
		return nil
	case "events":
		var body struct {
			Events []map[string]any `json:"events"`
		}
		if err := c.do(ctx, "GET", "/faults/events", nil, &body, http.StatusOK); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "AT\tFAULT\tACTION\tREQUEST ID\tSERVICE\tMETHOD\tPATH\tOPERATION\tSERVER")
		for _, e := range body.Events {
			fmt.Fprintf(tw, "%v\t%v\t%v\t%v\t%v\t%v\t%v\t%v\t%v\n", e["at"], e["fault_name"], e["action"], e["request_id"],
				e["service"], e["method"], e["path"], str(e["operation"]), str(e["server_id"]))
		}
		return tw.Flush()
	}
	fs.Usage()
	return fmt.Errorf("faults: unknown command %q", rest[0])
}

// helpIsNoError: -h printed the usage, which is no failure.
func helpIsNoError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// faultsAuth is how kumo faults logs in, as the openstack CLI would: the
// named cloud of clouds.yaml, else the OS_* variables, each overridden
// by the flag given.
func faultsAuth(cloud, authURL, user, password, project, domain string) (gophercloud.AuthOptions, error) {
	if cloud != "" && authURL == "" {
		ao, _, _, err := clouds.Parse(clouds.WithCloudName(cloud))
		if err != nil {
			return ao, fmt.Errorf("faults: read cloud credentials: %w", err)
		}
		return ao, nil
	}
	or := func(flag, env, def string) string {
		if flag != "" {
			return flag
		}
		if v := os.Getenv(env); v != "" {
			return v
		}
		return def
	}
	ao := gophercloud.AuthOptions{IdentityEndpoint: or(authURL, "OS_AUTH_URL", ""),
		Username: or(user, "OS_USERNAME", ""), Password: or(password, "OS_PASSWORD", ""),
		DomainName: or(domain, "OS_USER_DOMAIN_NAME", "Default")}
	ao.Scope = &gophercloud.AuthScope{ProjectName: or(project, "OS_PROJECT_NAME", ""),
		DomainName: or(domain, "OS_PROJECT_DOMAIN_NAME", "Default")}
	if ao.IdentityEndpoint == "" {
		return ao, errors.New("faults: no cloud: set OS_CLOUD (clouds.yaml) or the OS_* variables (kumo openrc), or give --os-auth-url")
	}
	return ao, nil
}

// newFaultsClient logs in and finds kumo's API: the identity endpoint's
// origin unless base is given.
func newFaultsClient(ctx context.Context, ao gophercloud.AuthOptions, base string) (*faultsClient, error) {
	provider, err := openstack.AuthenticatedClient(ctx, ao)
	if err != nil {
		return nil, fmt.Errorf("faults: authenticate: %w", err)
	}
	if base == "" {
		u, err := url.Parse(ao.IdentityEndpoint)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("faults: identity endpoint %q: give --url", ao.IdentityEndpoint)
		}
		// kumo's identity API is mounted at /identity: what is before it
		// is kumo's base (a proxy prefix stays).
		prefix, _, _ := strings.Cut(u.Path, "/identity")
		base = u.Scheme + "://" + u.Host + prefix
	}
	return &faultsClient{base: strings.TrimRight(base, "/") + "/kumo/v1", token: provider.Token(),
		http: &http.Client{Timeout: time.Minute}}, nil
}

func (c *faultsClient) do(ctx context.Context, method, path string, in, out any, want int) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("X-Auth-Token", c.token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("faults: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("faults: %s %s: %w", method, path, err)
	}
	if resp.StatusCode != want {
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("faults: %s (HTTP %d)", e.Error.Message, resp.StatusCode)
		}
		return fmt.Errorf("faults: %s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (c *faultsClient) rules(ctx context.Context) ([]map[string]any, error) {
	var body struct {
		Faults []map[string]any `json:"faults"`
	}
	if err := c.do(ctx, "GET", "/faults", nil, &body, http.StatusOK); err != nil {
		return nil, err
	}
	return body.Faults, nil
}

// resolve finds a rule by id, else by name.
func (c *faultsClient) resolve(ctx context.Context, ref string) (map[string]any, error) {
	rules, err := c.rules(ctx)
	if err != nil {
		return nil, err
	}
	var byName []map[string]any
	for _, r := range rules {
		if r["id"] == ref {
			return r, nil
		}
		if r["name"] == ref {
			byName = append(byName, r)
		}
	}
	switch len(byName) {
	case 0:
		return nil, fmt.Errorf("faults: no fault rule with id or name %q", ref)
	case 1:
		return byName[0], nil
	}
	return nil, fmt.Errorf("faults: %d fault rules are named %q: give the id", len(byName), ref)
}

func (c *faultsClient) list(ctx context.Context, out io.Writer) error {
	rules, err := c.rules(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tMATCH\tACTION\tPROBABILITY\tCOUNT\tHITS")
	for _, r := range rules {
		fmt.Fprintf(tw, "%v\t%v\t%s\t%s\t%v\t%s\t%v\n", r["id"], r["name"], matchText(r), actionText(r), r["probability"], countText(r["count"]), r["hits"])
	}
	return tw.Flush()
}

// matchText is a rule's match in a few words.
func matchText(r map[string]any) string {
	var parts []string
	for _, k := range []string{"service", "method", "path", "project_id", "microversion", "operation", "server_id"} {
		if v := str(r[k]); v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	if len(parts) == 0 {
		return "*"
	}
	return strings.Join(parts, " ")
}

func actionText(r map[string]any) string {
	a, _ := r["action"].(map[string]any)
	s := str(a["type"])
	for _, k := range []string{"status", "retry_after", "delay_ms"} {
		if v := a[k]; v != nil && v != 0.0 {
			s += fmt.Sprintf(" %s=%v", k, v)
		}
	}
	return s
}

func countText(v any) string {
	if v == nil {
		return "unlimited"
	}
	return fmt.Sprint(v)
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func printJSON(out io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s\n", b)
	return err
}

// addFlags is the rule kumo faults add makes, from its flags; nil after
// -h.
func addFlags(args []string) (map[string]any, error) {
	fs := flag.NewFlagSet("faults add", flag.ContinueOnError)
	rule := map[string]any{}
	action := map[string]any{}
	text := func(m map[string]any, name, usage string) {
		fs.Func(name, usage, func(s string) error { m[strings.ReplaceAll(name, "-", "_")] = s; return nil })
	}
	num := func(m map[string]any, name, usage string) {
		fs.Func(name, usage, func(s string) error {
			var n json.Number
			if err := json.Unmarshal([]byte(s), &n); err != nil {
				return fmt.Errorf("not a number: %s", s)
			}
			m[strings.ReplaceAll(name, "-", "_")] = n
			return nil
		})
	}
	text(rule, "name", "the rule's name (required)")
	text(rule, "service", "compute, identity, image, network or volume (default any)")
	text(rule, "method", "HTTP method (default any)")
	text(rule, "path", "regular expression matched against the path after the service's prefix and project id, e.g. ^/servers")
	text(rule, "project-id", "only requests (or servers) of this project")
	text(rule, "microversion", "only requests at this compute or volume microversion, e.g. 2.79")
	num(rule, "probability", "chance a matching request fires the rule, 0..1 (default 1)")
	num(rule, "count", "fire this many times, then stop (default unlimited)")
	text(rule, "operation", "driver faults: build, delete, reboot, stop, start, resize, ...")
	text(rule, "server-id", "driver faults: only this server")
	text(action, "action", "status, latency, reset, driver_error or driver_hang (required)")
	num(action, "status", "status action: the HTTP status (400-599)")
	num(action, "retry-after", "status action: Retry-After seconds")
	num(action, "delay-ms", "latency and driver_hang: the delay")
	text(action, "message", "status and driver_error: the message")
	if err := fs.Parse(args); err != nil {
		return nil, helpIsNoError(err)
	}
	if t, ok := action["action"]; ok {
		delete(action, "action")
		action["type"] = t
	}
	rule["action"] = action
	return rule, nil
}
