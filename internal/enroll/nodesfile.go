package enroll

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/metalkit/baremetal/internal/safefile"
	"github.com/metalkit/baremetal/internal/yamlload"
)

// maxNodesFile bounds nodes_file: 1000 nodes of instackenv are 0.5 MiB.
const maxNodesFile = 64 << 20

// LoadFile reads an instackenv file, JSON or YAML: a {"nodes": [...]}
// document or a bare list of nodes. YAML scalars keep their text, so an
// unquoted pm_password: yes or 0123 stays the string the operator wrote.
func LoadFile(path string) ([]any, error) {
	data, err := safefile.Read("nodes_file", path, maxNodesFile)
	if err != nil {
		return nil, err
	}
	var doc any
	ext := strings.ToLower(filepath.Ext(path))
	trimmed := bytes.TrimSpace(data)
	if ext == ".json" || (ext != ".yaml" && ext != ".yml" && len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			return nil, fmt.Errorf("nodes_file %s is not valid JSON: %v", path, err)
		}
	} else {
		if doc, err = yamlload.Parse(data, yamlload.Typed); err != nil {
			return nil, fmt.Errorf("nodes_file %s is not valid YAML: %v", path, err)
		}
	}
	switch d := doc.(type) {
	case map[string]any:
		nodes, ok := d["nodes"]
		if !ok {
			return nil, fmt.Errorf("nodes_file %s has no \"nodes\" list (instackenv format: {\"nodes\": [...]})", path)
		}
		list, ok := nodes.([]any)
		if !ok {
			return nil, fmt.Errorf("nodes_file %s: \"nodes\" must be a list", path)
		}
		return list, nil
	case []any:
		return d, nil
	}
	return nil, fmt.Errorf("nodes_file %s must hold {\"nodes\": [...]} or a list of nodes", path)
}
