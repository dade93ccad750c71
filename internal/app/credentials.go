package app

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// CloudName is the entry kumo writes in clouds.yaml.
const CloudName = "kumo"

// Credentials are the admin account's login details.
type Credentials struct {
	AuthURL     string
	Username    string
	Password    string
	ProjectName string
	Region      string
}

type cloudsFile struct {
	Clouds map[string]cloudEntry `yaml:"clouds"`
}

type cloudEntry struct {
	Auth struct {
		AuthURL           string `yaml:"auth_url"`
		Username          string `yaml:"username"`
		Password          string `yaml:"password"`
		ProjectName       string `yaml:"project_name"`
		UserDomainName    string `yaml:"user_domain_name"`
		ProjectDomainName string `yaml:"project_domain_name"`
	} `yaml:"auth"`
	RegionName         string `yaml:"region_name"`
	IdentityAPIVersion int    `yaml:"identity_api_version"`
	Interface          string `yaml:"interface"`
}

// WriteClouds writes clouds.yaml (mode 0600) for the admin account.
func WriteClouds(path string, c Credentials) error {
	var e cloudEntry
	e.Auth.AuthURL = c.AuthURL
	e.Auth.Username = c.Username
	e.Auth.Password = c.Password
	e.Auth.ProjectName = c.ProjectName
	e.Auth.UserDomainName = "Default"
	e.Auth.ProjectDomainName = "Default"
	e.RegionName = c.Region
	e.IdentityAPIVersion = 3
	e.Interface = "public"
	b, err := yaml.Marshal(cloudsFile{Clouds: map[string]cloudEntry{CloudName: e}})
	if err != nil {
		return fmt.Errorf("encode clouds.yaml: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("install %s: %w", path, err)
	}
	return nil
}

// ReadClouds reads the admin credentials back from clouds.yaml.
func ReadClouds(path string) (Credentials, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Credentials{}, fmt.Errorf("%s not found: start `kumo serve` once to create the admin account", path)
		}
		return Credentials{}, err
	}
	var f cloudsFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		return Credentials{}, fmt.Errorf("parse %s: %w", path, err)
	}
	e, ok := f.Clouds[CloudName]
	if !ok {
		return Credentials{}, fmt.Errorf("%s has no %q cloud", path, CloudName)
	}
	return Credentials{AuthURL: e.Auth.AuthURL, Username: e.Auth.Username, Password: e.Auth.Password,
		ProjectName: e.Auth.ProjectName, Region: e.RegionName}, nil
}

// OpenRC renders credentials as shell exports.
func OpenRC(c Credentials) string {
	var b strings.Builder
	for _, kv := range [][2]string{
		{"OS_AUTH_URL", c.AuthURL}, {"OS_IDENTITY_API_VERSION", "3"},
		{"OS_USERNAME", c.Username}, {"OS_PASSWORD", c.Password},
		{"OS_PROJECT_NAME", c.ProjectName}, {"OS_USER_DOMAIN_NAME", "Default"},
		{"OS_PROJECT_DOMAIN_NAME", "Default"}, {"OS_REGION_NAME", c.Region},
	} {
		fmt.Fprintf(&b, "export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
	return b.String()
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// RandomPassword returns a random 26-character password.
func RandomPassword() string { return rand.Text() }

// FollowAuthURL points the kumo cloud of an existing clouds.yaml at
// authURL, when kumo now listens elsewhere than when it wrote the file,
// and reports whether it changed the file. Everything else in the file
// (the password, other clouds, comments) stays as it was; a missing file
// or one without the kumo cloud is left alone.
func FollowAuthURL(path, authURL string) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return false, fmt.Errorf("parse %s: %w", path, err)
	}
	url := mappingValue(&doc, "clouds", CloudName, "auth", "auth_url")
	if url == nil || url.Kind != yaml.ScalarNode || url.Value == authURL {
		return false, nil
	}
	url.Value, url.Style = authURL, 0
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return false, fmt.Errorf("encode %s: %w", path, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		return false, fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return false, fmt.Errorf("install %s: %w", path, err)
	}
	return true, nil
}

// mappingValue follows keys down nested YAML mappings from a document
// node; nil when one is missing.
func mappingValue(n *yaml.Node, keys ...string) *yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	for _, k := range keys {
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
				break
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}
