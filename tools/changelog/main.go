// Command changelog writes CHANGELOG.rst from changelogs/ (antsibull-changelog's
// changelog.yaml and fragments) and the modules' sidecar docs; `make
// collection` runs it. See internal/changelog.
//
//	go run ./tools/changelog -version 1.0.0 -changelogs changelogs -docs collection/plugins/modules -o CHANGELOG.rst
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/metalkit/baremetal/internal/changelog"
)

func main() {
	version := flag.String("version", "", "the version being built (galaxy.yml's)")
	dir := flag.String("changelogs", "changelogs", "folder with changelog.yaml and fragments/")
	docs := flag.String("docs", "collection/plugins/modules", "folder of the modules' sidecar docs (NAME.yml)")
	collection := flag.String("collection", "metalkit.baremetal", "namespace.name")
	out := flag.String("o", "CHANGELOG.rst", "file to write")
	flag.Parse()
	if err := run(*version, *dir, *docs, *collection, *out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(version, dir, docs, collection, out string) error {
	mods, err := changelog.NewModules(docs, version)
	if err != nil {
		return err
	}
	releases, err := changelog.Load(dir, version, mods)
	if err != nil {
		return err
	}
	return os.WriteFile(out, []byte(changelog.RST(collection, releases)), 0o644)
}
