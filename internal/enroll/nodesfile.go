package enroll

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// LoadFile reads an instackenv file, JSON or YAML: a {"nodes": [...]}
// document or a bare list of nodes. YAML scalars keep their text, so an
// unquoted pm_password: yes or 0123 stays the string the operator wrote.
func LoadFile(path string) ([]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("nodes_file: %w", err)
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
		var root yaml.Node
		if err := yaml.Unmarshal(data, &root); err != nil {
			return nil, fmt.Errorf("nodes_file %s is not valid YAML: %v", path, err)
		}
		if doc, err = fromYAML(&root); err != nil {
			return nil, fmt.Errorf("nodes_file %s: %v", path, err)
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

// fromYAML converts a YAML tree to JSON-like values. Numbers become
// json.Number carrying the source text; strings stay strings.
func fromYAML(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return fromYAML(n.Content[0])
	case yaml.AliasNode:
		return fromYAML(n.Alias)
	case yaml.MappingNode:
		out := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
				merged, err := fromYAML(n.Content[i+1])
				if err != nil {
					return nil, err
				}
				if m, ok := merged.(map[string]any); ok {
					for mk, mv := range m {
						if _, set := out[mk]; !set {
							out[mk] = mv
						}
					}
				}
				continue
			}
			v, err := fromYAML(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			out[k.Value] = v
		}
		return out, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := fromYAML(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, nil
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				return nil, fmt.Errorf("line %d: %v", n.Line, err)
			}
			return b, nil
		case "!!int", "!!float":
			return json.Number(n.Value), nil
		default:
			return n.Value, nil
		}
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}
