package image

import (
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/stretchr/testify/assert"
)

const (
	src      = "https://mirror.example.test/rhcos.qcow2.gz"
	srcSum   = "1111111111111111111111111111111111111111111111111111111111111111"
	imgSum   = "2222222222222222222222222222222222222222222222222222222222222222"
	otherSum = "3333333333333333333333333333333333333333333333333333333333333333"
)

func img(id string, status images.ImageStatus, props map[string]any) images.Image {
	return images.Image{ID: id, Name: "rhcos", Status: status, Properties: props, CreatedAt: time.Unix(int64(len(id)), 0)}
}

func ours(etag string) map[string]any {
	return map[string]any{PropUploadToken: "t", PropSource: src, PropSourceETag: etag, PropSourceSHA256: srcSum, PropImageSHA256: imgSum,
		"os_hash_algo": "sha512", "os_hash_value": "ab"}
}

func TestMakePlan(t *testing.T) {
	base := Desired{Name: "rhcos", State: "present", Source: src}
	withSum := base
	withSum.Checksums = []Checksum{{"sha256", srcSum}}
	otherContent := base
	otherContent.Checksums = []Checksum{{"sha256", otherSum}}
	force := otherContent
	force.Force = true
	absent := Desired{Name: "rhcos", State: "absent"}
	glanceSum := base
	glanceSum.Checksums = []Checksum{{"sha512", "ab"}}
	tags := withSum
	tags.Tags = []string{"b", "a", "a"}
	etag := &Meta{Size: 10, ETag: `"v1"`}

	tests := []struct {
		name      string
		d         Desired
		o         Observed
		upload    bool
		match     string
		leftovers int
		replace   int
		others    int
		changed   bool
		changes   int
	}{
		{"nothing there: upload", base, Observed{}, true, "", 0, 0, 0, true, 0},
		{"same checksum: unchanged", withSum, Observed{Images: []images.Image{img("a", "active", ours(`"v1"`))}}, false, "a", 0, 0, 0, false, 0},
		{"same ETag: unchanged", base, Observed{Images: []images.Image{img("a", "active", ours(`"v1"`))}, Meta: etag}, false, "a", 0, 0, 0, false, 0},
		{"other ETag: upload beside", base, Observed{Images: []images.Image{img("a", "active", ours(`"v0"`))}, Meta: etag}, true, "", 0, 0, 1, true, 0},
		{"no metadata: upload", base, Observed{Images: []images.Image{img("a", "active", ours(`"v1"`))}, Meta: &Meta{Size: -1}}, true, "", 0, 0, 1, true, 0},
		{"other checksum: upload beside", otherContent, Observed{Images: []images.Image{img("a", "active", ours(`"v1"`))}}, true, "", 0, 0, 1, true, 0},
		{"other checksum, force: replace", force, Observed{Images: []images.Image{img("a", "active", ours(`"v1"`))}}, true, "", 0, 1, 0, true, 0},
		{"foreign image matched by os_hash_value", glanceSum, Observed{Images: []images.Image{img("a", "active", map[string]any{"os_hash_algo": "sha512", "os_hash_value": "ab"})}}, false, "a", 0, 0, 0, false, 0},
		{"leftovers removed, match kept", withSum, Observed{Images: []images.Image{
			img("a", "active", ours(`"v1"`)), img("bb", "queued", map[string]any{PropUploadToken: "x"}), img("ccc", "saving", map[string]any{PropUploadToken: "y"}),
			img("dddd", "queued", map[string]any{}),                           // not ours: left alone
			img("eeeee", "deactivated", map[string]any{PropUploadToken: "z"}), // an admin's choice: left alone
		}}, false, "a", 2, 0, 0, true, 0},
		{"tag drift: update", tags, Observed{Images: []images.Image{img("a", "active", ours(`"v1"`))}}, false, "a", 0, 0, 0, true, 1},
		{"absent: delete all", absent, Observed{Images: []images.Image{img("a", "active", ours(`"v1"`)), img("bb", "queued", map[string]any{})}}, false, "", 0, 2, 0, true, 0},
		{"absent, nothing: unchanged", absent, Observed{}, false, "", 0, 0, 0, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := MakePlan(tt.d, tt.o)
			assert.Equal(t, tt.upload, p.Upload, p.Why)
			if tt.match == "" {
				assert.Nil(t, p.Match)
			} else if assert.NotNil(t, p.Match) {
				assert.Equal(t, tt.match, p.Match.ID)
			}
			assert.Len(t, p.Leftovers, tt.leftovers)
			assert.Len(t, p.Replace, tt.replace)
			assert.Len(t, p.Others, tt.others)
			assert.Equal(t, tt.changed, p.Changed())
			assert.Len(t, p.Changes, tt.changes)
		})
	}
}

func TestNeedsMeta(t *testing.T) {
	d := Desired{Name: "rhcos", State: "present", Source: src}
	active := []images.Image{img("a", "active", ours(`"v1"`))}
	assert.False(t, NeedsMeta(d, nil), "nothing to compare with: no HEAD")
	assert.True(t, NeedsMeta(d, active), "no checksum: HEAD to compare validators")
	d.Checksums = []Checksum{{"sha256", srcSum}}
	assert.False(t, NeedsMeta(d, active), "the checksum identifies the content: no request to the source")
	d.State = "absent"
	assert.False(t, NeedsMeta(d, active))
}

func TestMetadataChangesOnlyTouchNamedProperties(t *testing.T) {
	im := img("a", "active", map[string]any{"os_distro": "rhcos", "hw_firmware_type": "bios", "keep": "me"})
	im.Tags = []string{"a"}
	two := 2
	d := Desired{Properties: map[string]string{"os_distro": "rhcos", "hw_firmware_type": "uefi", "os_version": "4.16"}, MinDisk: &two, Visibility: "public"}
	ops, words := metadataChanges(&im, d)
	assert.Len(t, ops, 4) // visibility, min_disk, hw_firmware_type, os_version
	assert.Contains(t, words, `property hw_firmware_type "bios" -> "uefi"`)
	assert.Contains(t, words, `property os_version set to "4.16"`)
	im.Visibility, im.MinDiskGigabytes = "public", 2
	im.Properties["hw_firmware_type"], im.Properties["os_version"] = "uefi", "4.16"
	ops, _ = metadataChanges(&im, d)
	assert.Empty(t, ops, "a second pass has nothing to change")
}
