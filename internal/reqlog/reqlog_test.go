package reqlog_test

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/reqlog"
)

func ids(es []reqlog.Entry) string {
	var b []string
	for _, e := range es {
		b = append(b, e.RequestID)
	}
	return strings.Join(b, " ")
}

// TestBounded: the log keeps the latest Size entries, newest first.
func TestBounded(t *testing.T) {
	l := reqlog.New(3)
	if got := l.List(reqlog.Filter{}); len(got) != 0 || got == nil {
		t.Fatalf("empty log lists %#v, want an empty, non-nil list", got)
	}
	for i := 1; i <= 5; i++ {
		l.Add(reqlog.Entry{RequestID: fmt.Sprint(i)})
		want := []string{}
		for j := i; j > max(0, i-3); j-- {
			want = append(want, fmt.Sprint(j))
		}
		if got := ids(l.List(reqlog.Filter{})); got != strings.Join(want, " ") {
			t.Errorf("after %d adds: %q, want %q", i, got, strings.Join(want, " "))
		}
	}
	if got := ids(l.List(reqlog.Filter{Limit: 2})); got != "5 4" {
		t.Errorf("limit 2: %q", got)
	}
	if reqlog.New(0).Size() != reqlog.DefaultSize {
		t.Errorf("New(0) keeps %d", reqlog.New(0).Size())
	}
}

// TestConcurrent: adds and lists from many goroutines at once (run with
// -race) lose nothing the ring can hold.
func TestConcurrent(t *testing.T) {
	l := reqlog.New(1000)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				l.Add(reqlog.Entry{RequestID: fmt.Sprint(g, "-", i), Status: 200})
				_ = l.List(reqlog.Filter{Status: 200, Limit: 10})
			}
		}()
	}
	wg.Wait()
	if n := len(l.List(reqlog.Filter{Limit: 1000})); n != 800 {
		t.Errorf("%d entries, want 800", n)
	}
}

func TestFilter(t *testing.T) {
	l := reqlog.New(10)
	for _, e := range []reqlog.Entry{
		{RequestID: "a", Method: "GET", Path: "/v2.1/servers/detail?limit=5", Status: 200, ProjectID: "p1"},
		{RequestID: "b", Method: "POST", Path: "/v2.1/servers", Status: 202, ProjectID: "p1", ServerID: "s1"},
		{RequestID: "c", Method: "POST", Path: "/v2.1/servers/s1/action", Status: 409, ProjectID: "p2", ServerID: "s1"},
		{RequestID: "d", Method: "GET", Path: "/image/v2/images", Status: 503, ProjectID: "p2"},
	} {
		l.Add(e)
	}
	tests := []struct {
		query string
		want  string
	}{
		{"", "d c b a"},
		{"method=post", "c b"},
		{"status=4xx", "c"},
		{"status=5XX", "d"},
		{"status=202", "b"},
		{"path=servers", "c b a"},
		{"path=limit%3D5", "a"},
		{"project_id=p2", "d c"},
		{"server_id=s1", "c b"},
		{"request_id=b", "b"},
		{"method=POST&project_id=p1", "b"},
		{"limit=1", "d"},
		{"limit=99999", "d c b a"}, // lowered to the maximum
		{"method=&status=&path=&limit=", "d c b a"},
	}
	for _, tt := range tests {
		q, _ := url.ParseQuery(tt.query)
		f, err := reqlog.ParseFilter(q, 10)
		if err != nil {
			t.Errorf("%q: %v", tt.query, err)
			continue
		}
		if got := ids(l.List(f)); got != tt.want {
			t.Errorf("%q: %q, want %q", tt.query, got, tt.want)
		}
	}
}

func TestParseFilterErrors(t *testing.T) {
	tests := []struct{ query, want string }{
		{"status=abc", "Invalid status"},
		{"status=600", "Invalid status"},
		{"status=6xx", "Invalid status"},
		{"limit=0", "Invalid limit"},
		{"limit=x", "Invalid limit"},
		{"method=GE T", "Invalid method"},
		{"stauts=500", `Unknown filter "stauts"`},
		{"method=GET&method=POST", "once"},
	}
	for _, tt := range tests {
		q, _ := url.ParseQuery(tt.query)
		_, err := reqlog.ParseFilter(q, 10)
		if !errs.Is(err, errs.KindInvalid) || !strings.Contains(errs.Message(err), tt.want) {
			t.Errorf("%q: %v, want invalid: %s", tt.query, err, tt.want)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ path, query, want string }{
		{"/v2.1/servers", "", "/v2.1/servers"},
		{"/v2.1/servers/detail", "limit=5&name=web", "/v2.1/servers/detail?limit=5&name=web"},
		{"/x", "token=abc&limit=1", "/x?token=***&limit=1"},
		{"/x", "X_Auth_Token=abc", "/x?X_Auth_Token=***"},
		{"/x", "admin_password=p&client%5Fsecret=s&passwordless", "/x?admin_password=***&client%5Fsecret=***&passwordless"},
		{"/x", "a=1&&b", "/x?a=1&&b"},
		{"/v2.1/os-console-auth-tokens/abc123", "", "/v2.1/os-console-auth-tokens/***"},
	}
	for _, tt := range tests {
		if got := reqlog.Redact(tt.path, tt.query); got != tt.want {
			t.Errorf("Redact(%q, %q) = %q, want %q", tt.path, tt.query, got, tt.want)
		}
	}
}

// BenchmarkRecord is what the middleware adds to each request: the
// redacted path and one entry in a full ring.
func BenchmarkRecord(b *testing.B) {
	l := reqlog.New(reqlog.DefaultSize)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Add(reqlog.Entry{Method: "GET", Path: reqlog.Redact("/v2.1/servers/1302dc63-b2e8-4d23-a760-23d8f9994900/action", "limit=5&token=x"),
				Status: 200, RequestID: "req-1"})
		}
	})
}
