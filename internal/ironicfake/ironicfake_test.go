package ironicfake

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// do sends one request and decodes the answer, if any.
func do(t *testing.T, s *Server, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestCreateManageMaskAndCount(t *testing.T) {
	s := New(t)
	s.StepTime = 300 * time.Millisecond // wide: the GET right after the PUT must land inside it on a loaded machine
	code, n := do(t, s, "POST", "/v1/nodes", `{"name":"n-1","driver":"ipmi","driver_info":{"ipmi_password":"pw-1"}}`)
	require.Equal(t, 201, code)
	assert.Equal(t, "******", n["driver_info"].(map[string]any)["ipmi_password"], "API answers mask passwords")
	assert.Equal(t, "pw-1", s.Node("n-1")["driver_info"].(map[string]any)["ipmi_password"], "Node shows what is stored")
	code, _ = do(t, s, "POST", "/v1/ports", `{"address":"52:54:00:AA:00:01","node_uuid":"`+n["uuid"].(string)+`"}`)
	require.Equal(t, 201, code)
	assert.Equal(t, []string{"52:54:00:aa:00:01"}, s.PortsOf("n-1"))

	code, _ = do(t, s, "PUT", "/v1/nodes/n-1/states/provision", `{"target":"manage"}`)
	require.Equal(t, 202, code)
	_, got := do(t, s, "GET", "/v1/nodes/n-1", "")
	assert.Equal(t, "verifying", got["provision_state"])
	time.Sleep(350 * time.Millisecond)
	_, got = do(t, s, "GET", "/v1/nodes/"+n["uuid"].(string), "")
	assert.Equal(t, "manageable", got["provision_state"], "done after StepTime")
	assert.Nil(t, got["target_provision_state"])

	assert.Equal(t, map[string]int{"POST /v1/nodes": 1, "POST /v1/ports": 1, "PUT /v1/nodes/ID/states/provision": 1, "GET /v1/nodes/ID": 2}, s.Requests)
	assert.Equal(t, []string{"POST node n-1", "POST port 52:54:00:aa:00:01", "PUT manage n-1", "GET n-1", "GET n-1"}, s.Calls())
	assert.Equal(t, []string{"POST node n-1", "POST port 52:54:00:aa:00:01", "PUT manage n-1"}, s.Writes())
	assert.Nil(t, New(t).Writes(), "no write: nil")
}

func TestManageRefusedByBMC(t *testing.T) {
	s := New(t)
	s.StepTime = 0
	a := s.Add("bad-pw", "enroll", Field("driver_info", map[string]any{"ipmi_password": BadPassword}))
	s.Add("bad-opt", "enroll", ManageError("IPMI call failed"))
	for _, name := range []string{"bad-pw", "bad-opt"} {
		code, _ := do(t, s, "PUT", "/v1/nodes/"+name+"/states/provision", `{"target":"manage"}`)
		require.Equal(t, 202, code)
		n := s.Node(name)
		assert.Equal(t, "enroll", n["provision_state"], name)
		assert.Contains(t, n["last_error"], "IPMI call failed", name)
	}
	assert.Equal(t, "Failed to get power state for node "+a.UUID()+". Error: IPMI call failed: power status.", s.Node("bad-pw")["last_error"])
}

func TestPatchLocksDropAndDelete(t *testing.T) {
	s := New(t)
	s.Add("n-1", "manageable", Field("properties", map[string]any{"cpus": 2}), Ports("52:54:00:aa:00:02"))

	code, _ := do(t, s, "PATCH", "/v1/nodes/n-1", `[{"op":"add","path":"/properties/capabilities","value":"boot_mode:uefi"},{"op":"remove","path":"/properties/cpus"},{"op":"replace","path":"/resource_class","value":"baremetal"}]`)
	require.Equal(t, 200, code)
	n := s.Node("n-1")
	assert.Equal(t, map[string]any{"capabilities": "boot_mode:uefi"}, n["properties"])
	assert.Equal(t, "baremetal", n["resource_class"])
	code, _ = do(t, s, "PATCH", "/v1/nodes/n-1", `[{"op":"add","path":"/nope/x","value":1}]`)
	assert.Equal(t, 400, code)

	s.Lock("n-1", time.Hour)
	code, body := do(t, s, "PUT", "/v1/nodes/n-1/states/provision", `{"target":"provide"}`)
	assert.Equal(t, 409, code)
	assert.Contains(t, body["error_message"], "is locked by host other-conductor")
	assert.Contains(t, s.Calls(), "PUT states/provision n-1 409")
	_, got := do(t, s, "GET", "/v1/nodes/n-1", "")
	assert.Equal(t, "other-conductor", got["reservation"], "reads show the lock")

	s.Add("n-2", "enroll")
	s.Drop["DELETE /v1/nodes/ID"] = 1
	req, _ := http.NewRequest("DELETE", s.URL+"/v1/nodes/n-2", nil)
	_, err := http.DefaultClient.Do(req)
	assert.Error(t, err, "the connection is closed without an answer")
	assert.Nil(t, s.Node("n-2"), "but the API acted")

	s.Delete("n-1")
	assert.Zero(t, s.Count())
	code, list := do(t, s, "GET", "/v1/ports/detail", "")
	require.Equal(t, 200, code)
	assert.Empty(t, list["ports"], "a node's ports go with it")
}

func TestInspectDiscoversProperties(t *testing.T) {
	s := New(t)
	s.StepTime = 0
	s.Add("n-1", "manageable")
	code, _ := do(t, s, "PUT", "/v1/nodes/n-1/states/provision", `{"target":"inspect"}`)
	require.Equal(t, 202, code)
	n := s.Node("n-1")
	assert.Equal(t, "manageable", n["provision_state"])
	assert.NotNil(t, n["inspection_finished_at"])
	assert.EqualValues(t, 8, n["properties"].(map[string]any)["cpus"])
	code, _ = do(t, s, "PUT", "/v1/nodes/n-1/states/provision", `{"target":"deploy"}`)
	assert.Equal(t, 400, code)
}
