package v2xml

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/kumocloud/kumo/internal/api"
)

// badBody is old Nova's answer to a body its XML deserializer could not
// read (MalformedRequestBody in wsgi.Resource), DTDs and entities
// included (safe_minidom_parse_string raises the same ExpatError).
const badBody = "Malformed request body"

// Handler serves XML on the legacy /v2 service next, mounted at mount:
// a ".xml" or ".json" suffix or the Accept header picks the reply's
// format (JSON by default), an XML body is read into its JSON document.
// Anything else reaches next as it came.
func Handler(mount string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, format := splitSuffix(r.URL.Path)
		xmlOut := format == "xml" || format == "" && wantsXML(r.Header.Get("Accept"))
		if format != "" {
			r = r.Clone(r.Context())
			r.URL.Path = path
			r.URL.RawPath = ""
		}
		if IsXMLType(r.Header.Get("Content-Type")) {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					writeFault(w, xmlOut, http.StatusRequestEntityTooLarge, "Request is too large.")
					return
				}
				writeFault(w, xmlOut, http.StatusBadRequest, badBody)
				return
			}
			doc, err := []byte(nil), error(nil)
			if len(bytes.TrimSpace(body)) > 0 {
				// An empty body goes on as one, for the handler to judge.
				doc, err = ToJSON(body)
			}
			if err != nil {
				writeFault(w, xmlOut, http.StatusBadRequest, badBody)
				return
			}
			r = r.Clone(r.Context())
			r.Body = io.NopCloser(bytes.NewReader(doc))
			r.ContentLength = int64(len(doc))
			r.Header.Set("Content-Type", "application/json")
		}
		if !xmlOut {
			next.ServeHTTP(w, r)
			return
		}
		rec := &recorder{w: w, header: http.Header{}}
		next.ServeHTTP(rec, r)
		if rec.hijacked {
			return
		}
		body := rec.body.Bytes()
		if strings.HasPrefix(rec.header.Get("Content-Type"), "application/json") && len(body) > 0 {
			c := Context{Status: rec.status, Path: below(mount, r.URL.Path)}
			if x, err := Render(c, body); err == nil {
				body = x
				rec.header.Set("Content-Type", ContentType)
			}
		}
		h := w.Header()
		for k, vs := range rec.header {
			h[k] = vs
		}
		if rec.header.Get("Content-Length") != "" {
			h.Set("Content-Length", strconv.Itoa(len(body)))
		}
		w.WriteHeader(rec.statusOr200())
		_, _ = w.Write(body)
	})
}

// below is path after the mount and the optional project id segment;
// only its shape (".../ips/...") matters to Render.
func below(mount, path string) string {
	return strings.TrimPrefix(path, mount)
}

// writeFault answers a request the wrapper refuses itself, in XML when
// the client asked for XML.
func writeFault(w http.ResponseWriter, xmlOut bool, status int, message string) {
	ct, body := api.NovaFault(status, message)
	if xmlOut {
		if x, err := Render(Context{Status: status}, body); err == nil {
			ct, body = ContentType, x
		}
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// recorder holds a reply so its JSON can be rewritten; it lets an
// injected reset reach the connection (Unwrap).
type recorder struct {
	w        http.ResponseWriter
	header   http.Header
	status   int
	body     bytes.Buffer
	hijacked bool
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func (r *recorder) statusOr200() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// Flush keeps a flush (through http.ResponseController) off Unwrap: the
// reply is sent whole once rendered.
func (r *recorder) Flush() {}

// Unwrap lets http.ResponseController hijack the real connection; what
// was recorded is then dropped.
func (r *recorder) Unwrap() http.ResponseWriter {
	r.hijacked = true
	return r.w
}
