package mv

import (
	"errors"
	"net/http"
	"testing"
)

func TestVolumeScheme(t *testing.T) {
	t.Parallel()
	s := Volume(VolumeSupported())
	for _, tc := range []struct {
		header string // "" sends none
		want   Version
		err    error
	}{
		{"", V3_0, nil},
		{"volume 3.27", V3_27, nil},
		{"volume latest", V3_71, nil},
		{"compute 2.1, volume 3.44", V3_44, nil},
		{"volume 3.0", V3_0, nil},
		{"volume LATEST", Version{}, ErrMalformed},
		{"volume 3.72", Version{}, ErrUnsupported},
		{"volume 2.0", Version{}, ErrUnsupported},
		{"volume 99999999999999999999.1", Version{}, ErrUnsupported},
		{"volume 3.01", Version{}, ErrMalformed},
		{"volume 3", Version{}, ErrMalformed},
		{"compute 2.1", Version{}, ErrMalformed},
		{"volume", Version{}, ErrMalformed},
	} {
		h := http.Header{}
		if tc.header != "" {
			h.Set(HeaderNew, tc.header)
		}
		v, err := s.Negotiate(h)
		if !errors.Is(err, tc.err) || (err == nil && v != tc.want) {
			t.Errorf("%q: %v %v, want %v %v", tc.header, v, err, tc.want, tc.err)
		}
	}
	h := http.Header{}
	s.SetResponseHeaders(h, V3_27)
	if h.Get(HeaderNew) != "volume 3.27" || h.Get("Vary") != HeaderNew || h.Get(HeaderLegacy) != "" {
		t.Errorf("response headers %v", h)
	}
}
