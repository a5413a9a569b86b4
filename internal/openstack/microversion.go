package openstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/utils"
	"github.com/tidwall/gjson"
)

// microversions caches negotiated microversions per endpoint and cap: one
// discovery per process, however many clients and workers ask.
var microversions struct {
	sync.Mutex
	byKey map[string]string
}

// negotiate picks min(server max, want) for the given major API version,
// reading the version document at the service root (Ironic lists its
// microversions there, not under /v1) or at the endpoint (Nova's /v2.1),
// trying the other place when the first has no microversion information.
func negotiate(ctx context.Context, sc *gophercloud.ServiceClient, major int, want string, rootFirst bool) (string, error) {
	key := sc.Type + " " + sc.Endpoint + " " + want
	microversions.Lock()
	defer microversions.Unlock()
	if v, ok := microversions.byKey[key]; ok {
		return v, nil
	}

	wantMajor, wantMinor, err := utils.ParseMicroversion(want)
	if err != nil {
		return "", fmt.Errorf("microversion cap %q: %w", want, err)
	}
	root, err := utils.BaseEndpoint(sc.Endpoint)
	if err != nil {
		return "", err
	}
	places := []string{sc.Endpoint, root}
	if rootFirst {
		places = []string{root, sc.Endpoint}
	}
	var lastErr error
	for i, url := range places {
		if i > 0 && url == places[0] {
			break
		}
		docs, err := discover(ctx, sc, url)
		var tooLarge *ResponseTooLargeError
		if errors.As(err, &tooLarge) {
			return "", fmt.Errorf("%s microversion discovery: %w", sc.Type, err)
		}
		if err != nil {
			lastErr = err
			continue
		}
		for _, d := range docs {
			if d.major != major || d.max == "" {
				continue
			}
			chosen, err := pick(d, wantMajor, wantMinor)
			if err != nil {
				return "", fmt.Errorf("%s at %s: %w", sc.Type, sc.Endpoint, err)
			}
			if microversions.byKey == nil {
				microversions.byKey = map[string]string{}
			}
			microversions.byKey[key] = chosen
			return chosen, nil
		}
	}
	if lastErr != nil {
		return "", fmt.Errorf("%s microversion discovery at %s: %w", sc.Type, root, lastErr)
	}
	return "", fmt.Errorf("%s at %s announces no microversions for API v%d", sc.Type, sc.Endpoint, major)
}

// versionDoc is one entry of a version discovery document.
type versionDoc struct {
	major, minor int
	min, max     string
}

// discover reads a version document through the service client, so
// http_basic credentials go along. It understands the shapes OpenStack
// services use: {"versions": [...]}, {"versions": {"values": [...]}},
// {"version": {...}}, and Ironic's /v1 with only headers.
func discover(ctx context.Context, sc *gophercloud.ServiceClient, url string) ([]versionDoc, error) {
	resp, err := sc.Request(ctx, "GET", url, &gophercloud.RequestOpts{KeepResponseBody: true, OkCodes: []int{200, 300}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	// The transport bounds the body (guard.go).
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	r := gjson.ParseBytes(body)
	var entries []gjson.Result
	switch {
	case r.Get("versions").IsArray():
		entries = r.Get("versions").Array()
	case r.Get("versions.values").IsArray():
		entries = r.Get("versions.values").Array()
	case r.Get("version").IsObject():
		entries = []gjson.Result{r.Get("version")}
	case r.Get("id").Exists():
		entries = []gjson.Result{r}
	}
	var docs []versionDoc
	for _, e := range entries {
		major, minor, err := utils.ParseVersion(e.Get("id").String())
		if err != nil {
			continue
		}
		d := versionDoc{major: major, minor: minor, min: e.Get("min_version").String(), max: e.Get("version").String()}
		if d.max == "" {
			d.max = e.Get("max_version").String()
		}
		if d.max == "" {
			// Ironic's /v1 tells its range in headers only.
			d.max = resp.Header.Get("X-OpenStack-Ironic-API-Maximum-Version")
			d.min = resp.Header.Get("X-OpenStack-Ironic-API-Minimum-Version")
		}
		docs = append(docs, d)
	}
	return docs, nil
}

// pick returns the highest supported microversion not above the cap.
func pick(d versionDoc, wantMajor, wantMinor int) (string, error) {
	var s utils.SupportedMicroversions
	var err error
	if s.MaxMajor, s.MaxMinor, err = utils.ParseMicroversion(d.max); err != nil {
		return "", fmt.Errorf("maximum microversion: %w", err)
	}
	if d.min != "" {
		if s.MinMajor, s.MinMinor, err = utils.ParseMicroversion(d.min); err != nil {
			return "", fmt.Errorf("minimum microversion: %w", err)
		}
	}
	major, minor := wantMajor, wantMinor
	if s.MaxMajor < major || (s.MaxMajor == major && s.MaxMinor < minor) {
		major, minor = s.MaxMajor, s.MaxMinor
	}
	if major < s.MinMajor || (major == s.MinMajor && minor < s.MinMinor) {
		return "", fmt.Errorf("server needs microversion %d.%d or later, this collection supports up to %d.%d", s.MinMajor, s.MinMinor, wantMajor, wantMinor)
	}
	return fmt.Sprintf("%d.%d", major, minor), nil
}
