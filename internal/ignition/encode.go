package ignition

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/vincent-petithory/dataurl"
)

// dataURL encodes data the shorter way: percent-escaped (text) or base64
// (binary), as Butane does. Ties go to the readable form.
func dataURL(data []byte) string {
	pct := "data:," + dataurl.Escape(data)
	if b64len := len("data:;base64,") + base64.StdEncoding.EncodedLen(len(data)); b64len < len(pct) {
		return "data:;base64," + base64.StdEncoding.EncodeToString(data)
	}
	return pct
}

// gzipDataURL returns a base64 data URL of gzipped data when that is shorter
// than dataURL(data); ok=false means keep the plain form.
func gzipDataURL(data []byte) (u string, ok bool) {
	var buf bytes.Buffer
	// A zero gzip header (no name, mtime 0) keeps the output deterministic.
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(data)
	_ = zw.Close()
	gz := "data:;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())
	if len(gz) >= len(dataURL(data)) {
		return "", false
	}
	return gz, true
}

// marshal is json.Marshal without HTML escaping (unit files are full of
// `&&` and `<`, and escaping them only costs user-data bytes) and without
// the trailing newline. Maps come out with sorted keys: deterministic.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// toMap turns a struct into its JSON object form with the empty parts
// pruned (see prune).
func toMap(v any) (map[string]any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	if pruned, ok := prune(m).(map[string]any); ok {
		return pruned, nil
	}
	return map[string]any{}, nil
}

// prune drops nulls, empty objects and empty arrays. encoding/json's
// omitempty never omits a struct, so Ignition's types marshal to
// `"passwd":{}`, `"verification":{}` and 3.0's `"source":null`; Ignition
// reads all of those as absent, so dropping them changes nothing but size.
func prune(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if p := prune(e); p == nil {
				delete(t, k)
			} else {
				t[k] = p
			}
		}
		if len(t) == 0 {
			return nil
		}
		return t
	case []any:
		out := t[:0]
		for _, e := range t {
			// An element that prunes to nothing was an empty object in a list
			// (never produced by Ignition's types); keep it as {} so indexes hold.
			if p := prune(e); p != nil {
				out = append(out, p)
			} else {
				out = append(out, map[string]any{})
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	default:
		return v
	}
}

// jsonPath renders a validator path like storage.files[0].path.
func jsonPath(elems []any) string {
	var b bytes.Buffer
	for _, e := range elems {
		switch x := e.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", x)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, x)
		}
	}
	if b.Len() == 0 {
		return "(top level)"
	}
	return b.String()
}
