package image

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// Image properties this package records. The upload token is set when the
// image is created, before any byte is sent: a non-active image carrying it
// is a leftover of an interrupted run.
const (
	PropUploadToken  = "metalkit_upload_token"
	PropSource       = "metalkit_source"
	PropSourceETag   = "metalkit_source_etag"
	PropSourceMod    = "metalkit_source_last_modified"
	PropSourceSize   = "metalkit_source_size"
	PropSourceSHA256 = "metalkit_source_sha256"
	PropSourceSHA512 = "metalkit_source_sha512"
	PropImageSHA256  = "metalkit_image_sha256"
)

// Desired is the image the task asks for.
type Desired struct {
	Name            string
	State           string // present or absent
	Source          string // printable source (Source.String())
	Checksums       []Checksum
	DiskFormat      string // auto or a format
	ContainerFormat string
	Visibility      string // "" leaves Glance's default
	Tags            []string
	MinDisk         *int
	MinRAM          *int
	Properties      map[string]string
	Protected       *bool
	Force           bool
}

// Observed is what exists: the images of that name and, when it was read,
// the source's metadata.
type Observed struct {
	Images []images.Image
	Meta   *Meta // nil: not read
}

// Plan is what Apply will do, in order.
type Plan struct {
	Leftovers []images.Image // non-active images an earlier run of ours left
	Match     *images.Image  // an active image with the same content: no upload
	Why       string         // how Match was recognised, or why an upload is needed
	Upload    bool
	Update    images.UpdateOpts // metadata changes to Match
	Changes   []string          // the metadata changes, in words
	Replace   []images.Image    // active images of the name replaced (force) or deleted (absent)
	Others    []images.Image    // active images of the name that stay (a different content, no force)
}

// Changed tells whether applying the plan changes anything.
func (p *Plan) Changed() bool {
	return len(p.Leftovers) > 0 || p.Upload || len(p.Update) > 0 || len(p.Replace) > 0
}

// NeedsMeta tells whether matching needs the source's metadata (a HEAD or
// a stat): only when no checksum identifies the content and an active image
// of the name exists to compare with.
func NeedsMeta(d Desired, imgs []images.Image) bool {
	if d.State == "absent" {
		return false
	}
	for _, im := range imgs {
		if im.Status == images.ImageStatusActive && !checksumsMatch(&im, d.Checksums) {
			return true
		}
	}
	return false
}

// MakePlan decides, without any I/O, what to do.
func MakePlan(d Desired, o Observed) *Plan {
	p := &Plan{}
	// Every image of the name is active, a leftover of an unfinished upload
	// of ours (it carries an upload token), or some other inactive one.
	var active, inactive []images.Image
	for _, im := range o.Images {
		switch {
		case im.Status == images.ImageStatusActive:
			active = append(active, im)
		case prop(&im, PropUploadToken) != "" && unfinished[im.Status]:
			p.Leftovers = append(p.Leftovers, im)
		default:
			inactive = append(inactive, im)
		}
	}
	sortImages(active)
	sortImages(p.Leftovers)
	sortImages(inactive)
	if d.State == "absent" {
		p.Replace = append(active, inactive...)
		p.Why = "state is absent"
		return p
	}
	for i := range active {
		im := &active[i]
		if why := contentMatch(im, d, o.Meta); why != "" {
			p.Match, p.Why = im, why
			break
		}
	}
	if p.Match == nil {
		p.Upload = true
		p.Why = "no active image named " + strconv.Quote(d.Name) + " has this content"
		if len(active) == 0 {
			p.Why = "no active image named " + strconv.Quote(d.Name)
		}
	} else {
		p.Update, p.Changes = metadataChanges(p.Match, d)
	}
	for _, im := range active {
		if p.Match != nil && im.ID == p.Match.ID {
			continue
		}
		if d.Force {
			p.Replace = append(p.Replace, im)
		} else {
			p.Others = append(p.Others, im)
		}
	}
	return p
}

// unfinished are the states an upload or import passes through (and killed,
// where Glance puts a failed one); a deactivated image is an admin's choice,
// never a leftover.
var unfinished = map[images.ImageStatus]bool{
	images.ImageStatusQueued: true, images.ImageStatusSaving: true, images.ImageStatusUploading: true,
	images.ImageStatusImporting: true, images.ImageStatusKilled: true,
}

func sortImages(imgs []images.Image) {
	sort.SliceStable(imgs, func(i, j int) bool {
		if !imgs[i].CreatedAt.Equal(imgs[j].CreatedAt) {
			return imgs[i].CreatedAt.After(imgs[j].CreatedAt) // newest first
		}
		return imgs[i].ID < imgs[j].ID
	})
}

// contentMatch says how im is known to hold the desired content, or "".
func contentMatch(im *images.Image, d Desired, meta *Meta) string {
	if len(d.Checksums) > 0 {
		if checksumsMatch(im, d.Checksums) {
			return "its recorded checksums match the checksum option"
		}
		return ""
	}
	if meta == nil || prop(im, PropSource) != d.Source {
		return ""
	}
	switch {
	case meta.ETag != "":
		if prop(im, PropSourceETag) == meta.ETag {
			return "same source and ETag"
		}
	case meta.LastModified != "" && meta.Size >= 0:
		if prop(im, PropSourceMod) == meta.LastModified && prop(im, PropSourceSize) == strconv.FormatInt(meta.Size, 10) {
			return "same source, size and modification time"
		}
	}
	return ""
}

// checksumsMatch: every expected checksum equals a digest recorded on the
// image (ours, or Glance's os_hash_value).
func checksumsMatch(im *images.Image, want []Checksum) bool {
	if len(want) == 0 {
		return false
	}
	algo, value := prop(im, "os_hash_algo"), prop(im, "os_hash_value")
	for _, c := range want {
		known := []string{}
		switch c.Algo {
		case "sha256":
			known = append(known, prop(im, PropSourceSHA256), prop(im, PropImageSHA256))
		case "sha512":
			known = append(known, prop(im, PropSourceSHA512))
		}
		if algo == c.Algo {
			known = append(known, value)
		}
		if !slices.Contains(known, c.Hex) {
			return false
		}
	}
	return true
}

// metadataChanges lists the patch operations that bring im's metadata to d.
// Properties not named in d are left alone.
func metadataChanges(im *images.Image, d Desired) (images.UpdateOpts, []string) {
	var ops images.UpdateOpts
	var words []string
	if d.Visibility != "" && string(im.Visibility) != d.Visibility {
		ops = append(ops, images.UpdateVisibility{Visibility: images.ImageVisibility(d.Visibility)})
		words = append(words, fmt.Sprintf("visibility %s -> %s", im.Visibility, d.Visibility))
	}
	if d.Tags != nil {
		have, want := slices.Clone(im.Tags), slices.Clone(d.Tags)
		slices.Sort(have)
		slices.Sort(want)
		want = slices.Compact(want)
		if !slices.Equal(have, want) {
			ops = append(ops, images.ReplaceImageTags{NewTags: want})
			words = append(words, fmt.Sprintf("tags %v -> %v", have, want))
		}
	}
	if d.MinDisk != nil && im.MinDiskGigabytes != *d.MinDisk {
		ops = append(ops, images.ReplaceImageMinDisk{NewMinDisk: *d.MinDisk})
		words = append(words, fmt.Sprintf("min_disk %d -> %d", im.MinDiskGigabytes, *d.MinDisk))
	}
	if d.MinRAM != nil && im.MinRAMMegabytes != *d.MinRAM {
		ops = append(ops, images.ReplaceImageMinRam{NewMinRam: *d.MinRAM})
		words = append(words, fmt.Sprintf("min_ram %d -> %d", im.MinRAMMegabytes, *d.MinRAM))
	}
	if d.Protected != nil && im.Protected != *d.Protected {
		ops = append(ops, images.ReplaceImageProtected{NewProtected: *d.Protected})
		words = append(words, fmt.Sprintf("protected %t -> %t", im.Protected, *d.Protected))
	}
	for _, k := range slices.Sorted(maps.Keys(d.Properties)) {
		v := d.Properties[k]
		cur, ok := im.Properties[k]
		switch {
		case !ok || cur == nil:
			ops = append(ops, images.UpdateImageProperty{Op: images.AddOp, Name: k, Value: v})
			words = append(words, fmt.Sprintf("property %s set to %q", k, v))
		case prop(im, k) != v:
			ops = append(ops, images.UpdateImageProperty{Op: images.ReplaceOp, Name: k, Value: v})
			words = append(words, fmt.Sprintf("property %s %q -> %q", k, prop(im, k), v))
		}
	}
	return ops, words
}
