// Package changelog renders the collection's CHANGELOG.rst from the files
// antsibull-changelog keeps (changelogs/changelog.yaml with the released
// versions, changelogs/fragments/*.yml for the version being built), in the
// layout antsibull-changelog generates. Debian 12 does not package
// antsibull-changelog and the build is offline, so `make collection` runs
// this instead; the file formats stay antsibull's, so the tool can take
// over (`antsibull-changelog release`) without rewriting anything.
package changelog

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Sections are antsibull-changelog's default change types, in its order,
// with its titles.
var Sections = []struct{ Key, Title string }{
	{"major_changes", "Major Changes"},
	{"minor_changes", "Minor Changes"},
	{"breaking_changes", "Breaking Changes / Porting Guide"},
	{"deprecated_features", "Deprecated Features"},
	{"removed_features", "Removed Features (previously deprecated)"},
	{"security_fixes", "Security Fixes"},
	{"bugfixes", "Bugfixes"},
	{"known_issues", "Known Issues"},
}

// Module is a module new in a release.
type Module struct {
	Name        string `yaml:"name"`
	Namespace   string `yaml:"namespace"`
	Description string `yaml:"description"`
}

// Release is one version's entry of changelog.yaml.
type Release struct {
	Version     string         `yaml:"-"`
	ReleaseDate string         `yaml:"release_date"`
	Changes     map[string]any `yaml:"changes"`
	Modules     []Module       `yaml:"modules"`
}

var version = regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)$`)

// Load reads dir/changelog.yaml and, when current is not released there
// yet, adds it as a release built from dir/fragments/*.yml (or .yaml) with
// newModules as its new modules. A fragment with an unknown section, a
// section that is not a list of strings, or a release_summary that is not
// one string is an error naming the file.
func Load(dir, current string, newModules []Module) ([]Release, error) {
	if !version.MatchString(current) {
		return nil, fmt.Errorf("changelog: version %q is not X.Y.Z", current)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "changelog.yaml"))
	if err != nil {
		return nil, fmt.Errorf("changelog: %w", err)
	}
	var file struct {
		Releases map[string]Release `yaml:"releases"`
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		return nil, fmt.Errorf("changelog: %s: %w", filepath.Join(dir, "changelog.yaml"), err)
	}
	var out []Release
	for v, r := range file.Releases {
		if !version.MatchString(v) {
			return nil, fmt.Errorf("changelog: changelog.yaml: release %q is not X.Y.Z", v)
		}
		r.Version = v
		out = append(out, r)
	}
	if _, released := file.Releases[current]; !released {
		r := Release{Version: current, Changes: map[string]any{}, Modules: newModules}
		frags, err := filepath.Glob(filepath.Join(dir, "fragments", "*.y*ml"))
		if err != nil {
			return nil, err
		}
		slices.Sort(frags)
		for _, f := range frags {
			if err := addFragment(r.Changes, f); err != nil {
				return nil, err
			}
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Release) int { return compareVersions(b.Version, a.Version) })
	return out, nil
}

func addFragment(changes map[string]any, path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("changelog: %w", err)
	}
	var frag map[string]any
	if err := yaml.Unmarshal(raw, &frag); err != nil {
		return fmt.Errorf("changelog: fragment %s: %w", path, err)
	}
	for key, val := range frag {
		if key == "release_summary" {
			s, ok := val.(string)
			if !ok || strings.TrimSpace(s) == "" {
				return fmt.Errorf("changelog: fragment %s: release_summary: expected one non-empty string", path)
			}
			if prev, ok := changes[key].(string); ok {
				s = prev + "\n\n" + s
			}
			changes[key] = s
			continue
		}
		if !slices.ContainsFunc(Sections, func(s struct{ Key, Title string }) bool { return s.Key == key }) {
			return fmt.Errorf("changelog: fragment %s: unknown section %q, expected one of release_summary, %s", path, key, sectionKeys())
		}
		items, ok := val.([]any)
		if !ok || len(items) == 0 {
			return fmt.Errorf("changelog: fragment %s: %s: expected a list of strings", path, key)
		}
		for _, it := range items {
			s, ok := it.(string)
			if !ok || strings.TrimSpace(s) == "" {
				return fmt.Errorf("changelog: fragment %s: %s: expected a list of strings", path, key)
			}
			prev, _ := changes[key].([]any)
			changes[key] = append(prev, s)
		}
	}
	return nil
}

func sectionKeys() string {
	keys := make([]string, len(Sections))
	for i, s := range Sections {
		keys[i] = s.Key
	}
	return strings.Join(keys, ", ")
}

func compareVersions(a, b string) int {
	ma, mb := version.FindStringSubmatch(a), version.FindStringSubmatch(b)
	for i := 1; i <= 3; i++ {
		var x, y int
		fmt.Sscan(ma[i], &x)
		fmt.Sscan(mb[i], &y)
		if c := cmp.Compare(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// RST renders the releases, newest first, as antsibull-changelog lays out
// CHANGELOG.rst; collection is namespace.name.
func RST(collection string, releases []Release) string {
	var b strings.Builder
	title := collection + " Release Notes"
	rule := strings.Repeat("=", len(title))
	fmt.Fprintf(&b, "%s\n%s\n%s\n\n.. contents:: Topics\n\n", rule, title, rule)
	for _, r := range releases {
		head := "v" + r.Version
		if r.ReleaseDate == "" {
			head += " (unreleased)"
		}
		fmt.Fprintf(&b, "%s\n%s\n\n", head, strings.Repeat("=", len(head)))
		if s, ok := r.Changes["release_summary"].(string); ok {
			section(&b, "Release Summary")
			b.WriteString(strings.TrimSpace(s) + "\n\n")
		}
		for _, s := range Sections {
			items, _ := r.Changes[s.Key].([]any)
			if len(items) == 0 {
				continue
			}
			section(&b, s.Title)
			for _, it := range items {
				b.WriteString(bullet(fmt.Sprint(it)))
			}
			b.WriteString("\n")
		}
		if len(r.Modules) > 0 {
			section(&b, "New Modules")
			mods := slices.Clone(r.Modules)
			slices.SortFunc(mods, func(x, y Module) int { return cmp.Compare(x.Name, y.Name) })
			for _, m := range mods {
				b.WriteString(bullet(collection + "." + m.Name + " - " + m.Description))
			}
			b.WriteString("\n")
		}
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

func section(b *strings.Builder, title string) {
	fmt.Fprintf(b, "%s\n%s\n\n", title, strings.Repeat("-", len(title)))
}

// bullet is one RST list item; continuation lines are indented under it.
func bullet(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := 1; i < len(lines); i++ {
		if lines[i] != "" {
			lines[i] = "  " + lines[i]
		}
	}
	return "- " + strings.Join(lines, "\n") + "\n"
}

// NewModules lists the modules whose sidecar docs (docsDir/*.yml, as
// `make docs` writes them) say version_added: version, as antsibull-changelog
// finds a release's new modules.
func NewModules(docsDir, version string) ([]Module, error) {
	files, err := filepath.Glob(filepath.Join(docsDir, "*.yml"))
	if err != nil {
		return nil, err
	}
	var mods []Module
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("changelog: %w", err)
		}
		var side struct {
			Doc struct {
				Module           string `yaml:"module"`
				ShortDescription string `yaml:"short_description"`
				VersionAdded     string `yaml:"version_added"`
			} `yaml:"DOCUMENTATION"`
		}
		if err := yaml.Unmarshal(raw, &side); err != nil {
			return nil, fmt.Errorf("changelog: %s: %w", f, err)
		}
		if side.Doc.Module == "" || side.Doc.VersionAdded == "" {
			return nil, fmt.Errorf("changelog: %s: DOCUMENTATION needs module and version_added", f)
		}
		if side.Doc.VersionAdded == version {
			mods = append(mods, Module{Name: side.Doc.Module, Description: side.Doc.ShortDescription})
		}
	}
	return mods, nil
}
