// Package yamlload is the one YAML loader of the collection (nodes_file,
// clouds.yaml, secure.yaml): a YAML document to plain values (maps, lists,
// scalars), with what a hostile file needs: an alias that contains itself
// is an error, not a stack overflow, and aliases may not expand the
// document beyond MaxValues values (a "billion laughs" file), nor nest
// deeper than MaxDepth.
package yamlload

import (
	"encoding/json"
	"errors"
	"fmt"

	"go.yaml.in/yaml/v3"
)

const (
	// MaxValues bounds the values a document may expand to, aliases
	// followed: far above any instackenv or clouds.yaml, far below memory.
	MaxValues = 1 << 20
	// MaxDepth bounds nesting.
	MaxDepth = 256
)

// Scalar turns a scalar node into a value.
type Scalar func(n *yaml.Node) (any, error)

// Text keeps every scalar as its source text (null as nil): a password
// such as yes, 0123 or 1e3 stays what the operator wrote.
func Text(n *yaml.Node) (any, error) {
	if n.ShortTag() == "!!null" {
		return nil, nil
	}
	return n.Value, nil
}

// Typed reads booleans as bool and numbers as json.Number carrying their
// source text; other scalars stay strings.
func Typed(n *yaml.Node) (any, error) {
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
	}
	return n.Value, nil
}

// ErrTooLarge is the expansion or nesting bound being hit.
var ErrTooLarge = errors.New("the document expands beyond the loader's bounds")

// Parse reads one YAML document (JSON is YAML too) into plain values.
func Parse(data []byte, scalar Scalar) (any, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, err
	}
	w := &walker{scalar: scalar, open: map[*yaml.Node]bool{}}
	return w.value(&root, 0)
}

type walker struct {
	scalar Scalar
	open   map[*yaml.Node]bool // anchors being expanded: meeting one again is a cycle
	values int
}

func (w *walker) value(n *yaml.Node, depth int) (any, error) {
	w.values++
	if w.values > MaxValues {
		return nil, fmt.Errorf("line %d: %w: more than %d values once aliases are expanded", n.Line, ErrTooLarge, MaxValues)
	}
	if depth > MaxDepth {
		return nil, fmt.Errorf("line %d: %w: nested deeper than %d", n.Line, ErrTooLarge, MaxDepth)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return w.value(n.Content[0], depth)
	case yaml.AliasNode:
		if w.open[n.Alias] {
			return nil, fmt.Errorf("line %d: alias *%s refers to a value that contains it (an alias cycle)", n.Line, n.Value)
		}
		w.open[n.Alias] = true
		defer delete(w.open, n.Alias)
		return w.value(n.Alias, depth+1)
	case yaml.MappingNode:
		if n.Anchor != "" {
			w.open[n] = true
			defer delete(w.open, n)
		}
		out := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			val, err := w.value(v, depth+1)
			if err != nil {
				return nil, err
			}
			if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
				// <<: *defaults: the merged keys, where not set here.
				if m, ok := val.(map[string]any); ok {
					for mk, mv := range m {
						if _, set := out[mk]; !set {
							out[mk] = mv
						}
					}
				}
				continue
			}
			out[k.Value] = val
		}
		return out, nil
	case yaml.SequenceNode:
		if n.Anchor != "" {
			w.open[n] = true
			defer delete(w.open, n)
		}
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			val, err := w.value(c, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, val)
		}
		return out, nil
	case yaml.ScalarNode:
		return w.scalar(n)
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}
