package metadata

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// The OpenStack layout's versions (nova/api/metadata/base.py), oldest first;
// "latest" is the last.
const (
	folsom    = "2012-08-10"
	grizzly   = "2013-04-04"
	havana    = "2013-10-17"
	liberty   = "2015-10-15"
	newtonOne = "2016-06-30"
	newtonTwo = "2016-10-06"
	ocata     = "2017-02-22"
	rocky     = "2018-08-27"
	victoria  = "2020-10-14"
	epoxy     = "2025-04-04"
)

var openstackVersions = []string{folsom, grizzly, havana, liberty, newtonOne, newtonTwo, ocata, rocky, victoria, epoxy}

// filePrefix is where Source.Files keeps the OpenStack files.
const filePrefix = "openstack/latest/"

// openstackVersion resolves "latest"; ok=false for an unknown version.
func openstackVersion(v string) (string, bool) {
	if v == "latest" {
		return openstackVersions[len(openstackVersions)-1], true
	}
	return v, slices.Contains(openstackVersions, v)
}

// since tells whether version v has what came with version required.
func since(v, required string) bool {
	return slices.Index(openstackVersions, v) >= slices.Index(openstackVersions, required)
}

// openstack serves /openstack/...; tokens follow "openstack".
func (h *handler) openstack(ctx context.Context, req *http.Request, id string, tokens []string) (reply, error) {
	if len(tokens) == 0 {
		// Nova hides versions dated in the future; all of these are past.
		return readOnly(req, text(strings.Join(openstackVersions, "\n")+"\nlatest")), nil
	}
	if tokens[0] == "content" {
		// Injected files (personality) live here in Nova; a Source may give
		// them as "openstack/content/0000".
		if len(tokens) != 2 {
			return notFound(), nil
		}
		files, err := h.files(ctx, id)
		if err != nil {
			return reply{}, err
		}
		b, ok := files["openstack/content/"+tokens[1]]
		if !ok {
			return notFound(), nil
		}
		return readOnly(req, raw(b)), nil
	}
	version, ok := openstackVersion(tokens[0])
	if !ok {
		return notFound(), nil
	}
	name := strings.Join(tokens[1:], "/")
	if name == "password" {
		if !since(version, grizzly) {
			return notFound(), nil
		}
		return h.password(ctx, req, id)
	}
	files, err := h.files(ctx, id)
	if err != nil {
		return reply{}, err
	}
	switch name {
	case "":
		return readOnly(req, text(strings.Join(versionListing(version, files), "\n"))), nil
	case "meta_data.json":
		b, err := metaDataJSON(files[filePrefix+"meta_data.json"], version)
		if err != nil {
			return reply{}, err
		}
		return readOnly(req, jsonReply(b)), nil
	case "user_data":
		b, ok := files[filePrefix+"user_data"]
		if !ok {
			return notFound(), nil
		}
		return readOnly(req, raw(b)), nil
	case "network_data.json":
		// Nova serves it for every version though it lists it from Liberty.
		return readOnly(req, jsonReply(orEmptyObject(files[filePrefix+"network_data.json"]))), nil
	case "vendor_data.json":
		if !since(version, havana) {
			return notFound(), nil
		}
		return readOnly(req, jsonReply(orEmptyObject(files[filePrefix+"vendor_data.json"]))), nil
	case "vendor_data2.json":
		if !since(version, newtonTwo) {
			return notFound(), nil
		}
		b, ok := files[filePrefix+"vendor_data2.json"]
		if !ok {
			// Nova's StaticJSON provider's answer, under "static".
			b = []byte(`{"static": ` + string(orEmptyObject(files[filePrefix+"vendor_data.json"])) + `}`)
		}
		return readOnly(req, jsonReply(b)), nil
	}
	return notFound(), nil
}

// versionListing is /openstack/<version>/ as Nova lists it.
func versionListing(version string, files map[string][]byte) []string {
	list := []string{"meta_data.json"}
	if _, ok := files[filePrefix+"user_data"]; ok {
		list = append(list, "user_data")
	}
	if since(version, grizzly) {
		list = append(list, "password")
	}
	if since(version, havana) {
		list = append(list, "vendor_data.json")
	}
	if since(version, liberty) {
		list = append(list, "network_data.json")
	}
	if since(version, newtonTwo) {
		list = append(list, "vendor_data2.json")
	}
	return list
}

func (h *handler) files(ctx context.Context, id string) (map[string][]byte, error) {
	files, err := h.src.Files(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("metadata files of server %s: %w", id, err)
	}
	if _, ok := files[filePrefix+"meta_data.json"]; !ok {
		return nil, fmt.Errorf("metadata files of server %s: no meta_data.json", id)
	}
	return files, nil
}

func orEmptyObject(b []byte) []byte {
	if len(b) == 0 {
		return []byte("{}")
	}
	return b
}

// metaDataJSON is meta_data.json as Nova's metadata API serves it for
// version: without the config drive's admin_pass, a fresh random_seed
// (Grizzly on), and the keys that came later only from their versions.
func metaDataJSON(drive []byte, version string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(drive, &m); err != nil {
		return nil, fmt.Errorf("decode meta_data.json: %w", err)
	}
	delete(m, "admin_pass")
	delete(m, "random_seed")
	if since(version, grizzly) {
		seed := make([]byte, 512)
		_, _ = rand.Read(seed) // never fails (crypto/rand)
		m["random_seed"], _ = json.Marshal(base64.StdEncoding.EncodeToString(seed))
	}
	sinceOr := func(key, required, empty string) {
		if !since(version, required) {
			delete(m, key)
		} else if _, ok := m[key]; !ok && empty != "" {
			m[key] = json.RawMessage(empty)
		}
	}
	sinceOr("project_id", liberty, "")
	sinceOr("devices", newtonOne, "[]")
	sinceOr("dedicated_cpus", victoria, "[]")
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode meta_data.json: %w", err)
	}
	return b, nil
}
