package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metalkit/baremetal/internal/openstack"
)

// keystoneWithInspector is a Keystone that issues a token whose catalog
// lists ironic-inspector (type baremetal-introspection) at inspectorPath,
// and the inspector behind it: its version document at the root, the data
// GET at the versioned path only, as the real inspector (anything else: 404).
func keystoneWithInspector(t *testing.T, inspectorPath string) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v3/auth/tokens":
			w.Header().Set("X-Subject-Token", "tok")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(map[string]any{"token": map[string]any{
				"expires_at": "2999-01-01T00:00:00.000000Z",
				"catalog": []any{map[string]any{
					"type": "baremetal-introspection", "name": "ironic-inspector",
					"endpoints": []any{map[string]any{"interface": "public", "region": "RegionOne", "region_id": "RegionOne", "url": srv.URL + inspectorPath}},
				}},
			}})
		case r.Method == http.MethodGet && (r.URL.Path == "/inspector" || r.URL.Path == "/inspector/"):
			// gophercloud's version discovery of an unversioned endpoint; inspector 11.1's own answer
			_ = json.NewEncoder(w).Encode(map[string]any{"versions": []any{map[string]any{
				"id": "1.18", "status": "CURRENT", "links": []any{map[string]any{"href": srv.URL + "/inspector/v1", "rel": "self"}}}}})
		case r.Method == http.MethodGet && r.URL.Path == "/inspector/v1/introspection/u-1/data":
			_ = json.NewEncoder(w).Encode(map[string]any{"inventory": map[string]any{"memory": map[string]any{"physical_mb": 12288}}})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestInspectorClientVersionsTheCatalogEndpoint: the catalog's inspector
// endpoint is unversioned on TripleO (http://<host>:5050); the data is at
// /v1/introspection/<uuid>/data. A /v1 endpoint is not doubled.
func TestInspectorClientVersionsTheCatalogEndpoint(t *testing.T) {
	for _, catalogPath := range []string{"/inspector", "/inspector/", "/inspector/v1", "/inspector/v1/"} {
		t.Run(catalogPath, func(t *testing.T) {
			srv := keystoneWithInspector(t, catalogPath)
			cloud, err := openstack.Connect(context.Background(), openstack.Options{
				Auth:       openstack.Auth{AuthURL: srv.URL + "/v3", Username: "admin", Password: "pw", ProjectName: "admin", UserDomainName: "Default", ProjectDomainName: "Default"},
				RegionName: "RegionOne",
			})
			require.NoError(t, err)
			sc, err := cloud.Introspection(context.Background())
			require.NoError(t, err)
			assert.Equal(t, srv.URL+"/inspector/v1/introspection/u-1/data", sc.ServiceURL("introspection", "u-1", "data"))

			var body map[string]any
			resp, err := sc.Get(context.Background(), sc.ServiceURL("introspection", "u-1", "data"), &body, nil)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, "12288", fmt.Sprint(body["inventory"].(map[string]any)["memory"].(map[string]any)["physical_mb"]))
		})
	}
}
