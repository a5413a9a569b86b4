package image

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imageimport"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/metalkit/baremetal/internal/openstack"
)

// Glance is the image API as this package uses it: every call is one
// gophercloud request, errors are described (and scrubbed) by the
// connection layer.
type Glance struct {
	Client *gophercloud.ServiceClient
	// Owner, when known (a project-scoped token), restricts which images of
	// the name are ours to match, clean up or delete.
	Owner string
}

// NewGlance wraps an image service client.
func NewGlance(client *gophercloud.ServiceClient, owner string) *Glance {
	return &Glance{Client: client, Owner: owner}
}

// ImagesNamed lists every image of that name we can see, whatever its status
// or visibility (community images are not in Glance's default list).
func (g *Glance) ImagesNamed(ctx context.Context, name string) ([]images.Image, error) {
	var out []images.Image
	// "all" includes community images, which Glance's default list leaves out.
	err := images.List(g.Client, images.ListOpts{Name: name, Visibility: "all", Owner: g.Owner}).EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
		imgs, err := images.ExtractImages(p)
		for _, im := range imgs {
			if im.Name == name {
				out = append(out, im)
			}
		}
		return true, err
	})
	if err != nil {
		return nil, openstack.Describe(err, fmt.Sprintf("listing images named %q", name))
	}
	return out, nil
}

// Create makes the image record (status queued).
func (g *Glance) Create(ctx context.Context, opts images.CreateOpts) (*images.Image, error) {
	im, err := images.Create(ctx, g.Client, opts).Extract()
	return im, openstack.Describe(err, fmt.Sprintf("creating image %q", opts.Name))
}

// Get reads one image.
func (g *Glance) Get(ctx context.Context, id string) (*images.Image, error) {
	im, err := images.Get(ctx, g.Client, id).Extract()
	return im, openstack.Describe(err, "image "+id)
}

// Update patches an image.
func (g *Glance) Update(ctx context.Context, id string, ops images.UpdateOpts) (*images.Image, error) {
	im, err := images.Update(ctx, g.Client, id, ops).Extract()
	return im, openstack.Describe(err, "updating image "+id)
}

// Delete removes an image; one already gone is not an error.
func (g *Glance) Delete(ctx context.Context, id string) error {
	err := images.Delete(ctx, g.Client, id).ExtractErr()
	if gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		return nil
	}
	return openstack.Describe(err, "deleting image "+id)
}

// Upload streams body as the image data. size >= 0 is sent as the
// Content-Length; otherwise the body goes chunked. The upload is never
// retried: the stream cannot rewind (the connection layer knows that too).
func (g *Glance) Upload(ctx context.Context, id string, body io.Reader, size int64) error {
	client := *g.Client
	pc := *g.Client.ProviderClient //nolint:govet // copies pointers to the shared locks, not the locks
	pc.RetryFunc = nil
	pc.HTTPClient.Transport = sizedTransport{next: transportOf(pc.HTTPClient)}
	client.ProviderClient = &pc
	sb := &sizedBody{r: body, size: size}
	err := imagedata.Upload(ctx, &client, id, sb).ExtractErr()
	if err != nil && openstack.ConnectionLost(err) && ctx.Err() == nil {
		of := ""
		if size >= 0 {
			of = " of " + humanBytes(size)
		}
		err = fmt.Errorf("the connection to Glance broke after %s%s were sent (Glance restarted, or the network cut it): %w",
			humanBytes(sb.sent.Load()), of, err)
	}
	return openstack.Describe(err, "uploading image data to "+id)
}

// ImportMethods lists the interoperable import methods the cloud offers.
func (g *Glance) ImportMethods(ctx context.Context) ([]string, error) {
	info, err := imageimport.Get(ctx, g.Client).Extract()
	if err != nil {
		return nil, openstack.Describe(err, "reading the image import methods (/v2/info/import)")
	}
	return info.ImportMethods.Value, nil
}

// WebDownload asks Glance to fetch uri itself.
func (g *Glance) WebDownload(ctx context.Context, id, uri string) error {
	err := imageimport.Create(ctx, g.Client, id, imageimport.CreateOpts{Name: imageimport.WebDownloadMethod, URI: uri}).ExtractErr()
	return openstack.Describe(err, "starting the web-download import of "+id)
}

// WaitImported polls until the import ends: active, or failed (Glance puts
// a failed import back to queued and lists the store in
// os_glance_failed_import).
func (g *Glance) WaitImported(ctx context.Context, id string, interval time.Duration) (*images.Image, error) {
	var last *images.Image
	err := openstack.WaitFor(ctx, interval, func(ctx context.Context) (bool, error) {
		im, err := g.Get(ctx, id)
		if err != nil {
			return false, err
		}
		last = im
		switch im.Status {
		case images.ImageStatusActive:
			return true, nil
		case images.ImageStatusKilled, images.ImageStatusDeleted, images.ImageStatusPendingDelete:
			return false, fmt.Errorf("image %s went %s during the import", id, im.Status)
		case images.ImageStatusQueued:
			if failed := prop(im, "os_glance_failed_import"); failed != "" && prop(im, "os_glance_importing_to_stores") == "" {
				return false, fmt.Errorf("Glance's web-download import of image %s failed (store %s); Glance's API log has the reason (often: the URL's host or port is not allowed by [import_filtering_opts])", id, failed)
			}
		}
		return false, nil
	})
	return last, err
}

// sizedBody carries a known length to sizedTransport; it is an
// io.ReadCloser so net/http keeps it as the request body itself.
type sizedBody struct {
	r    io.Reader
	size int64
	sent atomic.Int64 // bytes handed to the connection, for a broken upload's message
}

func (s *sizedBody) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.sent.Add(int64(n))
	return n, err
}

// WriteTo lets net/http copy in whole blocks: each becomes one HTTP chunk
// instead of io.Copy's 32 KiB, fewer for Glance's server to parse.
func (s *sizedBody) WriteTo(w io.Writer) (int64, error) {
	return io.CopyBuffer(w, struct{ io.Reader }{s}, make([]byte, DefaultBlockSize))
}

func (s *sizedBody) Close() error {
	if c, ok := s.r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// sizedTransport sets Content-Length for a sizedBody of known size, which
// net/http cannot learn from an arbitrary reader (it would send chunked).
type sizedTransport struct{ next http.RoundTripper }

func (t sizedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if b, ok := req.Body.(*sizedBody); ok && b.size >= 0 && req.ContentLength <= 0 {
		req = req.Clone(req.Context())
		req.ContentLength = b.size
		req.TransferEncoding = nil
	}
	return t.next.RoundTrip(req)
}

func transportOf(c http.Client) http.RoundTripper {
	if c.Transport != nil {
		return c.Transport
	}
	return http.DefaultTransport
}

func prop(im *images.Image, key string) string {
	if v, ok := im.Properties[key]; ok && v != nil {
		if s, ok := v.(string); ok {
			return s
		}
		return fmt.Sprint(v)
	}
	return ""
}
