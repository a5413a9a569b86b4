package hostile

import (
	"encoding/json"
	"maps"
	"net/http"
	"testing"
)

// Target is a cloud module as the connection cases see it.
type Target struct {
	Module string
	// Start starts the module's fakes and returns a request that succeeds
	// against them with auth_type none.
	Start func(t *testing.T) *Base
}

// Base is a request that succeeds, and how to observe its fakes.
type Base struct {
	// Args are the module's own options (no connection options).
	Args map[string]any
	// Overrides are the <service>_endpoint_override values of a cloud dict
	// reaching the fakes; Primary is the key of the service the module
	// calls first (where the hostile endpoints go).
	Overrides map[string]any
	Primary   string
	// Writes counts the write requests the fakes received.
	Writes func() int
}

// Cloud is the cloud dict: the overrides plus extra keys.
func (b *Base) Cloud(extra map[string]any) map[string]any {
	c := maps.Clone(b.Overrides)
	maps.Copy(c, extra)
	return c
}

// With is b.Args plus kv (key, value pairs; a nil value deletes the key).
func (b *Base) With(kv ...any) map[string]any { return With(b.Args, kv...) }

// With copies m and sets kv (key, value pairs; a nil value deletes the key).
func With(m map[string]any, kv ...any) map[string]any {
	out := maps.Clone(m)
	if out == nil {
		out = map[string]any{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// noWrites is the Check of a case that must change nothing.
func noWrites(b *Base) func(*testing.T, *Outcome) {
	return func(t *testing.T, _ *Outcome) {
		t.Helper()
		if n := b.Writes(); n > 0 {
			t.Errorf("the cloud received %d write request(s): nothing may change", n)
		}
	}
}

func passwordAuth(authURL, password string) map[string]any {
	return map[string]any{"auth_url": authURL, "username": "hostile", "password": password,
		"project_name": "hostile", "user_domain_name": "Default", "project_domain_name": "Default"}
}

// yamlFile writes v as a YAML file (JSON is YAML).
func yamlFile(t *testing.T, name string, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return WriteFile(t, name, string(b))
}

// ConnectionCases are the hostile inputs every cloud module shares: secrets
// in every connection option and file, redirects to another port, a huge
// API body, the timeout rule, and hostile clouds.yaml files.
func ConnectionCases(tg Target) []Case {
	timeoutNames := []string{"timeout"}
	cloudsNames := []string{"clouds.yaml", "cloud"}
	cloudsFile := func(t *testing.T, content string) *Run {
		b := tg.Start(t)
		p := WriteFile(t, "clouds.yaml", content)
		return &Run{Args: b.With("cloud", "hostile"), Env: []string{"OS_CLIENT_CONFIG_FILE=" + p}, Check: noWrites(b)}
	}
	cloudsAt := func(t *testing.T, path string) *Run {
		b := tg.Start(t)
		return &Run{Args: b.With("cloud", "hostile"), Env: []string{"OS_CLIENT_CONFIG_FILE=" + path}, Check: noWrites(b)}
	}
	badTimeout := func(v any) func(t *testing.T) *Run {
		return func(t *testing.T) *Run {
			b := tg.Start(t)
			return &Run{Args: b.With("cloud", b.Cloud(map[string]any{"auth_type": "none"}), "timeout", v), Check: noWrites(b)}
		}
	}
	return []Case{
		{Name: "secrets/cloud dict auth password token appcred", Want: OK, Setup: func(t *testing.T) *Run {
			b := tg.Start(t)
			return &Run{Args: b.With("cloud", b.Cloud(map[string]any{"auth_type": "none", "auth": map[string]any{
				"username": "hostile", "password": SentAuthPassword, "token": SentAuthToken, "application_credential_secret": SentAppCred}}))}
		}},
		{Name: "secrets/cloud dict password via keystone", Want: OK, Setup: func(t *testing.T) *Run {
			b, k := tg.Start(t), NewKeystone(t)
			return &Run{Args: b.With("cloud", b.Cloud(map[string]any{"auth_type": "password", "auth": passwordAuth(k.AuthURL(), SentAuthPassword)}))}
		}},
		{Name: "secrets/auth password echoed by keystone 401", Want: Fail, Setup: func(t *testing.T) *Run {
			b, k := tg.Start(t), NewKeystone(t)
			k.Echo401 = true
			return &Run{Args: b.With("cloud", nil, "auth_type", "password", "auth", passwordAuth(k.AuthURL(), SentAuthPassword)), Check: noWrites(b)}
		}},
		{Name: "secrets/clouds.yaml with secure.yaml password", Want: OK, Setup: func(t *testing.T) *Run {
			b, k := tg.Start(t), NewKeystone(t)
			auth := passwordAuth(k.AuthURL(), "")
			delete(auth, "password")
			clouds := yamlFile(t, "clouds.yaml", map[string]any{"clouds": map[string]any{"hostile": b.Cloud(map[string]any{"auth_type": "password", "auth": auth})}})
			secure := yamlFile(t, "secure.yaml", map[string]any{"clouds": map[string]any{"hostile": map[string]any{"auth": map[string]any{"password": SentSecurePW}}}})
			return &Run{Args: b.With("cloud", "hostile"), Env: []string{"OS_CLIENT_CONFIG_FILE=" + clouds, "OS_CLIENT_SECURE_FILE=" + secure}}
		}},
		{Name: "secrets/clouds.yaml token auth with the token in secure.yaml", Want: OK, Setup: func(t *testing.T) *Run {
			b, k := tg.Start(t), NewKeystone(t)
			clouds := yamlFile(t, "clouds.yaml", map[string]any{"clouds": map[string]any{"hostile": b.Cloud(map[string]any{"auth_type": "token",
				"auth": map[string]any{"auth_url": k.AuthURL(), "project_name": "hostile", "project_domain_name": "Default"}})}})
			secure := yamlFile(t, "secure.yaml", map[string]any{"clouds": map[string]any{"hostile": map[string]any{"auth": map[string]any{"token": SentAuthToken}}}})
			return &Run{Args: b.With("cloud", "hostile"), Env: []string{"OS_CLIENT_CONFIG_FILE=" + clouds, "OS_CLIENT_SECURE_FILE=" + secure}}
		}},
		{Name: "secrets/clouds.yaml appcred echoed by keystone 401", Want: Fail, Setup: func(t *testing.T) *Run {
			b, k := tg.Start(t), NewKeystone(t)
			k.Echo401 = true
			clouds := yamlFile(t, "clouds.yaml", map[string]any{"clouds": map[string]any{"hostile": b.Cloud(map[string]any{
				"auth_type": "v3applicationcredential",
				"auth":      map[string]any{"auth_url": k.AuthURL(), "application_credential_id": "ac1", "application_credential_secret": SentAppCred}})}})
			return &Run{Args: b.With("cloud", "hostile"), Env: []string{"OS_CLIENT_CONFIG_FILE=" + clouds}, Check: noWrites(b)}
		}},
		{Name: "secrets/auth_url percent-encoded userinfo dead port", Want: Fail, Setup: func(t *testing.T) *Run {
			b := tg.Start(t)
			return &Run{Args: b.With("cloud", nil, "auth_type", "password", "timeout", 3,
				"auth", passwordAuth("http://u:"+SentURLUserEnc+"@127.0.0.1:1/v3", SentAuthPassword)), Check: noWrites(b)}
		}},
		// Any: refusing credentials in auth_url is as safe as using them.
		{Name: "secrets/auth_url raw userinfo via keystone", Want: Any, Setup: func(t *testing.T) *Run {
			b, k := tg.Start(t), NewKeystone(t)
			authURL := "http://u:" + SentURLRaw + "@" + k.URL[len("http://"):] + "/v3"
			return &Run{Args: b.With("cloud", b.Cloud(map[string]any{"auth_type": "password", "auth": passwordAuth(authURL, SentAuthPassword)}))}
		}},
		{Name: "redirect/endpoint 302 to another port carries no token", Want: Fail, Setup: func(t *testing.T) *Run {
			b, k, rec := tg.Start(t), NewKeystone(t), NewRecorder(t)
			cloud := b.Cloud(map[string]any{"auth_type": "password", "auth": passwordAuth(k.AuthURL(), SentAuthPassword)})
			cloud[b.Primary] = Redirector(t, http.StatusFound, rec.URL)
			return &Run{Args: b.With("cloud", cloud, "timeout", 10), Check: func(t *testing.T, _ *Outcome) { rec.AssertNoCredentials(t) }}
		}},
		{Name: "redirect/token request 307 to another port carries no password", Want: Fail, Setup: func(t *testing.T) *Run {
			b, k, rec := tg.Start(t), NewKeystone(t), NewRecorder(t)
			k.RedirectTo = rec.URL
			return &Run{Args: b.With("cloud", nil, "auth_type", "password", "auth", passwordAuth(k.AuthURL(), SentAuthPassword), "timeout", 10),
				Check: func(t *testing.T, _ *Outcome) { rec.AssertNoCredentials(t) }}
		}},
		{Name: "redirect/http_basic endpoint 307 to another port carries no credentials", Want: Fail, Setup: func(t *testing.T) *Run {
			b, rec := tg.Start(t), NewRecorder(t)
			cloud := b.Cloud(map[string]any{"auth_type": "http_basic", "auth": map[string]any{"username": "hostile", "password": SentBasicPW}})
			cloud[b.Primary] = Redirector(t, http.StatusTemporaryRedirect, rec.URL)
			return &Run{Args: b.With("cloud", cloud, "timeout", 10), Check: func(t *testing.T, _ *Outcome) { rec.AssertNoCredentials(t) }}
		}},
		{Name: "redirect/https endpoint 302 to http carries no token", Want: Fail, Setup: func(t *testing.T) *Run {
			b, k, rec := tg.Start(t), NewKeystone(t), NewRecorder(t)
			redir, ca := TLSRedirector(t, http.StatusFound, rec.URL)
			cloud := b.Cloud(map[string]any{"auth_type": "password", "auth": passwordAuth(k.AuthURL(), SentAuthPassword), "cacert": ca})
			cloud[b.Primary] = redir
			return &Run{Args: b.With("cloud", cloud, "timeout", 10), Check: func(t *testing.T, _ *Outcome) { rec.AssertNoCredentials(t) }}
		}},
		{Name: "unbounded/enormous API response body", Want: Fail, Setup: func(t *testing.T) *Run {
			b := tg.Start(t)
			cloud := b.Cloud(map[string]any{"auth_type": "none"})
			cloud[b.Primary] = BigBody(t, 2<<30)
			return &Run{Args: b.With("cloud", cloud, "timeout", 15), Check: noWrites(b)}
		}},
		{Name: "timeout/0", Want: Fail, Names: timeoutNames, Setup: badTimeout(0)},
		{Name: "timeout/-1", Want: Fail, Names: timeoutNames, Setup: badTimeout(-1)},
		{Name: "timeout/1e12", Want: Fail, Names: timeoutNames, Setup: badTimeout(1e12)},
		{Name: "timeout/abc", Want: Fail, Names: timeoutNames, Setup: badTimeout("abc")},
		{Name: "timeout/0 with a dead endpoint", Want: Fail, Names: timeoutNames, Setup: func(t *testing.T) *Run {
			b := tg.Start(t)
			cloud := b.Cloud(map[string]any{"auth_type": "none"})
			cloud[b.Primary] = "http://127.0.0.1:1" // connection refused: retried while time remains
			return &Run{Args: b.With("cloud", cloud, "timeout", 0), Check: noWrites(b)}
		}},
		{Name: "yaml/clouds.yaml billion laughs", Want: Fail, Names: cloudsNames, Setup: func(t *testing.T) *Run {
			return cloudsFile(t, BillionLaughs("clouds:\n  hostile:\n    auth_type: none\n    lol: *a9\n"))
		}},
		{Name: "yaml/clouds.yaml alias cycle", Want: Fail, Names: cloudsNames, Setup: func(t *testing.T) *Run {
			return cloudsFile(t, "clouds:\n  hostile: &loop\n    auth_type: none\n    self: *loop\n")
		}},
		{Name: "file/clouds.yaml is /dev/zero", Want: Fail, Names: cloudsNames, Setup: func(t *testing.T) *Run {
			return cloudsAt(t, "/dev/zero")
		}},
		{Name: "file/clouds.yaml is a FIFO", Want: Fail, Names: cloudsNames, Setup: func(t *testing.T) *Run {
			return cloudsAt(t, FIFO(t))
		}},
	}
}
