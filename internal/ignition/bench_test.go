package ignition

import (
	"testing"
)

// BenchmarkRender measures one Render: checks, build, base merge, Ignition's
// validator and (for "compressed") the second pass with gzip.
func BenchmarkRender(b *testing.B) {
	typical := fullOptions(sshPublicKey(b, "bench@example.invalid"), string(caCertPEM(b, certOpts{cn: "bench"})))
	withBase := typical
	withBase.Base = base34(sshPublicKey(b, "base@example.invalid"))
	cases := []struct {
		name string
		opts Options
		spec string
	}{
		{"3.5.0", typical, "3.5.0"},
		{"3.0.0", typical, "3.0.0"},
		{"2.2.0", typical, "2.2.0"},
		{"3.4.0-base", withBase, "3.4.0"},
		{"3.4.0-compressed-60KiB-CA", Options{CACertificates: []string{bundle(b, 8, certOpts{sans: 150})}}, "3.4.0"},
	}
	for _, c := range cases {
		c.opts.SpecVersion = c.spec
		b.Run(c.name, func(b *testing.B) {
			r, err := Render(c.opts)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(r.Size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Render(c.opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
