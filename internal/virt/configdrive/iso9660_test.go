package configdrive

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kumocloud/kumo/internal/virt"
)

// readISO walks an image the way a reader does (PVD → root → records) and
// returns its files, checking both-endian fields agree.
func readISO(t *testing.T, img []byte) (label string, files map[string]string) {
	t.Helper()
	if len(img)%sector != 0 || len(img) < 18*sector {
		t.Fatalf("image size %d", len(img))
	}
	pvd := img[16*sector:]
	if pvd[0] != 1 || string(pvd[1:6]) != "CD001" {
		t.Fatalf("no primary volume descriptor")
	}
	if img[17*sector] != 255 {
		t.Fatalf("no terminator")
	}
	if got := int(both32(t, pvd[80:])); got*sector != len(img) {
		t.Fatalf("volume size %d sectors, image %d bytes", got, len(img))
	}
	files = map[string]string{}
	var walk func(prefix string, extent, size uint32)
	walk = func(prefix string, extent, size uint32) {
		buf := img[extent*sector : extent*sector+size]
		for off := 0; off < len(buf); {
			l := int(buf[off])
			if l == 0 { // rest of sector is padding
				off += sector - off%sector
				continue
			}
			rec := buf[off : off+l]
			off += l
			id := string(rec[33 : 33+int(rec[32])])
			if id == "\x00" || id == "\x01" {
				continue
			}
			ext, sz := both32(t, rec[2:]), both32(t, rec[10:])
			if rec[25]&2 != 0 {
				walk(prefix+id+"/", ext, sz)
			} else {
				files[prefix+strings.TrimSuffix(id, ";1")] = string(img[ext*sector : ext*sector+sz])
			}
		}
	}
	root := pvd[156:190]
	walk("", both32(t, root[2:]), both32(t, root[10:]))
	return strings.TrimRight(string(pvd[40:72]), " "), files
}

func both32(t *testing.T, b []byte) uint32 {
	le, be := binary.LittleEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
	if le != be {
		t.Fatalf("both-endian mismatch %d != %d", le, be)
	}
	return le
}

func TestWriteISO(t *testing.T) {
	many := map[string][]byte{}
	for i := range 120 { // more records than fit one directory sector
		many[fmt.Sprintf("d/file-with-a-long-name-%03d", i)] = []byte{byte(i)}
	}
	big := bytes.Repeat([]byte("x"), 5000)
	tests := []struct {
		name  string
		files map[string][]byte
	}{
		{"empty", map[string][]byte{}},
		{"nested", map[string][]byte{"openstack/latest/meta_data.json": []byte(`{"a":1}`), "openstack/latest/user_data": []byte("hi"), "top": nil}},
		{"multi-sector file", map[string][]byte{"a/b": big, "a/c": []byte("c")}},
		{"multi-sector directory", many},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteISO(&buf, "config-2", tc.files, time.Unix(1700000000, 0)); err != nil {
				t.Fatal(err)
			}
			label, got := readISO(t, buf.Bytes())
			if label != "config-2" {
				t.Errorf("label %q", label)
			}
			if len(got) != len(tc.files) {
				t.Errorf("got %d files, want %d", len(got), len(tc.files))
			}
			for p, want := range tc.files {
				if got[p] != string(want) {
					t.Errorf("%s = %q, want %q", p, got[p], want)
				}
			}
		})
	}
}

func TestWriteISORejectsFileAndDirectoryClash(t *testing.T) {
	err := WriteISO(&bytes.Buffer{}, "x", map[string][]byte{"a": nil, "a/b": nil}, time.Now())
	if err == nil {
		t.Fatal("want an error for a path that is both file and directory")
	}
}

func TestConfigDriveLayout(t *testing.T) {
	g := &virt.Guest{ID: "u-1", Name: "vm", Hostname: "vm-host", AvailabilityZone: "nova", KeyName: "k",
		PublicKey: "ssh-ed25519 AAA", Metadata: map[string]string{"role": "web"}, UserData: []byte(base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\n"))),
		NICs: []virt.NIC{{Network: "net", MAC: "fa:16:3e:00:00:01"}}}
	var buf bytes.Buffer
	if err := Write(&buf, g, time.Now()); err != nil {
		t.Fatal(err)
	}
	label, files := readISO(t, buf.Bytes())
	if label != Label {
		t.Errorf("label %q", label)
	}
	var md map[string]any
	if err := json.Unmarshal([]byte(files["openstack/latest/meta_data.json"]), &md); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"uuid": "u-1", "name": "vm", "hostname": "vm-host", "availability_zone": "nova"} {
		if md[k] != want {
			t.Errorf("meta_data %s = %v, want %v", k, md[k], want)
		}
	}
	if pk, _ := md["public_keys"].(map[string]any); pk["k"] != "ssh-ed25519 AAA" {
		t.Errorf("public_keys = %v", md["public_keys"])
	}
	if m, _ := md["meta"].(map[string]any); m["role"] != "web" {
		t.Errorf("meta = %v", md["meta"])
	}
	if files["openstack/latest/user_data"] != "#!/bin/sh\n" {
		t.Errorf("user_data = %q", files["openstack/latest/user_data"])
	}
	if !strings.Contains(files["openstack/latest/network_data.json"], "fa:16:3e:00:00:01") {
		t.Errorf("network_data = %s", files["openstack/latest/network_data.json"])
	}
}
