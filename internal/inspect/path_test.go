package inspect

import (
	"context"
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

// Each name in nodes reaches Ironic as one escaped path segment, and the
// server reads back exactly the name; names no escaping saves are refused
// naming their place in the list, before any request.
func TestNodeNamesInURLPaths(t *testing.T) {
	var mu sync.Mutex
	var raw, decoded []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		raw = append(raw, r.URL.EscapedPath())
		decoded = append(decoded, r.URL.Path)
		mu.Unlock()
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error_message": "{\"faultstring\": \"Node not found.\"}"}`))
	}))
	defer srv.Close()
	client := &gophercloud.ServiceClient{ProviderClient: &gophercloud.ProviderClient{HTTPClient: http.Client{}}, Endpoint: srv.URL + "/v1/"}

	for _, name := range []string{"q?x=1", "h#frag", "p%41", "%2e%2e", "sp ace", "plain-node"} {
		mu.Lock()
		raw, decoded = nil, nil
		mu.Unlock()
		_, err := Observe(context.Background(), client, Selection{Nodes: []string{name}}, 1)
		var nf *NotFoundError
		require.ErrorAs(t, err, &nf, name)
		assert.Equal(t, []string{name}, nf.Nodes)
		mu.Lock()
		assert.Equal(t, []string{"/v1/nodes/" + url.PathEscape(name)}, raw, name)
		assert.Equal(t, []string{"/v1/nodes/" + name}, decoded, name)
		mu.Unlock()
	}

	for _, name := range []string{"../ports", "a/b", "..", "."} {
		mu.Lock()
		raw = nil
		mu.Unlock()
		_, err := Observe(context.Background(), client, Selection{Nodes: []string{"ok-node", name}}, 1)
		require.Error(t, err, name)
		assert.True(t, strings.HasPrefix(err.Error(), `nodes[1]: "`+name+`" cannot be used in a URL path`), err.Error())
		mu.Lock()
		assert.Empty(t, raw, "no request before the names are checked")
		mu.Unlock()
	}
}
