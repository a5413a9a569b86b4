package openstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServiceMessage(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		want       string
	}{
		{"ironic error_message string", `{"error_message": "{\"faultstring\": \"Node 1be26c0b could not be found.\", \"debuginfo\": null, \"faultcode\": \"Client\"}"}`, 404, "Node 1be26c0b could not be found."},
		{"ironic error_message object", `{"error_message": {"faultstring": "Node is locked", "debuginfo": null}}`, 409, "Node is locked"},
		{"ironic plain error_message", `{"error_message": "Invalid input"}`, 400, "Invalid input"},
		{"nova badRequest", `{"badRequest": {"code": 400, "message": "Invalid flavorRef provided."}}`, 400, "Invalid flavorRef provided."},
		{"nova conflictingRequest", `{"conflictingRequest": {"code": 409, "message": "Cannot 'delete' instance while it is in task_state deleting"}}`, 409, "Cannot 'delete' instance while it is in task_state deleting"},
		{"keystone", `{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}`, 401, "The request you have made requires authentication."},
		{"neutron", `{"NeutronError": {"type": "NetworkNotFound", "message": "Network x could not be found.", "detail": ""}}`, 404, "Network x could not be found."},
		{"placement", `{"errors": [{"status": 409, "title": "Conflict", "detail": "There was a conflict when trying to complete your request.\n\n resource provider generation conflict  ", "code": "placement.concurrent_update"}]}`, 409, "resource provider generation conflict"},
		{"glance html", "<html>\n <head>\n  <title>409 Conflict</title>\n </head>\n <body>\n  <h1>409 Conflict</h1>\n  Image with identifier 5c3c already exists!<br /><br />\n\n\n\n </body>\n</html>", 409, "Image with identifier 5c3c already exists!"},
		{"glance html entity", "<html><body><h1>403 Forbidden</h1>You are not authorized to complete publicize_image action &amp; more.<br /><br /></body></html>", 403, "You are not authorized to complete publicize_image action & more."},
		{"glance text with br", "404 Not Found\n\nNo image found with ID 0000<br /><br />\n\n\n   ", 404, "No image found with ID 0000"},
		{"webob plain text", "404 Not Found\n\nThe resource could not be found.\n\n   ", 404, "The resource could not be found."},
		{"glance json with br", `{"message": "No image found with ID 0000<br /><br />\n\n\n", "code": "404 Not Found", "title": "Not Found"}`, 404, "No image found with ID 0000"},
		{"angle brackets kept", `{"badRequest": {"message": "Invalid value <none> for x", "code": 400}}`, 400, "Invalid value <none> for x"},
		{"glance json message", `{"message": "Image not active"}`, 409, "Image not active"},
		{"empty body", "", 503, "Service Unavailable"},
		{"unknown json kept short", `{"weird": [1, 2, 3]}`, 500, `{"weird": [1, 2, 3]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, ServiceMessage([]byte(tt.body), tt.status))
		})
	}
	long := strings.Repeat("é", 2000)
	assert.LessOrEqual(t, len(ServiceMessage([]byte(long), 500)), maxMessage+3)
}

func TestDescribe(t *testing.T) {
	isolate(t)
	code := gophercloud.ErrUnexpectedResponseCode{Method: "PATCH", URL: "http://ironic/v1/nodes/n", Actual: 409,
		Body: []byte(`{"error_message": "{\"faultstring\": \"Node n is locked by host ctl, please retry after the current operation is completed.\"}"}`)}
	tests := []struct {
		name     string
		err      error
		resource string
		want     string
	}{
		{"nil", nil, "x", ""},
		{"http", code, "node n", "node n: Node n is locked by host ctl, please retry after the current operation is completed. (HTTP 409)"},
		{"wrapped http", fmt.Errorf("patching: %w", code), "node n", "node n: Node n is locked by host ctl, please retry after the current operation is completed. (HTTP 409)"},
		{"after retries", &RetriesExhaustedError{Err: code, Attempts: 5, Reason: "attempt limit reached"}, "node n", "(HTTP 409, after 5 attempts)"},
		{"after reauth", gophercloud.ErrErrorAfterReauthentication{ErrOriginal: gophercloud.ErrUnexpectedResponseCode{Actual: 403, Body: []byte(`{"error": {"message": "Forbidden"}}`)}}, "image i", "image i: Forbidden (HTTP 403)"},
		{"reauth failed", gophercloud.ErrUnableToReauthenticate{ErrOriginal: code, ErrReauth: gophercloud.ErrUnexpectedResponseCode{Actual: 401, Body: []byte(`{"error": {"message": "bad password"}}`)}}, "nodes", "nodes: re-authentication failed: bad password (HTTP 401)"},
		{"not http", &url.Error{Op: "Get", URL: "http://127.0.0.1:6385/v1", Err: errors.New("dial tcp: connection refused")}, "nodes", `nodes: Get "http://127.0.0.1:6385/v1": dial tcp: connection refused`},
		{"no resource", code, "", "Node n is locked by host ctl, please retry after the current operation is completed. (HTTP 409)"},
		{"relabelled", Describe(code, "port p"), "node n", "node n: port p: Node n is locked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Describe(tt.err, tt.resource)
			if tt.want == "" {
				assert.NoError(t, got)
				return
			}
			assert.Contains(t, got.Error(), tt.want)
		})
	}
	// errors.Is survives for sentinels.
	assert.ErrorIs(t, Describe(fmt.Errorf("x: %w", context.DeadlineExceeded), "n"), context.DeadlineExceeded)
	assert.True(t, gophercloud.ResponseCodeIs(Describe(code, "n"), 409))
}

func TestScrub(t *testing.T) {
	isolate(t)
	secret := `pa"ss/wörd&1`
	tests := []struct {
		name, in, want string
	}{
		{"plain", "password is " + secret + " ok", "password is ******** ok"},
		{"json escaped", `{"password": "pa\"ss/wörd&1"}`, `{"password": "********"}`},
		{"python ensure_ascii", `{"password": "pa\"ss/w\u00f6rd&1"}`, `{"password": "********"}`},
		{"go html escaped", `{"password": "pa\"ss/wörd\u00261"}`, `{"password": "********"}`},
		{"url encoded", "GET /?p=pa%22ss%2Fw%C3%B6rd%261", "GET /?p=********"},
		{"several", secret + "|" + secret, "********|********"},
		{"absent", "nothing here", "nothing here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Scrub(tt.in, secret))
		})
	}
	// Registered secrets are scrubbed without being passed.
	RegisterSecret("registered-sentinel")
	assert.Equal(t, "x ******** y", Scrub("x registered-sentinel y"))
	// A longer secret containing a shorter one is masked whole.
	assert.Equal(t, "********", Scrub("abcdef", "abc", "abcdef"))
}

// errorText collects everything an error could print: its text, its %+v,
// and the text of every error in its chain.
func errorText(err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v\n%+v\n%#v\n", err, err, err)
	for e := err; e != nil; e = errors.Unwrap(e) {
		b.WriteString(e.Error() + "\n")
	}
	return b.String()
}

const (
	sentinelPassword = "SENTINEL-password-7f3a"
	sentinelSecret   = "SENTINEL-appcred-secret-91c2"
	sentinelToken    = "SENTINEL-token-4d8e"
)

// No error of this package carries a secret, even when a server echoes it.
func TestSecretsNeverInErrors(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, f *fakeCloud, dir string) error
	}{
		{"keystone echoes a wrong password", func(t *testing.T, f *fakeCloud, _ string) error {
			f.echoSecret = true
			_, err := Connect(context.Background(), Options{Auth: Auth{AuthURL: f.url("/identity/v3"), Username: "admin", Password: sentinelPassword}})
			return err
		}},
		{"keystone echoes a wrong application credential secret", func(t *testing.T, f *fakeCloud, _ string) error {
			f.echoSecret = true
			_, err := Connect(context.Background(), Options{Auth: Auth{AuthURL: f.url("/identity/v3"), ApplicationCredentialID: "ac-id", ApplicationCredentialSecret: sentinelSecret}})
			return err
		}},
		{"wrong token", func(t *testing.T, f *fakeCloud, _ string) error {
			_, err := Connect(context.Background(), Options{Auth: Auth{AuthURL: f.url("/identity/v3"), Token: sentinelToken, ProjectName: "admin"}})
			return err
		}},
		{"ironic echoes the password in a 409 body", func(t *testing.T, f *fakeCloud, _ string) error {
			f.password = sentinelPassword
			f.hook = func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method != "POST" || r.URL.Path != "/baremetal/v1/nodes" {
					return false
				}
				b, _ := io.ReadAll(r.Body)
				writeJSON(w, 400, map[string]any{"error_message": fmt.Sprintf(`{"faultstring": "Invalid driver_info %s"}`, b)})
				return true
			}
			c, err := Connect(context.Background(), Options{Auth: Auth{AuthURL: f.url("/identity/v3"), Username: "admin", Password: sentinelPassword}})
			require.NoError(t, err)
			bm, err := c.Baremetal(context.Background())
			require.NoError(t, err)
			_, err = nodes.Create(context.Background(), bm, nodes.CreateOpts{Driver: "ipmi", DriverInfo: map[string]any{"ipmi_password": sentinelPassword}}).Extract()
			require.Error(t, err)
			return Describe(err, "node n")
		}},
		{"service echoes the token it was sent", func(t *testing.T, f *fakeCloud, _ string) error {
			f.hook = func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/baremetal/v1/nodes" {
					return false
				}
				writeJSON(w, 403, map[string]any{"error_message": `{"faultstring": "token ` + r.Header.Get("X-Auth-Token") + ` not allowed"}`})
				return true
			}
			c, err := Connect(context.Background(), Options{Auth: Auth{AuthURL: f.url("/identity/v3"), Username: "admin", Password: "pw"}})
			require.NoError(t, err)
			token := c.Provider.Token()
			bm, err := c.Baremetal(context.Background())
			require.NoError(t, err)
			_, err = nodes.List(bm, nil).AllPages(context.Background())
			err = Describe(err, "nodes")
			assert.NotContains(t, errorText(err), token)
			assert.Contains(t, err.Error(), "token ******** not allowed")
			return err
		}},
		{"http_basic service echoes its credentials", func(t *testing.T, f *fakeCloud, _ string) error {
			f.requireToken = false
			f.basicUser, f.basicPass = "ironic", sentinelPassword
			f.hook = func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/baremetal/v1/nodes" {
					return false
				}
				writeJSON(w, 500, map[string]any{"error_message": "auth header was " + r.Header.Get("Authorization")})
				return true
			}
			// The 500 is retried: the echo must be scrubbed through the retries too.
			c, err := Connect(context.Background(), Options{AuthType: "http_basic", Auth: Auth{Endpoint: f.url("/baremetal"), Username: "ironic", Password: sentinelPassword}, Retry: fastRetry})
			require.NoError(t, err)
			bm, err := c.Baremetal(context.Background())
			require.NoError(t, err)
			_, err = nodes.List(bm, nil).AllPages(context.Background())
			err = Describe(err, "nodes")
			var ex *RetriesExhaustedError
			require.ErrorAs(t, err, &ex)
			assert.NotContains(t, errorText(err), basicAuthSecret("ironic", sentinelPassword))
			return err
		}},
		{"configuration error next to a password", func(t *testing.T, f *fakeCloud, _ string) error {
			_, err := Connect(context.Background(), Options{Auth: Auth{Username: "u", Password: sentinelPassword}, Interface: sentinelPassword})
			return err
		}},
		{"clouds.yaml with a secret and a bad value", func(t *testing.T, f *fakeCloud, dir string) error {
			writeFile(t, filepath.Join(dir, "clouds.yaml"), "clouds:\n  c:\n    verify: "+sentinelSecret+"\n    auth:\n      password: "+sentinelSecret+"\n")
			_, err := Connect(context.Background(), Options{Cloud: "c"})
			return err
		}},
		{"node last_error quoting a BMC password", func(t *testing.T, f *fakeCloud, _ string) error {
			f.nodeSteps = []map[string]any{node("clean failed", "", "ipmitool -P "+sentinelPassword+" failed")}
			f.requireToken = false
			RegisterSecret(sentinelPassword)
			c := standalone(t, f, fastRetry)
			bm, err := c.Baremetal(context.Background())
			require.NoError(t, err)
			_, err = WaitNodeProvisionState(context.Background(), bm, "node-0", "available")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := isolate(t)
			f := newFakeCloud(t)
			err := tt.run(t, f, dir)
			require.Error(t, err)
			text := errorText(err)
			for _, s := range []string{sentinelPassword, sentinelSecret, sentinelToken} {
				assert.NotContains(t, text, s)
			}
		})
	}
}
