package hostile

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/metalkit/baremetal/internal/server/fakecloud"
)

const recorded = "../fixtures/server/recorded"

// novaEnv is the fake cloud behind a recording front.
type novaEnv struct {
	Cloud *fakecloud.Cloud
	Front *Front
}

func newNova(t *testing.T) (*novaEnv, *Base) {
	c := fakecloud.New(t, recorded)
	c.AddBasics()
	c.Boot = func(s map[string]any) { c.Land(s, fakecloud.GoodNode) }
	e := &novaEnv{Cloud: c, Front: NewFront(t, c.URL)}
	b := &Base{Overrides: map[string]any{}, Primary: "compute_endpoint_override", Writes: func() int { return len(c.Writes) }}
	for k, v := range c.CloudConfig() {
		if s, ok := v.(string); ok && strings.HasSuffix(k, "_endpoint_override") {
			b.Overrides[k] = strings.Replace(s, c.URL, e.Front.URL, 1)
		}
	}
	b.Args = map[string]any{"cloud": b.Cloud(map[string]any{"auth_type": "none"}), "name": "h-srv", "image": "rhcos",
		"flavor": "insp-scale", "network": "ctlplane", "user_data": SentUserData, "timeout": 30}
	return e, b
}

// echoCreate makes Nova refuse the boot with a 400 that quotes the request
// body, user data included (base64), as a validation error may.
func echoCreate(e *novaEnv) {
	e.Front.Intercept = func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/servers") {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"badRequest": map[string]any{"code": 400,
			"message": "Invalid input for field/attribute server. Value: " + string(body)}})
		return true
	}
}

// liveServers are the servers the fake holds that are not deleted.
func liveServers(c *fakecloud.Cloud) []string {
	var out []string
	for _, s := range c.Servers {
		if s["status"] != "DELETED" {
			out = append(out, s["id"].(string)+" "+s["status"].(string))
		}
	}
	return out
}

func TestNova(t *testing.T) {
	start := func(t *testing.T) *Base { _, b := newNova(t); return b }
	tg := Target{Module: "nova_bm_server", Start: start}
	udf := []string{"user_data_file"}
	udFile := func(path func(t *testing.T) string) func(t *testing.T) *Run {
		return func(t *testing.T) *Run {
			b := start(t)
			return &Run{Args: b.With("user_data", nil, "user_data_file", path(t)), Check: noWrites(b)}
		}
	}
	cases := []Case{
		{Name: "secrets/user_data boots", Want: OK, Setup: func(t *testing.T) *Run {
			return &Run{Args: start(t).Args}
		}},
		{Name: "secrets/user_data check+diff", Want: OK, Setup: func(t *testing.T) *Run {
			b := start(t)
			return &Run{Args: b.With("_ansible_check_mode", true, "_ansible_diff", true), Check: noWrites(b)}
		}},
		{Name: "secrets/user_data echoed base64 by nova 400", Want: Fail, Setup: func(t *testing.T) *Run {
			e, b := newNova(t)
			echoCreate(e)
			return &Run{Args: b.Args}
		}},
		{Name: "secrets/user_data_file content echoed base64 by nova 400", Want: Fail, Setup: func(t *testing.T) *Run {
			e, b := newNova(t)
			echoCreate(e)
			p := WriteFile(t, "node.ign", `{"ignition":{"version":"3.4.0"},"passwd":{"users":[{"name":"core","passwordHash":"`+SentUDFile+`"}]}}`)
			return &Run{Args: b.With("user_data", nil, "user_data_file", p)}
		}},
		{Name: "file/user_data_file is /dev/zero", Want: Fail, Names: udf, Setup: udFile(func(*testing.T) string { return "/dev/zero" })},
		{Name: "file/user_data_file is a FIFO", Want: Fail, Names: udf, Setup: udFile(FIFO)},
		{Name: "file/user_data_file is a directory", Want: Fail, Names: udf, Setup: udFile(func(t *testing.T) string { return t.TempDir() })},
		{Name: "file/user_data_file is a 2 GiB sparse file", Want: Fail, Names: udf, Setup: udFile(func(t *testing.T) string { return Sparse(t, 2<<30) })},
		{Name: "signal/SIGTERM during the wait for ACTIVE", Want: Fail, Setup: func(t *testing.T) *Run {
			e, b := newNova(t)
			e.Cloud.Boot = nil // the server stays in BUILD
			return &Run{Args: b.Args, Signal: 2 * time.Second, Check: func(t *testing.T, _ *Outcome) {
				if live := liveServers(e.Cloud); len(live) > 0 {
					t.Errorf("the interrupted boot left a half-made server: %v", live)
				}
			}}
		}},
	}
	for _, name := range hostileNames {
		cases = append(cases, Case{Name: "path/availability_zone node " + name, Want: Any, Setup: func(t *testing.T) *Run {
			e, b := newNova(t)
			return &Run{Args: b.With("availability_zone", "nova::"+name), Check: func(t *testing.T, o *Outcome) {
				AssertNameEscaped(t, o, e.Front, name, "availability_zone")
			}}
		}})
	}
	Check(t, "nova_bm_server", append(ConnectionCases(tg), cases...))
}
