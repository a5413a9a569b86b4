package image

import (
	"bufio"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// ImageDict is the image as the task returns it.
func ImageDict(im *images.Image) map[string]any {
	if im == nil {
		return nil
	}
	props := map[string]any{}
	for k, v := range im.Properties {
		switch k {
		case "os_hash_algo", "os_hash_value", "direct_url", "locations", "stores":
			continue
		}
		props[k] = v
	}
	tags := im.Tags
	if tags == nil {
		tags = []string{}
	}
	return map[string]any{
		"id":               im.ID,
		"name":             im.Name,
		"status":           string(im.Status),
		"size":             im.SizeBytes,
		"virtual_size":     im.VirtualSize,
		"checksum":         im.Checksum,
		"os_hash_algo":     prop(im, "os_hash_algo"),
		"os_hash_value":    prop(im, "os_hash_value"),
		"disk_format":      im.DiskFormat,
		"container_format": im.ContainerFormat,
		"visibility":       string(im.Visibility),
		"protected":        im.Protected,
		"tags":             tags,
		"min_disk":         im.MinDiskGigabytes,
		"min_ram":          im.MinRAMMegabytes,
		"owner":            im.Owner,
		"created_at":       im.CreatedAt.UTC().Format(time.RFC3339),
		"updated_at":       im.UpdatedAt.UTC().Format(time.RFC3339),
		"properties":       props,
	}
}

// summary is an image in the diff: what an operator compares.
func summary(im *images.Image) map[string]any {
	s := map[string]any{
		"id": im.ID, "status": string(im.Status), "disk_format": im.DiskFormat,
		"visibility": string(im.Visibility), "min_disk": im.MinDiskGigabytes, "min_ram": im.MinRAMMegabytes,
		"protected": im.Protected,
	}
	tags := slices.Clone(im.Tags)
	slices.Sort(tags)
	if tags == nil {
		tags = []string{}
	}
	s["tags"] = tags
	props := map[string]any{}
	for k, v := range im.Properties {
		if strings.HasPrefix(k, "metalkit_") || strings.HasPrefix(k, "os_") || k == "hw_firmware_type" {
			props[k] = v
		}
	}
	s["properties"] = props
	return s
}

func summaries(imgs []images.Image) []map[string]any {
	out := []map[string]any{}
	for i := range imgs {
		out = append(out, summary(&imgs[i]))
	}
	return out
}

// afterView predicts the images of the name once the plan is applied.
func afterView(imgs []images.Image, p *Plan, req *Request) []map[string]any {
	gone := map[string]bool{}
	for _, im := range append(slices.Clone(p.Leftovers), p.Replace...) {
		gone[im.ID] = true
	}
	out := []map[string]any{}
	if req.State == "absent" {
		return out
	}
	for i := range imgs {
		im := imgs[i]
		if gone[im.ID] {
			continue
		}
		s := summary(&im)
		if p.Match != nil && im.ID == p.Match.ID {
			applyDesired(s, req)
		}
		out = append(out, s)
	}
	if p.Upload {
		s := map[string]any{"id": "(new)", "status": "active", "disk_format": req.DiskFormat, "visibility": req.Visibility,
			"min_disk": 0, "min_ram": 0, "protected": false, "tags": []string{}, "properties": map[string]any{PropSource: sourceName(req)}}
		applyDesired(s, req)
		out = append(out, s)
	}
	return out
}

func applyDesired(s map[string]any, req *Request) {
	if req.Visibility != "" {
		s["visibility"] = req.Visibility
	}
	if req.Tags != nil {
		t := slices.Clone(req.Tags)
		slices.Sort(t)
		s["tags"] = slices.Compact(t)
	}
	if req.MinDisk != nil {
		s["min_disk"] = *req.MinDisk
	}
	if req.MinRAM != nil {
		s["min_ram"] = *req.MinRAM
	}
	if req.Protected != nil {
		s["protected"] = *req.Protected
	}
	props := maps.Clone(s["properties"].(map[string]any))
	for k, v := range req.Properties {
		props[k] = v
	}
	s["properties"] = props
}

// PeakRSS is this process's peak resident set size in bytes (VmHWM), or 0.
func PeakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}
