package main

import (
	"encoding/json"
	"testing"
)

func TestCreateBody(t *testing.T) {
	for _, tc := range []struct {
		name     string
		networks string
		opts     []serverOption
		want     string
	}{
		{"networks setting", "none", nil, `{"server":{"flavorRef":"f","imageRef":"i","name":"s","networks":"none"}}`},
		{"networks omitted", "", nil, `{"server":{"flavorRef":"f","imageRef":"i","name":"s"}}`},
		{"on a port instead of the setting", "auto", []serverOption{onPorts("p1")},
			`{"server":{"flavorRef":"f","imageRef":"i","name":"s","networks":[{"port":"p1"}]}}`},
		{"on two ports", "", []serverOption{onPorts("p1", "p2")},
			`{"server":{"flavorRef":"f","imageRef":"i","name":"s","networks":[{"port":"p1"},{"port":"p2"}]}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &bench{flavor: "f", image: "i", networks: tc.networks}
			raw, err := json.Marshal(b.createBody("s", tc.opts...))
			if err != nil {
				t.Fatal(err)
			}
			if string(raw) != tc.want {
				t.Errorf("body %s, want %s", raw, tc.want)
			}
		})
	}
}
