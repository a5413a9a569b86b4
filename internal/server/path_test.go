package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawPaths is a cloud that records each request's path as sent (escaped)
// and knows nothing: lists are empty, everything else is 404.
type rawPaths struct {
	mu   sync.Mutex
	uris []string
	srv  *httptest.Server
}

func newRawPaths(t *testing.T) *rawPaths {
	r := &rawPaths{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.uris = append(r.uris, req.URL.EscapedPath())
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(req.URL.Path, "/flavors/detail"):
			_ = json.NewEncoder(w).Encode(map[string]any{"flavors": []any{}})
		case strings.HasSuffix(req.URL.Path, "/servers/detail"), strings.HasSuffix(req.URL.Path, "/servers"):
			_ = json.NewEncoder(w).Encode(map[string]any{"servers": []any{}})
		case strings.HasSuffix(req.URL.Path, "/images"):
			_ = json.NewEncoder(w).Encode(map[string]any{"images": []any{}})
		case strings.HasSuffix(req.URL.Path, "/networks"):
			_ = json.NewEncoder(w).Encode(map[string]any{"networks": []any{}})
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"itemNotFound": {"code": 404, "message": "not found"}}`))
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *rawPaths) clients() Clients {
	c := func(base string) *gophercloud.ServiceClient {
		return &gophercloud.ServiceClient{ProviderClient: &gophercloud.ProviderClient{HTTPClient: http.Client{}}, Endpoint: r.srv.URL + base}
	}
	return Clients{Compute: c("/compute/v2.1/"), Image: c("/image/v2/"), Network: c("/network/v2.0/"), Baremetal: c("/baremetal/v1/")}
}

func (r *rawPaths) sent() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.uris...)
}

// Names and IDs from the options reach Nova, Neutron and Ironic as one
// escaped path segment each; those no escaping saves ('.', '..', holding
// '/') are refused naming the option, before any request carries them.
func TestInputNamesInURLPaths(t *testing.T) {
	escaped := []string{"q?x=1", "h#frag", "p%41", "%2e%2e", "sp ace"}
	refused := []string{"../ports", "a/b", "..", "."}

	for _, ref := range append(escaped, refused...) {
		t.Run(ref, func(t *testing.T) {
			r := newRawPaths(t)
			d := Desired{Name: "srv", State: StatePresent, Image: "img", Flavor: ref, KeyName: ref,
				Nics:             Nics{List: []NIC{{PortID: ref}, {NetID: ref}}},
				AvailabilityZone: "nova::" + ref}
			o, err := Observe(context.Background(), r.clients(), d)
			require.NoError(t, err)
			problems := strings.Join(o.Problems, "\n")
			sent := r.sent()
			seg := url.PathEscape(ref)
			isRefused := strings.Contains(ref, "/") || ref == "." || ref == ".."
			for _, want := range []string{"/compute/v2.1/flavors/" + seg, "/compute/v2.1/os-keypairs/" + seg,
				"/network/v2.0/ports/" + seg, "/network/v2.0/networks/" + seg, "/baremetal/v1/nodes/" + seg} {
				if isRefused {
					assert.NotContains(t, sent, want)
				} else {
					assert.Contains(t, sent, want)
				}
			}
			for _, uri := range sent {
				assert.NotContains(t, uri, "/ports/ports", "a name stepped to another resource")
				for _, s := range strings.Split(uri, "/") {
					assert.NotContains(t, []string{".", ".."}, s, uri)
				}
			}
			if isRefused {
				for _, opt := range []string{"key_name: ", "nics[0].port-id: ", "nics[1].net-id: ", "availability_zone: node "} {
					assert.Contains(t, problems, opt+`"`+ref+`" cannot be used in a URL path`)
				}
			}
			// A flavor ref that cannot be an ID is still looked up by name.
			assert.Contains(t, problems, `flavor: Nova has no flavor with name or ID "`+ref+`"`)
		})
	}
}
