package compute

import (
	"regexp"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	js "github.com/kumocloud/kumo/internal/api/jsonschema"
	"github.com/kumocloud/kumo/internal/mv"
)

// Nova's keypair name patterns (parameter_types.keypair_name_special_chars
// and its 2.92 version, which adds '@' and '.').
const (
	keypairNameShown     = `^[_\- a-zA-Z0-9]+$`
	keypairNameShownV292 = `^[_\-\@\. a-zA-Z0-9]+$`
)

var (
	keypairNamePattern     = regexp.MustCompile(`^[_\- a-zA-Z0-9]+$`)
	keypairNamePatternV292 = regexp.MustCompile(`^[_\-@. a-zA-Z0-9]+$`)
	keypairTypes           = []string{"ssh", "x509"}
)

// keypairCreate is a validated POST /os-keypairs body.
type keypairCreate struct {
	name      string
	keyType   string  // "" means ssh
	publicKey *string // nil: generate (refused by the schema from 2.92)
	userID    string  // "" means the caller
}

// keypairCreateFields lists the keypair keys Nova's create schema allows.
func keypairCreateFields(c *api.Call) []string {
	fields := []string{"name"}
	if c.AtLeast(mv.V2_2) {
		fields = append(fields, "type")
	}
	fields = append(fields, "public_key")
	if c.AtLeast(mv.V2_10) {
		fields = append(fields, "user_id")
	}
	return fields
}

// parseKeypairCreate validates a create body with Nova's schema for c's
// version (create_v20 on the legacy /v2 endpoint).
func parseKeypairCreate(c *api.Call, body any) (keypairCreate, error) {
	e := newSchemaErrors(c)
	var out keypairCreate
	root := e.checkObject(nil, body, []string{"keypair"}, []string{"keypair"})
	kv, has := root["keypair"]
	if !has {
		return out, e.err()
	}
	required := []string{"name"}
	if c.AtLeast(mv.V2_92) {
		required = append(required, "public_key")
	}
	fields := keypairCreateFields(c)
	kp := e.checkObject([]string{"keypair"}, kv, required, fields)
	if kp == nil {
		return out, e.err()
	}
	path := func(k string) []string { return []string{"keypair", k} }
	if v, ok := kp["name"]; ok {
		checkKeypairName(c, e, path("name"), v)
	}
	if v, ok := kp["type"]; ok && contains(fields, "type") && e.checkType(path("type"), v, "string") {
		if msg := enumCheck(keypairTypes)(v.(string)); msg != "" {
			e.add(path("type"), v, msg)
		}
	}
	if v, ok := kp["public_key"]; ok {
		e.checkType(path("public_key"), v, "string")
	}
	if v, ok := kp["user_id"]; ok && contains(fields, "user_id") {
		e.checkType(path("user_id"), v, "string")
	}
	if err := e.err(); err != nil {
		return out, err
	}
	// common.normalize_name: only the legacy schema lets spaces through.
	out.name = strings.TrimSpace(kp["name"].(string))
	if contains(fields, "type") {
		out.keyType, _ = kp["type"].(string)
	}
	if pk, ok := kp["public_key"].(string); ok {
		out.publicKey = &pk
	}
	if contains(fields, "user_id") {
		out.userID, _ = kp["user_id"].(string)
	}
	return out, nil
}

// checkKeypairName applies the name schema: the generic name format and
// length, then (from 2.1) the keypair character set.
func checkKeypairName(c *api.Call, e *schemaErrors, path []string, v any) {
	if !e.checkType(path, v, "string") {
		return
	}
	s := v.(string)
	if isLegacyV2(c) {
		if strings.TrimSpace(s) == "" || !js.Printable(s) {
			e.addRaw(len(path), "An invalid 'name' value was provided. The name must be: printable characters with at least one non space character")
		}
		e.checkLength(path, v, 1, 255)
		return
	}
	if !js.ValidName(s) {
		e.addRaw(len(path), "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace.")
	}
	e.checkLength(path, v, 1, 255)
	if c.AtLeast(mv.V2_92) {
		e.checkPattern(path, v, keypairNamePatternV292, keypairNameShownV292)
	} else {
		e.checkPattern(path, v, keypairNamePattern, keypairNameShown)
	}
}
