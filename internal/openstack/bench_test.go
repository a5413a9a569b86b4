package openstack

import (
	"context"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
)

func resetMicroversions() {
	microversions.Lock()
	microversions.byKey = nil
	microversions.Unlock()
}

// BenchmarkConnectFirstCall is what every module run pays before its first
// answer: resolve options, authenticate (or not), discover the catalog
// endpoint and microversion, and list Ironic nodes, each in a fresh process
// (cold microversion cache).
func BenchmarkConnectFirstCall(b *testing.B) {
	cases := []struct {
		name string
		opts func(f *fakeCloud) Options
	}{
		{"password", func(f *fakeCloud) Options {
			return Options{Auth: Auth{AuthURL: f.url("/identity/v3"), Username: "admin", Password: "pw", ProjectName: "admin"}}
		}},
		{"none", func(f *fakeCloud) Options {
			f.requireToken = false
			return Options{AuthType: "none", Auth: Auth{Endpoint: f.url("/baremetal")}}
		}},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			f := newFakeCloud(b)
			opts := bc.opts(f)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				resetMicroversions()
				c, err := Connect(ctx, opts)
				if err != nil {
					b.Fatal(err)
				}
				bm, err := c.Baremetal(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := nodes.List(bm, nil).AllPages(ctx); err != nil {
					b.Fatal(err)
				}
				c.Provider.HTTPClient.CloseIdleConnections()
			}
		})
	}
}
