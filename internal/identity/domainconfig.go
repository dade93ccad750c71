package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/store"
)

// Domain configurations are Keystone's (resource/core.py DomainConfigManager
// and resource/config_backends/sql.py): per-domain values of the options of
// the identity and ldap groups that Keystone's domain-specific identity
// drivers read. kumo has one SQL identity backend, so a stored
// configuration changes no backend; it is kept and served as Keystone does.

// DomainConfig is a configuration: option values by group. Values are what
// the client sent (json.RawMessage when read back) or Keystone's defaults.
type DomainConfig map[string]map[string]any

// ConfigObject is a JSON object of a configuration request with its members
// in request order: Keystone's messages name the first offending one.
type ConfigObject []ConfigMember

// ConfigMember is one member of a ConfigObject.
type ConfigMember struct {
	Key   string
	Value any
}

// MarshalJSON writes o as a JSON object in its order, as Keystone's
// json.dumps keeps a request's.
func (o ConfigObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(m.Key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(m.Value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// configWhitelisted are the options Keystone stores and shows
// (whitelisted_options), in its order; configSensitive those it stores and
// never shows. Read-only.
var (
	configWhitelisted = map[string][]string{
		"identity": {"driver", "list_limit"},
		"ldap": {
			"url", "user", "suffix", "query_scope", "page_size", "alias_dereferencing", "debug_level",
			"chase_referrals", "user_tree_dn", "user_filter", "user_objectclass", "user_id_attribute",
			"user_name_attribute", "user_mail_attribute", "user_description_attribute", "user_pass_attribute",
			"user_enabled_attribute", "user_enabled_invert", "user_enabled_mask", "user_enabled_default",
			"user_attribute_ignore", "user_default_project_id_attribute", "user_enabled_emulation",
			"user_enabled_emulation_dn", "user_enabled_emulation_use_group_config",
			"user_additional_attribute_mapping", "group_tree_dn", "group_filter", "group_objectclass",
			"group_id_attribute", "group_name_attribute", "group_members_are_ids", "group_member_attribute",
			"group_desc_attribute", "group_attribute_ignore", "group_additional_attribute_mapping",
			"tls_cacertfile", "tls_cacertdir", "use_tls", "tls_req_cert", "use_pool", "pool_size",
			"pool_retry_max", "pool_retry_delay", "pool_connection_timeout", "pool_connection_lifetime",
			"use_auth_pool", "auth_pool_size", "auth_pool_connection_lifetime",
		},
	}
	configSensitive = map[string][]string{"identity": {}, "ldap": {"password"}}
)

// configDefault is Keystone's default of a whitelisted option (keystone/conf
// identity.py and ldap.py; nil where the option has none).
func configDefault(group, option string) any {
	switch group + "." + option {
	case "identity.driver":
		return "sql"
	case "ldap.url":
		return "ldap://localhost"
	case "ldap.suffix":
		return "cn=example,cn=com"
	case "ldap.query_scope":
		return "one"
	case "ldap.page_size", "ldap.user_enabled_mask":
		return 0
	case "ldap.alias_dereferencing":
		return "default"
	case "ldap.user_objectclass":
		return "inetOrgPerson"
	case "ldap.user_id_attribute", "ldap.group_id_attribute":
		return "cn"
	case "ldap.user_name_attribute":
		return "sn"
	case "ldap.user_description_attribute", "ldap.group_desc_attribute":
		return "description"
	case "ldap.user_mail_attribute":
		return "mail"
	case "ldap.user_pass_attribute":
		return "userPassword"
	case "ldap.user_enabled_attribute":
		return "enabled"
	case "ldap.user_enabled_invert", "ldap.user_enabled_emulation", "ldap.user_enabled_emulation_use_group_config",
		"ldap.group_members_are_ids", "ldap.use_tls":
		return false
	case "ldap.user_enabled_default":
		return "True"
	case "ldap.user_attribute_ignore":
		return []string{"default_project_id"}
	case "ldap.user_additional_attribute_mapping", "ldap.group_attribute_ignore", "ldap.group_additional_attribute_mapping":
		return []string{}
	case "ldap.group_objectclass":
		return "groupOfNames"
	case "ldap.group_name_attribute":
		return "ou"
	case "ldap.group_member_attribute":
		return "member"
	case "ldap.tls_req_cert":
		return "demand"
	case "ldap.use_pool", "ldap.use_auth_pool":
		return true
	case "ldap.pool_size":
		return 10
	case "ldap.pool_retry_max":
		return 3
	case "ldap.pool_retry_delay":
		return 0.1
	case "ldap.pool_connection_timeout":
		return -1
	case "ldap.pool_connection_lifetime":
		return 600
	case "ldap.auth_pool_size":
		return 100
	case "ldap.auth_pool_connection_lifetime":
		return 60
	}
	return nil
}

// invalidConfig is Keystone's InvalidDomainConfig, a 403.
func invalidConfig(format string, args ...any) error {
	return errs.Forbidden("Invalid domain specific configuration: %s.", fmt.Sprintf(format, args...))
}

// configNotFound is Keystone's DomainConfigNotFound for what the request
// names: all options, a group or an option.
func configNotFound(domainID, group, option string) error {
	what := "any options"
	switch {
	case option != "":
		what = fmt.Sprintf("option %s in group %s", option, group)
	case group != "":
		what = "group " + group
	}
	return errs.NotFound("Could not find %s in domain configuration for domain %s.", what, domainID)
}

// checkGroupOption is Keystone's _assert_valid_group_and_option: a group,
// when named, must be identity or ldap, and an option one of its own.
func checkGroupOption(group, option string) error {
	if group == "" {
		return nil
	}
	white, known := configWhitelisted[group]
	if !known {
		return invalidConfig("Group %s is not supported for domain specific configurations", group)
	}
	if option != "" && !slices.Contains(white, option) && !slices.Contains(configSensitive[group], option) {
		return invalidConfig("Option %s in group %s is not supported for domain specific configurations", option, group)
	}
	return nil
}

func isSensitive(group, option string) bool { return slices.Contains(configSensitive[group], option) }

// truthy is Python's truth of a decoded JSON value, which Keystone's
// checks test ("if not config").
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case json.Number:
		f, err := x.Float64()
		return err != nil || f != 0
	case float64:
		return x != 0
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	case ConfigObject:
		return len(x) > 0
	}
	return true
}

// configOption is one option of a request, ready to store.
type configOption struct {
	group, option string
	value         string // JSON text
	sensitive     bool
}

// requestOptions is Keystone's _assert_valid_config followed by
// _config_to_list: a non-empty object of groups, each a non-empty object
// of supported options.
func requestOptions(config any) ([]configOption, error) {
	if !truthy(config) {
		return nil, invalidConfig("No options specified")
	}
	groups, ok := config.(ConfigObject)
	if !ok {
		// Keystone fails with a 500 iterating it; it is the client's error.
		return nil, errs.Invalid("Expecting to find config in request body. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
	}
	var out []configOption
	for _, g := range groups {
		opts, ok := g.Value.(ConfigObject)
		if !ok || len(opts) == 0 {
			return nil, invalidConfig("The value of group %s specified in the config should be a dictionary of options", g.Key)
		}
		for _, o := range opts {
			if err := checkGroupOption(g.Key, o.Key); err != nil {
				return nil, err
			}
			text, err := json.Marshal(o.Value)
			if err != nil {
				return nil, fmt.Errorf("config option %s.%s: %w", g.Key, o.Key, err)
			}
			out = append(out, configOption{group: g.Key, option: o.Key, value: string(text), sensitive: isSensitive(g.Key, o.Key)})
		}
	}
	return out, nil
}

// storedOption is a row of domain_config.
type storedOption struct {
	group, option, value string
	sensitive            bool
}

// configRows reads a domain's options, narrowed to a group and option
// when named, sensitive ones included.
func configRows(ctx context.Context, q store.Querier, domainID, group, option string) ([]storedOption, error) {
	var c conds
	c.add("domain_id = ?", domainID)
	if group != "" {
		c.add("group_name = ?", group)
		if option != "" {
			c.add("option_name = ?", option)
		}
	}
	rows, err := q.QueryContext(ctx, `SELECT group_name, option_name, value, sensitive FROM domain_config`+c.where()+
		` ORDER BY group_name, option_name`, c.args...)
	if err != nil {
		return nil, fmt.Errorf("read config of domain %s: %w", domainID, err)
	}
	defer rows.Close()
	var out []storedOption
	for rows.Next() {
		var o storedOption
		if err := rows.Scan(&o.group, &o.option, &o.value, &o.sensitive); err != nil {
			return nil, fmt.Errorf("read config of domain %s: %w", domainID, err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read config of domain %s: %w", domainID, err)
	}
	return out, nil
}

// shown is the configuration of the rows that may be shown (the
// whitelisted ones).
func shown(rows []storedOption) DomainConfig {
	out := DomainConfig{}
	for _, r := range rows {
		if r.sensitive {
			continue
		}
		if out[r.group] == nil {
			out[r.group] = map[string]any{}
		}
		out[r.group][r.option] = json.RawMessage(r.value)
	}
	return out
}

func insertOptions(ctx context.Context, tx *store.Tx, seal func(string) string, domainID string, opts []configOption) error {
	for _, o := range opts {
		value := o.value
		if o.sensitive {
			value = seal(value)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO domain_config (domain_id, group_name, option_name, value, sensitive) VALUES (?, ?, ?, ?, ?)`,
			domainID, o.group, o.option, value, o.sensitive); err != nil {
			return fmt.Errorf("store config option %s.%s of domain %s: %w", o.group, o.option, domainID, err)
		}
	}
	return nil
}

// CreateDomainConfig replaces a domain's configuration with config (a
// ConfigObject of groups) and returns what of it may be shown; replaced
// tells whether the domain had one (Keystone then answers 200, not 201).
func (s *Service) CreateDomainConfig(ctx context.Context, domainID string, config any) (out DomainConfig, replaced bool, err error) {
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getDomain(ctx, tx, domainID); err != nil {
			return err
		}
		old, err := configRows(ctx, tx, domainID, "", "")
		if err != nil {
			return err
		}
		replaced = len(old) > 0
		opts, err := requestOptions(config)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM domain_config WHERE domain_id = ?`, domainID); err != nil {
			return fmt.Errorf("replace config of domain %s: %w", domainID, err)
		}
		if err := insertOptions(ctx, tx, s.opts.Secrets.Seal, domainID, opts); err != nil {
			return err
		}
		rows, err := configRows(ctx, tx, domainID, "", "")
		out = shown(rows)
		return err
	})
	return out, replaced, err
}

// GetDomainConfig is a domain's configuration, or a group's or an
// option's of it, without the sensitive options: Keystone's get_config,
// a 404 when nothing of it may be shown.
func (s *Service) GetDomainConfig(ctx context.Context, domainID, group, option string) (DomainConfig, error) {
	if err := checkGroupOption(group, option); err != nil {
		return nil, err
	}
	rows, err := configRows(ctx, s.db, domainID, group, option)
	if err != nil {
		return nil, err
	}
	// Keystone reports a missing domain only after this read, which finds
	// nothing for it (a configuration goes with its domain): the 404 is
	// this one.
	out := shown(rows)
	if len(out) == 0 {
		return nil, configNotFound(domainID, group, option)
	}
	return out, nil
}

// UpdateDomainConfig merges config into a domain's configuration (Keystone's
// update_config): with a group named, config may hold only that group,
// and with an option, config is that option's {option: value}; both must
// exist already. It returns the whole configuration as GetDomainConfig
// shows it.
func (s *Service) UpdateDomainConfig(ctx context.Context, domainID, group, option string, config any) (DomainConfig, error) {
	if group != "" && option != "" {
		config = ConfigObject{{Key: group, Value: config}}
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getDomain(ctx, tx, domainID); err != nil {
			return err
		}
		opts, err := requestOptions(config)
		if err != nil {
			return err
		}
		if err := checkGroupOption(group, option); err != nil {
			return err
		}
		if group != "" {
			if err := checkUpdateScope(config.(ConfigObject), group, option); err != nil {
				return err
			}
			existing, err := configRows(ctx, tx, domainID, group, option)
			if err != nil {
				return err
			}
			if len(existing) == 0 {
				return configNotFound(domainID, group, option)
			}
		}
		for _, o := range opts {
			if _, err := tx.ExecContext(ctx, `DELETE FROM domain_config WHERE domain_id = ? AND group_name = ? AND option_name = ?`,
				domainID, o.group, o.option); err != nil {
				return fmt.Errorf("update config of domain %s: %w", domainID, err)
			}
		}
		return insertOptions(ctx, tx, s.opts.Secrets.Seal, domainID, opts)
	})
	if err != nil {
		return nil, err
	}
	// As in Keystone the answer is read after the change is stored: an
	// update leaving only sensitive options stores them and answers 404.
	return s.GetDomainConfig(ctx, domainID, "", "")
}

// checkUpdateScope is the part of Keystone's _assert_valid_update for an
// update of one group or option: the config holds that, and only that.
func checkUpdateScope(config ConfigObject, group, option string) error {
	if len(config) != 1 || (option != "" && len(config[0].Value.(ConfigObject)) != 1) {
		if option != "" {
			return invalidConfig("Trying to update option %s in group %s, so that, and only that, option must be specified  in the config", option, group)
		}
		return invalidConfig("Trying to update group %s, so that, and only that, group must be specified in the config", group)
	}
	if config[0].Key != group {
		return invalidConfig("request to update group %s, but config provided contains group %s instead", group, config[0].Key)
	}
	if opts := config[0].Value.(ConfigObject); option != "" && opts[0].Key != option {
		return invalidConfig("Trying to update option %s in group %s, but config provided contains option %s instead", option, group, opts[0].Key)
	}
	return nil
}

// DeleteDomainConfig deletes a domain's configuration, a group of it or
// an option (Keystone's delete_config): a group or option named must be
// set, and an option set to a false value (0, "", false, null) counts as
// not set, as in Keystone.
func (s *Service) DeleteDomainConfig(ctx context.Context, domainID, group, option string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := getDomain(ctx, tx, domainID); err != nil {
			return err
		}
		if err := checkGroupOption(group, option); err != nil {
			return err
		}
		q, args := `DELETE FROM domain_config WHERE domain_id = ?`, []any{domainID}
		if group != "" {
			rows, err := configRows(ctx, tx, domainID, group, "")
			if err != nil {
				return err
			}
			if len(rows) == 0 {
				return configNotFound(domainID, group, "")
			}
			q, args = q+` AND group_name = ?`, append(args, group)
			if option != "" {
				set, err := s.optionSet(rows, option)
				if err != nil {
					return err
				}
				if !set {
					return configNotFound(domainID, group, option)
				}
				q, args = q+` AND option_name = ?`, append(args, option)
			}
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("delete config of domain %s: %w", domainID, err)
		}
		return nil
	})
}

// optionSet reports whether rows set option to a true value.
func (s *Service) optionSet(rows []storedOption, option string) (bool, error) {
	for _, r := range rows {
		if r.option != option {
			continue
		}
		text := r.value
		if r.sensitive {
			plain, err := s.opts.Secrets.Open(text)
			if err != nil {
				return false, fmt.Errorf("open config option %s.%s: %w", r.group, r.option, err)
			}
			text = plain
		}
		var v any
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			return false, fmt.Errorf("config option %s.%s: %w", r.group, r.option, err)
		}
		return truthy(v), nil
	}
	return false, nil
}

// DefaultDomainConfig is Keystone's get_config_default: the defaults of the
// whitelisted options, of a group or of one option. Sensitive options have
// none to show.
func DefaultDomainConfig(group, option string) (DomainConfig, error) {
	if err := checkGroupOption(group, option); err != nil {
		return nil, err
	}
	if option != "" && !slices.Contains(configWhitelisted[group], option) {
		return nil, invalidConfig("Reading the default for option %s in group %s is not supported", option, group)
	}
	out := DomainConfig{}
	for g, opts := range configWhitelisted {
		if group != "" && g != group {
			continue
		}
		out[g] = map[string]any{}
		for _, o := range opts {
			if option == "" || o == option {
				out[g][o] = configDefault(g, o)
			}
		}
	}
	return out, nil
}

// securityComplianceReadable are the [security_compliance] options
// Keystone lets anyone read.
var securityComplianceReadable = []string{"password_regex", "password_regex_description"}

// SecurityComplianceConfig is Keystone's get_security_compliance_config
// for the Default domain: its password_regex and password_regex_description.
// kumo enforces no password pattern, so both are null, as in a Keystone
// without them set. The lockout options are not readable in Keystone
// either.
func (s *Service) SecurityComplianceConfig(ctx context.Context, domainID, option string) (DomainConfig, error) {
	if domainID != DefaultDomainID {
		return nil, invalidConfig("Reading security compliance information for any domain other than the default domain is not allowed or supported.")
	}
	if option != "" && !slices.Contains(securityComplianceReadable, option) {
		return nil, invalidConfig("Reading security compliance values other than password_regex and password_regex_description is not allowed.")
	}
	out := DomainConfig{"security_compliance": {}}
	for _, o := range securityComplianceReadable {
		if option == "" || o == option {
			out["security_compliance"][o] = nil
		}
	}
	if _, err := getDomain(ctx, s.db, domainID); err != nil {
		return nil, err
	}
	return out, nil
}
