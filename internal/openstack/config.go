package openstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/decoded"
	"github.com/metalkit/baremetal/internal/safefile"
	"github.com/metalkit/baremetal/internal/secret"
	"github.com/metalkit/baremetal/internal/yamlload"
)

// config is a cloud in clouds.yaml form after every layer is merged: scalar
// leaves are strings (YAML and Ansible types flattened), "auth" is a
// map[string]any, "regions" a []any.
type config map[string]any

// resolved is what Connect needs, read out of the merged config.
type resolved struct {
	source     string // where the base config came from, for messages
	authType   string
	auth       map[string]string
	region     string
	iface      string
	verify     *bool
	cacert     string
	cert       string
	key        string
	apiTimeout time.Duration
	// retries is clouds.yaml's status_code_retries (keystoneauth's name):
	// how many times a transient failure is tried again; -1 when unset.
	retries int
	// overrides maps a service type (baremetal, image, ...) to its
	// <type>_endpoint_override.
	overrides map[string]string
}

// authKeys are the keys openstacksdk moves from the top level (OS_* variables,
// old clouds.yaml files) into auth.
var authKeys = []string{
	"auth_url", "username", "user_id", "password",
	"project_name", "project_id", "tenant_name", "tenant_id",
	"user_domain_name", "user_domain_id", "project_domain_name", "project_domain_id",
	"domain_name", "domain_id", "default_domain",
	"application_credential_id", "application_credential_name", "application_credential_secret",
	"token", "endpoint", "system_scope", "trust_id",
}

// envSelectors are OS_* variables that pick or locate a cloud: alone they do
// not make an "envvars" cloud (openstacksdk's rule).
var envSelectors = []string{"OS_CLOUD", "OS_REGION_NAME", "OS_CLIENT_CONFIG_FILE", "OS_CLIENT_SECURE_FILE", "OS_CLOUD_NAME"}

// services whose <type>_endpoint_override we honour.
var serviceTypes = []string{"baremetal", "baremetal_introspection", "image", "compute", "placement", "network", "identity"}

// resolve merges, lowest first: the base cloud (a cloud dict, or a named
// cloud from clouds.yaml+secure.yaml, or the OS_* "envvars" cloud, or the only
// cloud in clouds.yaml), its region's values, then the explicit options.
func resolve(o Options) (*resolved, error) {
	base, source, err := baseConfig(o)
	if err != nil {
		return nil, err
	}
	explicit := explicitConfig(o)

	region := str(explicit["region_name"])
	if region == "" {
		region = str(base["region_name"])
	}
	regionName, regionValues, err := pickRegion(base, region, source)
	if err != nil {
		return nil, err
	}
	merged := config{}
	for _, layer := range []config{base, regionValues, explicit} {
		merge(merged, fixKeys(layer))
	}
	delete(merged, "regions")
	if regionName != "" {
		merged["region_name"] = regionName
	}
	return finish(merged, source)
}

func baseConfig(o Options) (config, string, error) {
	if o.CloudConfig != nil {
		if p := conflictWithDict(o); p != "" {
			return nil, "", fmt.Errorf("a cloud config dict was provided to the cloud parameter but also a value was provided for %s; if a cloud config dict is provided, %s should be excluded", p, p)
		}
		c, ok := configStrings(o.CloudConfig).(map[string]any)
		if !ok {
			return nil, "", errors.New("cloud config dict: not a mapping")
		}
		return c, "the cloud dict", nil
	}

	envName := os.Getenv("OS_CLOUD_NAME")
	if envName == "" {
		envName = "envvars"
	}
	env := envCloud()

	name := o.Cloud
	if name == "" {
		name = os.Getenv("OS_CLOUD")
	}
	if name == envName && env != nil {
		return env, "OS_* environment variables", nil
	}
	if name != "" {
		clouds, path, err := loadClouds()
		if err != nil {
			return nil, "", err
		}
		if path == "" {
			return nil, "", fmt.Errorf("cloud %q: no clouds.yaml found (searched %s)", name, strings.Join(cloudsLocations("clouds"), ", "))
		}
		c, ok := clouds[name].(map[string]any)
		if !ok {
			return nil, "", fmt.Errorf("cloud %q not found in %s (clouds: %s)", name, path, strings.Join(slices.Sorted(maps.Keys(clouds)), ", "))
		}
		return c, fmt.Sprintf("cloud %q of %s", name, path), nil
	}
	if env != nil {
		return env, "OS_* environment variables", nil
	}
	// openstacksdk uses the only cloud of clouds.yaml when none is named.
	clouds, path, err := loadClouds()
	if err != nil {
		return nil, "", err
	}
	if len(clouds) == 1 {
		for n, c := range clouds {
			if m, ok := c.(map[string]any); ok {
				return m, fmt.Sprintf("cloud %q of %s", n, path), nil
			}
		}
	}
	return config{}, "", nil
}

// conflictWithDict names the first explicit option set beside a cloud dict,
// with openstack.cloud's list (interface only when not the default).
func conflictWithDict(o Options) string {
	switch {
	case !o.Auth.isZero():
		return "auth"
	case o.RegionName != "":
		return "region_name"
	case o.ValidateCerts != nil:
		return "validate_certs"
	case o.CACert != "":
		return "ca_cert"
	case o.ClientKey != "":
		return "client_key"
	case o.APITimeout != 0:
		return "api_timeout"
	case o.AuthType != "":
		return "auth_type"
	case o.Interface != "" && o.Interface != "public":
		return "interface"
	}
	return ""
}

// envCloud builds openstacksdk's "envvars" cloud from OS_* variables, or nil
// when only selectors are set.
func envCloud() config {
	c := config{}
	real := false
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		// An empty variable counts as unset (`export OS_PASSWORD=` clears it).
		if v == "" || !strings.HasPrefix(k, "OS_") || strings.HasPrefix(k, "OS_TEST") || strings.HasPrefix(k, "OS_STD") || strings.HasPrefix(k, "OS_LOG") {
			continue
		}
		if !slices.Contains(envSelectors, k) {
			real = true
		}
		if k == "OS_CLOUD" || k == "OS_CLOUD_NAME" || k == "OS_CLIENT_CONFIG_FILE" || k == "OS_CLIENT_SECURE_FILE" {
			continue
		}
		c[strings.ToLower(strings.TrimPrefix(k, "OS_"))] = v
	}
	if !real {
		return nil
	}
	return c
}

// explicitConfig is the options' own layer.
func explicitConfig(o Options) config {
	c := config{}
	auth := map[string]any{}
	for k, v := range o.Auth.fields() {
		if v != "" {
			auth[k] = v
		}
	}
	if len(auth) > 0 {
		c["auth"] = auth
	}
	set := func(k, v string) {
		if v != "" {
			c[k] = v
		}
	}
	set("auth_type", o.AuthType)
	set("region_name", o.RegionName)
	set("interface", o.Interface)
	set("cacert", o.CACert)
	set("cert", o.ClientCert)
	set("key", o.ClientKey)
	if o.ValidateCerts != nil {
		c["verify"] = strconv.FormatBool(*o.ValidateCerts)
	}
	if o.APITimeout > 0 {
		c["api_timeout"] = strconv.FormatFloat(o.APITimeout.Seconds(), 'f', -1, 64)
	}
	return c
}

// pickRegion returns the region to use and its values from the cloud's
// regions list (names or {name, values} dicts); a name not in a non-empty
// list is an error, as in openstacksdk.
func pickRegion(base config, want, source string) (string, config, error) {
	list, _ := base["regions"].([]any)
	if len(list) == 0 {
		return want, nil, nil
	}
	var names []string
	for _, r := range list {
		name, values := "", config(nil)
		switch r := r.(type) {
		case string:
			name = r
		case map[string]any:
			name = str(r["name"])
			values, _ = r["values"].(map[string]any)
		}
		if name == "" {
			continue
		}
		if want == "" || want == name {
			return name, values, nil
		}
		names = append(names, name)
	}
	return "", nil, fmt.Errorf("region %q is not a valid region name for %s; valid choices are %s (region names are case sensitive)", want, source, strings.Join(names, ", "))
}

// fixKeys applies openstacksdk's "magic fixes" to one layer: dashes become
// underscores, auth keys found at the top level move into auth, tenant_* is
// project_*, endpoint_type is interface, insecure is the inverse of verify.
func fixKeys(in config) config {
	out := config{}
	for k, v := range in {
		out[strings.ReplaceAll(k, "-", "_")] = v
	}
	auth := map[string]any{}
	if a, ok := out["auth"].(map[string]any); ok {
		for k, v := range a {
			auth[strings.ReplaceAll(k, "-", "_")] = v
		}
	}
	for _, k := range authKeys {
		if v, ok := out[k]; ok {
			if _, set := auth[k]; !set {
				auth[k] = v
			}
			delete(out, k)
		}
	}
	for old, now := range map[string]string{"tenant_name": "project_name", "tenant_id": "project_id"} {
		if v, ok := auth[old]; ok {
			if _, set := auth[now]; !set {
				auth[now] = v
			}
			delete(auth, old)
		}
	}
	if len(auth) > 0 {
		out["auth"] = auth
	}
	if v, ok := out["endpoint_type"]; ok {
		if _, set := out["interface"]; !set {
			out["interface"] = v
		}
		delete(out, "endpoint_type")
	}
	if v, ok := out["insecure"]; ok {
		if _, set := out["verify"]; !set {
			if b, err := parseBool(str(v)); err == nil {
				out["verify"] = strconv.FormatBool(!b)
			}
		}
		delete(out, "insecure")
	}
	return out
}

// merge lays src over dst: empty values never win; auth merges key by key.
func merge(dst, src config) {
	for k, v := range src {
		if v == nil || v == "" {
			continue
		}
		if k == "auth" {
			sa, _ := v.(map[string]any)
			da, ok := dst["auth"].(map[string]any)
			if !ok {
				da = map[string]any{}
				dst["auth"] = da
			}
			for ak, av := range sa {
				if av != nil && av != "" {
					da[ak] = av
				}
			}
			continue
		}
		dst[k] = v
	}
}

// finish reads the merged config into resolved and settles auth_type.
func finish(c config, source string) (*resolved, error) {
	r := &resolved{
		source:    source,
		auth:      map[string]string{},
		region:    str(c["region_name"]),
		iface:     strings.TrimSuffix(str(c["interface"]), "URL"),
		cacert:    str(c["cacert"]),
		cert:      str(c["cert"]),
		key:       str(c["key"]),
		overrides: map[string]string{},
		retries:   -1,
	}
	if a, ok := c["auth"].(map[string]any); ok {
		for k, v := range a {
			if s := str(v); s != "" {
				r.auth[k] = s
			}
		}
	}
	// Known before any validation, so no message below can carry them.
	for k, v := range r.auth {
		if secret.IsKey(k) {
			RegisterSecret(v)
		} else if strings.Contains(v, "@") {
			secret.AddURL(v) // auth_url with a password in it
		}
	}
	if v := str(c["verify"]); v != "" {
		b, err := parseBool(v)
		if err != nil {
			return nil, fmt.Errorf("verify: %q is not a boolean", v)
		}
		r.verify = &b
	}
	if v := str(c["api_timeout"]); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			return nil, fmt.Errorf("api_timeout: %q is not a number of seconds", v)
		}
		r.apiTimeout = time.Duration(f * float64(time.Second))
	}
	if v := str(c["status_code_retries"]); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 100 {
			return nil, fmt.Errorf("status_code_retries: %q is not a whole number from 0 to 100", v)
		}
		r.retries = n
	}
	switch r.iface {
	case "", "public", "internal", "admin":
	default:
		return nil, fmt.Errorf("interface: %q is not one of public, internal, admin", r.iface)
	}
	for _, t := range serviceTypes {
		if v := str(c[t+"_endpoint_override"]); v != "" {
			r.overrides[t] = v
		}
	}
	at, err := authType(str(c["auth_type"]), r.auth)
	if err != nil {
		return nil, err
	}
	r.authType = at
	return r, nil
}

// authType normalises auth_type aliases, and infers it when unset.
func authType(t string, auth map[string]string) (string, error) {
	switch strings.ToLower(strings.ReplaceAll(t, "-", "_")) {
	case "":
		switch {
		case auth["application_credential_secret"] != "" || auth["application_credential_id"] != "":
			return AuthApplicationCredential, nil
		case auth["token"] != "" && auth["password"] == "":
			return AuthToken, nil
		case auth["endpoint"] != "" && auth["auth_url"] == "":
			return AuthNone, nil
		}
		return AuthPassword, nil
	case "password", "v3password", "v2password":
		return AuthPassword, nil
	case "v3applicationcredential", "applicationcredential", "application_credential", "v3_application_credential":
		return AuthApplicationCredential, nil
	case "token", "v3token", "v2token":
		return AuthToken, nil
	case "none", "noauth":
		return AuthNone, nil
	case "http_basic", "httpbasic":
		return AuthHTTPBasic, nil
	}
	return "", fmt.Errorf("auth_type %q is not supported (use password, v3applicationcredential, token, none or http_basic)", t)
}

// cloudsLocations lists where clouds.yaml (or secure.yaml) is looked for, in
// openstacksdk's order.
func cloudsLocations(base string) []string {
	var locs []string
	envVar := "OS_CLIENT_CONFIG_FILE"
	if base == "secure" {
		envVar = "OS_CLIENT_SECURE_FILE"
	}
	if p := os.Getenv(envVar); p != "" {
		locs = append(locs, p)
	}
	dirs := []string{"."}
	if x := os.Getenv("XDG_CONFIG_HOME"); x != "" {
		dirs = append(dirs, filepath.Join(x, "openstack"))
	} else if h, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(h, ".config", "openstack"))
	}
	dirs = append(dirs, "/etc/openstack")
	for _, d := range dirs {
		for _, ext := range []string{".yaml", ".yml"} {
			locs = append(locs, filepath.Join(d, base+ext))
		}
	}
	return locs
}

// maxCloudsFile bounds clouds.yaml and secure.yaml.
const maxCloudsFile = 4 << 20

// loadClouds reads the first clouds.yaml found and lays the first
// secure.yaml found over it, cloud by cloud. No file is not an error: path is then "".
func loadClouds() (map[string]any, string, error) {
	clouds, path, err := readFirst("clouds.yaml", cloudsLocations("clouds"))
	if err != nil || path == "" {
		return nil, "", err
	}
	// secure.yaml: OS_CLIENT_SECURE_FILE, then beside the clouds.yaml found
	// (as gophercloud does), then openstacksdk's locations.
	secureLocs := cloudsLocations("secure")
	beside := filepath.Join(filepath.Dir(path), "secure.yaml")
	if p := os.Getenv("OS_CLIENT_SECURE_FILE"); p != "" {
		secureLocs = slices.Insert(secureLocs, 1, beside)
	} else {
		secureLocs = slices.Insert(secureLocs, 0, beside)
	}
	secure, spath, err := readFirst("secure.yaml", secureLocs)
	if err != nil {
		return nil, "", err
	}
	if spath != "" {
		for name, sc := range secure {
			sm, _ := sc.(map[string]any)
			cm, ok := clouds[name].(map[string]any)
			if !ok || sm == nil {
				continue
			}
			clouds[name] = deepMerge(cm, sm)
		}
	}
	return clouds, path, nil
}

func readFirst(kind string, paths []string) (map[string]any, string, error) {
	for _, p := range paths {
		b, err := safefile.Read(kind, p, maxCloudsFile)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		v, err := yamlload.Parse(b, yamlload.Text)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", p, err)
		}
		doc, _ := v.(map[string]any)
		clouds, _ := doc["clouds"].(map[string]any)
		if clouds == nil {
			clouds = map[string]any{}
		}
		return clouds, p, nil
	}
	return nil, "", nil
}

// configStrings turns an Ansible/JSON value into the config shape:
// string-keyed maps and lists (see decoded.MapLeaves) with configText at
// the leaves.
func configStrings(v any) any { return decoded.MapLeaves(v, configText) }

// configText is configStrings' leaf: every scalar becomes its text (a bool
// "true", a json.Number its literal, a float64 without exponent), nil stays
// nil. It differs from internal/enroll's canonicalNumber on purpose: a
// cloud dict must look like a cloud read from clouds.yaml (yamlload.Text
// gives every scalar as text), because the merge and the readers (str,
// parseBool, the timeouts) take strings.
func configText(v any) any {
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// deepMerge returns base with over laid on top (maps recursively).
func deepMerge(base, over map[string]any) map[string]any {
	out := make(map[string]any, len(base))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		bm, ok1 := out[k].(map[string]any)
		om, ok2 := v.(map[string]any)
		if ok1 && ok2 {
			out[k] = deepMerge(bm, om)
			continue
		}
		if v != nil {
			out[k] = v
		}
	}
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// parseBool reads a clouds.yaml or OS_* boolean with the collection's one
// boolean parser.
func parseBool(s string) (bool, error) {
	b, err := ansible.Boolean(s)
	if err != nil {
		return false, fmt.Errorf("not a boolean: %q", s)
	}
	return b, nil
}
