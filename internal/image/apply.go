package image

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/metalkit/baremetal/internal/poll"
)

// Methods of getting the bytes into Glance.
const (
	MethodUpload      = "upload"       // we stream them (the default)
	MethodWebDownload = "web-download" // Glance fetches the URL itself (interoperable import)
)

// Request is one task: the desired image, where its bytes come from, how.
type Request struct {
	Desired
	Source     Source      // nil with state absent
	RawURL     string      // the url option as given (web-download hands it to Glance)
	Decompress Compression // auto, none, gzip, xz, zstd
	Method     string
	CheckMode  bool
	// PollInterval paces the web-download waiter; zero: 2 s.
	PollInterval time.Duration
}

// Transfer are the figures of one pass.
type Transfer struct {
	Method       string  `json:"method"`
	Source       string  `json:"source"`
	Compression  string  `json:"compression"`
	DiskFormat   string  `json:"disk_format"`
	BytesIn      int64   `json:"bytes_in"`
	BytesOut     int64   `json:"bytes_out"`
	Seconds      float64 `json:"seconds"`
	MBPerSecond  float64 `json:"mb_per_s"`
	SourceSHA256 string  `json:"source_sha256,omitempty"`
	ImageSHA256  string  `json:"image_sha256,omitempty"`
	ImageSHA512  string  `json:"image_sha512,omitempty"`
	PeakRSSBytes int64   `json:"peak_rss_bytes,omitempty"`
}

// Outcome is what the task reports; on failure it holds what is known.
type Outcome struct {
	Changed  bool
	Msg      string
	Image    *images.Image
	Transfer *Transfer
	// Removed are the images deleted: leftovers, replaced ones, or with
	// state absent every image of the name.
	Removed  []string
	Warnings []string
	Before   []map[string]any
	After    []map[string]any
}

// Observe reads the images of the name and, only when matching needs it,
// the source's metadata (a HEAD or a stat, never the bytes).
func Observe(ctx context.Context, g *Glance, req *Request) (Observed, error) {
	imgs, err := g.ImagesNamed(ctx, req.Name)
	if err != nil {
		return Observed{}, err
	}
	o := Observed{Images: imgs}
	if req.Source != nil && NeedsMeta(req.Desired, imgs) {
		m, err := req.Source.Stat(ctx)
		if err != nil {
			return o, err
		}
		o.Meta = &m
	}
	return o, nil
}

// Apply carries out the plan (or, in check mode, only describes it).
func Apply(ctx context.Context, g *Glance, req *Request, obs Observed, p *Plan) (*Outcome, error) {
	out := &Outcome{Changed: p.Changed(), Before: summaries(obs.Images)}
	out.After = afterView(obs.Images, p, req)
	if req.State == "absent" {
		return out, applyAbsent(ctx, g, req, p, out)
	}
	if p.Match != nil && len(p.Others) > 0 {
		out.Warnings = append(out.Warnings, fmt.Sprintf("%d other active image(s) are also named %q (%s); servers booting by name may pick either: set force: true to keep only this one", len(p.Others), req.Name, ids(p.Others)))
	}
	if req.CheckMode {
		out.Image = p.Match
		if p.Upload {
			if req.Source != nil {
				m, err := req.Source.Stat(ctx)
				if err != nil {
					return out, err
				}
				out.Transfer = &Transfer{Method: req.Method, Source: req.Source.String(), BytesIn: m.Size}
			}
			out.Msg = fmt.Sprintf("would upload %s as image %q (%s)", sourceName(req), req.Name, p.Why)
		} else {
			out.Msg = matchMsg(req, p, true)
		}
		out.Msg += leftoverNote(p, true)
		return out, nil
	}
	if err := deleteAll(ctx, g, p.Leftovers, out); err != nil {
		return out, fmt.Errorf("removing images an interrupted run left behind: %w", err)
	}
	if !p.Upload {
		out.Image = p.Match
		if len(p.Update) > 0 {
			im, err := g.Update(ctx, p.Match.ID, p.Update)
			if err != nil {
				return out, err
			}
			out.Image = im
		}
		if err := deleteAll(ctx, g, p.Replace, out); err != nil {
			return out, err
		}
		out.Msg = matchMsg(req, p, false) + leftoverNote(p, false)
		return out, nil
	}
	var im *images.Image
	var err error
	if req.Method == MethodWebDownload {
		im, err = webDownload(ctx, g, req, out)
	} else {
		im, err = upload(ctx, g, req, out)
	}
	if err != nil {
		return out, err
	}
	out.Image = im
	if err := deleteAll(ctx, g, p.Replace, out); err != nil {
		return out, fmt.Errorf("image %s is active, but replacing the older ones failed: %w", im.ID, err)
	}
	if len(p.Others) > 0 {
		out.Warnings = append(out.Warnings, fmt.Sprintf("%d older active image(s) named %q with other content remain (%s); set force: true to replace them", len(p.Others), req.Name, ids(p.Others)))
	}
	out.Msg = fmt.Sprintf("uploaded %s as image %q (%s)", sourceName(req), req.Name, im.ID)
	if out.Transfer != nil && out.Transfer.Seconds > 0 {
		out.Msg += fmt.Sprintf(": %s in %.1f s, %.1f MB/s", humanBytes(out.Transfer.BytesOut), out.Transfer.Seconds, out.Transfer.MBPerSecond)
	}
	out.Msg += leftoverNote(p, false)
	return out, nil
}

func applyAbsent(ctx context.Context, g *Glance, req *Request, p *Plan, out *Outcome) error {
	all := append(slices.Clone(p.Leftovers), p.Replace...)
	if len(all) == 0 {
		out.Msg = fmt.Sprintf("no image named %q", req.Name)
		return nil
	}
	verb := "deleted"
	if req.CheckMode {
		verb = "would delete"
		for _, im := range all {
			out.Removed = append(out.Removed, im.ID)
		}
	} else if err := deleteAll(ctx, g, all, out); err != nil {
		return err
	}
	out.Msg = fmt.Sprintf("%s %d image(s) named %q", verb, len(all), req.Name)
	return nil
}

// upload streams the source into a new image. Whatever fails after the image
// exists, the image is deleted before returning.
func upload(ctx context.Context, g *Glance, req *Request, out *Outcome) (*images.Image, error) {
	start := time.Now()
	stream, err := OpenStream(ctx, req.Source, StreamOptions{
		Decompress: req.Decompress, DiskFormat: req.DiskFormat, SourceSHA512: wantsSourceSHA512(req.Checksums),
	})
	if err != nil {
		return nil, err
	}
	defer stream.Close()
	t := &Transfer{Method: MethodUpload, Source: req.Source.String(), Compression: string(stream.Compression), DiskFormat: stream.DiskFormat}
	out.Transfer = t

	im, err := createDetached(ctx, g, createOpts(req, stream.DiskFormat, stream.Meta))
	if err != nil {
		return nil, err
	}
	size := int64(-1)
	if stream.Compression == CompressionNone {
		size = stream.Meta.Size
	}
	pr, pw := io.Pipe()
	upErr := make(chan error, 1)
	go func() {
		err := g.Upload(ctx, im.ID, pr, size)
		pr.CloseWithError(errUploadEnded)
		upErr <- err
	}()
	d, perr := stream.Pump(ctx, pw, func(d Digests) error { return d.Verify(req.Checksums) })
	if perr != nil {
		pw.CloseWithError(perr)
	} else {
		pw.Close()
	}
	uerr := <-upErr
	t.BytesIn, t.BytesOut = d.BytesIn, d.BytesOut
	t.SourceSHA256, t.ImageSHA256, t.ImageSHA512 = d.SourceSHA256, d.ImageSHA256, d.ImageSHA512
	t.Seconds = time.Since(start).Seconds()
	if t.Seconds > 0 {
		t.MBPerSecond = round1(float64(d.BytesOut) / 1e6 / t.Seconds)
	}
	t.Seconds = round3(t.Seconds)
	switch {
	case perr != nil && (uerr == nil || !strings.HasPrefix(perr.Error(), "sending the image")):
		return nil, discard(g, im.ID, perr)
	case uerr != nil:
		return nil, discard(g, im.ID, uerr)
	}
	got, err := g.Get(ctx, im.ID)
	if err != nil {
		return nil, discard(g, im.ID, err)
	}
	if err := checkStored(got, d); err != nil {
		return nil, discard(g, im.ID, err)
	}
	return record(ctx, g, got, req, d, out), nil
}

// webDownload has Glance fetch the URL itself (interoperable image import).
func webDownload(ctx context.Context, g *Glance, req *Request, out *Outcome) (*images.Image, error) {
	start := time.Now()
	hs, ok := req.Source.(*HTTPSource)
	if !ok {
		return nil, errors.New("method: web-download needs url (Glance fetches it), not src")
	}
	if hs.URL.User != nil || hs.URL.RawQuery != "" {
		return nil, errors.New("method: web-download would hand the URL's credentials or query string to Glance, which stores and logs it: use method: upload for this URL")
	}
	methods, err := g.ImportMethods(ctx)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(methods, MethodWebDownload) {
		return nil, fmt.Errorf("method: this Glance does not offer the web-download import (it offers: %s); use method: upload", strings.Join(methods, ", "))
	}
	// Read just the first bytes to name the format: Glance stores the bytes
	// as they are, so a compressed source cannot go this way.
	stream, err := OpenStream(ctx, req.Source, StreamOptions{Decompress: req.Decompress, DiskFormat: req.DiskFormat})
	if err != nil {
		return nil, err
	}
	stream.Close()
	if stream.Compression != CompressionNone {
		return nil, fmt.Errorf("method: web-download stores the bytes as downloaded, and %s is %s-compressed: use method: upload, which decompresses on the fly", hs, stream.Compression)
	}
	out.Transfer = &Transfer{Method: MethodWebDownload, Source: hs.String(), Compression: string(CompressionNone), DiskFormat: stream.DiskFormat}
	im, err := createDetached(ctx, g, createOpts(req, stream.DiskFormat, stream.Meta))
	if err != nil {
		return nil, err
	}
	if err := g.WebDownload(ctx, im.ID, req.RawURL); err != nil {
		return nil, discard(g, im.ID, err)
	}
	interval := req.PollInterval
	if interval == 0 {
		interval = 2 * time.Second
	}
	got, err := g.WaitImported(ctx, im.ID, interval)
	if err != nil {
		return nil, discard(g, im.ID, err)
	}
	t := out.Transfer
	t.BytesOut, t.BytesIn = got.SizeBytes, got.SizeBytes
	t.Seconds = round3(time.Since(start).Seconds())
	if t.Seconds > 0 {
		t.MBPerSecond = round1(float64(got.SizeBytes) / 1e6 / t.Seconds)
	}
	algo, value := prop(got, "os_hash_algo"), prop(got, "os_hash_value")
	d := Digests{BytesOut: got.SizeBytes, BytesIn: got.SizeBytes}
	switch algo {
	case "sha512":
		d.ImageSHA512, d.SourceSHA512 = value, value
		t.ImageSHA512 = value
	case "sha256":
		d.ImageSHA256, d.SourceSHA256 = value, value
		t.ImageSHA256 = value
	}
	for _, c := range req.Checksums {
		if c.Algo != algo {
			out.Warnings = append(out.Warnings, fmt.Sprintf("checksum %s cannot be verified with web-download: Glance hashes with %s", c, algo))
			continue
		}
		if err := d.Verify([]Checksum{c}); err != nil {
			return nil, discard(g, im.ID, err)
		}
	}
	return record(ctx, g, got, req, d, out), nil
}

// record writes the checksums of a verified, active image into its
// properties, for the next run's match. A failure there is a warning: the
// image is good, only the record is missing.
func record(ctx context.Context, g *Glance, got *images.Image, req *Request, d Digests, out *Outcome) *images.Image {
	final, err := g.Update(ctx, got.ID, recordOps(req, d))
	if err != nil {
		out.Warnings = append(out.Warnings, fmt.Sprintf("image %s is active but recording its checksums failed: %v", got.ID, err))
		return got
	}
	return final
}

var errUploadEnded = errors.New("the upload request ended")

// createDetached creates the image even if the task is cancelled meanwhile
// (a signal between Glance creating it and us learning its ID would leave it
// behind), then gives it up at once if the task was cancelled.
func createDetached(ctx context.Context, g *Glance, opts images.CreateOpts) (*images.Image, error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	im, err := g.Create(cctx, opts)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, discard(g, im.ID, err)
	}
	return im, nil
}

// discard deletes an image that must not stay, with a context of its own:
// the task's may be cancelled or out of time. Glance's upload handler may
// still be unwinding the aborted transfer and put the image back to queued
// after a first delete, so the image is checked gone.
func discard(g *Glance, id string, cause error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var err error
	for attempt := range 5 {
		if attempt > 0 {
			_ = poll.Sleep(ctx, time.Duration(attempt)*500*time.Millisecond)
		}
		if err = g.Delete(ctx, id); err != nil {
			continue
		}
		if _, gerr := images.Get(ctx, g.Client, id).Extract(); gophercloud.ResponseCodeIs(gerr, http.StatusNotFound) {
			return fmt.Errorf("%w; the incomplete image %s was deleted", cause, id)
		}
		err = fmt.Errorf("image %s is still there after its deletion", id)
	}
	return fmt.Errorf("%w; deleting the incomplete image %s failed too (%v): the next run removes it", cause, id, err)
}

// checkStored compares what Glance stored with what was sent.
func checkStored(im *images.Image, d Digests) error {
	if im.Status != images.ImageStatusActive {
		return fmt.Errorf("Glance left image %s %s after the upload", im.ID, im.Status)
	}
	if im.SizeBytes != d.BytesOut {
		return fmt.Errorf("Glance stored %d bytes for image %s, %d were sent", im.SizeBytes, im.ID, d.BytesOut)
	}
	want := map[string]string{"sha512": d.ImageSHA512, "sha256": d.ImageSHA256}
	algo, value := prop(im, "os_hash_algo"), prop(im, "os_hash_value")
	if w, ok := want[algo]; ok && value != w {
		return fmt.Errorf("Glance's %s of image %s is %s, but the data sent has %s", algo, im.ID, value, w)
	}
	return nil
}

func createOpts(req *Request, diskFormat string, meta Meta) images.CreateOpts {
	props := maps.Clone(req.Properties)
	if props == nil {
		props = map[string]string{}
	}
	props[PropUploadToken] = newToken()
	props[PropSource] = req.Source.String()
	if meta.ETag != "" {
		props[PropSourceETag] = meta.ETag
	}
	if meta.LastModified != "" {
		props[PropSourceMod] = meta.LastModified
	}
	if meta.Size >= 0 {
		props[PropSourceSize] = strconv.FormatInt(meta.Size, 10)
	}
	o := images.CreateOpts{
		Name: req.Name, DiskFormat: diskFormat, ContainerFormat: req.ContainerFormat,
		Tags: req.Tags, Properties: props,
	}
	if req.Visibility != "" {
		v := images.ImageVisibility(req.Visibility)
		o.Visibility = &v
	}
	if req.MinDisk != nil {
		o.MinDisk = *req.MinDisk
	}
	if req.MinRAM != nil {
		o.MinRAM = *req.MinRAM
	}
	return o
}

// recordOps store the sums a later run matches on (and protect the image
// last, so a failed upload could still be deleted).
func recordOps(req *Request, d Digests) images.UpdateOpts {
	var ops images.UpdateOpts
	for k, v := range map[string]string{PropSourceSHA256: d.SourceSHA256, PropImageSHA256: d.ImageSHA256, PropSourceSHA512: d.SourceSHA512} {
		if v != "" {
			ops = append(ops, images.UpdateImageProperty{Op: images.AddOp, Name: k, Value: v})
		}
	}
	slices.SortFunc(ops, func(a, b images.Patch) int {
		return strings.Compare(a.(images.UpdateImageProperty).Name, b.(images.UpdateImageProperty).Name)
	})
	if req.Protected != nil && *req.Protected {
		ops = append(ops, images.ReplaceImageProtected{NewProtected: true})
	}
	return ops
}

func deleteAll(ctx context.Context, g *Glance, imgs []images.Image, out *Outcome) error {
	for _, im := range imgs {
		if im.Protected {
			return fmt.Errorf("image %s (%q) is protected: unprotect it first (protected: false)", im.ID, im.Name)
		}
		if err := g.Delete(ctx, im.ID); err != nil {
			return err
		}
		out.Removed = append(out.Removed, im.ID)
	}
	return nil
}

func newToken() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func sourceName(req *Request) string {
	if req.Source == nil {
		return "(no source)"
	}
	return req.Source.String()
}

func matchMsg(req *Request, p *Plan, check bool) string {
	msg := fmt.Sprintf("image %q (%s) is up to date: %s", req.Name, p.Match.ID, p.Why)
	if len(p.Changes) > 0 {
		verb := "updated"
		if check {
			verb = "would update"
		}
		msg = fmt.Sprintf("image %q (%s) has the content (%s); %s %s", req.Name, p.Match.ID, p.Why, verb, strings.Join(p.Changes, ", "))
	}
	if len(p.Replace) > 0 {
		verb := "deleted"
		if check {
			verb = "would delete"
		}
		msg += fmt.Sprintf("; %s %d other image(s) of the name (force)", verb, len(p.Replace))
	}
	return msg
}

func leftoverNote(p *Plan, check bool) string {
	if len(p.Leftovers) == 0 {
		return ""
	}
	verb := "removed"
	if check {
		verb = "would remove"
	}
	return fmt.Sprintf("; %s %d incomplete image(s) an interrupted run left (%s)", verb, len(p.Leftovers), ids(p.Leftovers))
}

func ids(imgs []images.Image) string {
	s := make([]string, len(imgs))
	for i, im := range imgs {
		s[i] = im.ID
	}
	return strings.Join(s, ", ")
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
}
