package inspect

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// maxResourceClass is Ironic's limit on resource_class.
const maxResourceClass = 80

// NewDesired checks and assembles what the operator asked for. capabilities
// is a "k:v,k:v" string or a dict; properties keys are set one by one (a
// null value removes the key). It returns warnings for input it corrected:
// the CUSTOM_ resource-class trap and the old properties/resources idiom.
func NewDesired(provide, force bool, capabilities any, resourceClass string, properties map[string]any) (Desired, []string, error) {
	d := Desired{Provide: provide, Force: force}
	var warnings []string
	var problems []string

	props := make(map[string]any, len(properties))
	keys := make([]string, 0, len(properties))
	for k := range properties {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := properties[k]
		switch {
		case strings.TrimSpace(k) == "" || strings.ContainsAny(k, "/~"):
			problems = append(problems, fmt.Sprintf("properties: key %q is not a property name (no '/' or '~', not empty)", k))
		case k == "capabilities":
			c, err := ParseCapabilities(v)
			if err != nil {
				problems = append(problems, "properties.capabilities: "+err.Error())
			}
			d.Capabilities = d.Capabilities.Merge(c)
		case k == "resources":
			rc, err := resourcesIdiom(v)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			if resourceClass != "" && normalizeResourceClass(resourceClass) != rc {
				problems = append(problems, fmt.Sprintf("resource_class %q and properties.resources (%v) disagree", resourceClass, v))
				continue
			}
			warnings = append(warnings, fmt.Sprintf(
				"properties.resources=%v is the old way to match a flavor; Nova schedules on the node's resource_class, so resource_class %q is set instead (the flavor asks for resources:CUSTOM_%s=1).",
				v, rc, strings.ToUpper(rc)))
			resourceClass = rc
		default:
			props[k] = v
		}
	}
	if len(props) > 0 {
		d.Properties = props
	}

	c, err := ParseCapabilities(capabilities)
	if err != nil {
		problems = append(problems, "capabilities: "+err.Error())
	}
	d.Capabilities = d.Capabilities.Merge(c)

	if resourceClass != "" {
		rc := normalizeResourceClass(resourceClass)
		if rc != resourceClass {
			warnings = append(warnings, fmt.Sprintf(
				"resource_class %q: Nova adds the CUSTOM_ prefix itself and would look for CUSTOM_%s; using %q (the flavor asks for resources:CUSTOM_%s=1).",
				resourceClass, strings.ToUpper(resourceClass), rc, strings.ToUpper(rc)))
		}
		switch {
		case rc == "":
			problems = append(problems, fmt.Sprintf("resource_class %q: nothing left once the CUSTOM_ prefix is removed", resourceClass))
		case len(rc) > maxResourceClass:
			problems = append(problems, fmt.Sprintf("resource_class: %d characters, Ironic takes at most %d", len(rc), maxResourceClass))
		}
		d.ResourceClass = rc
	}
	if len(problems) > 0 {
		return Desired{}, warnings, errors.New(strings.Join(problems, "; "))
	}
	return d, warnings, nil
}

// normalizeResourceClass strips the CUSTOM_ trap: Nova adds that prefix itself.
func normalizeResourceClass(s string) string {
	if strings.HasPrefix(strings.ToUpper(s), "CUSTOM_") {
		return strings.ToLower(s[len("CUSTOM_"):])
	}
	return s
}

// resourcesIdiom reads the old properties/resources=CUSTOM_BAREMETAL:1.
func resourcesIdiom(v any) (string, error) {
	c, err := ParseCapabilities(v)
	if err != nil || len(c) != 1 || !strings.HasPrefix(strings.ToUpper(c[0].Key), "CUSTOM_") || c[0].Value != "1" {
		return "", fmt.Errorf("properties.resources must be one CUSTOM_<CLASS>:1 entry (the old flavor-matching idiom); better set resource_class")
	}
	return strings.ToLower(c[0].Key[len("CUSTOM_"):]), nil
}
