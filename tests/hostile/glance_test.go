package hostile

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// imageBytes is a small raw image.
var imageBytes = strings.Repeat("hostile-image-bytes\n", 512)

func newGlance(t *testing.T) (*Glance, *Base) {
	g := NewGlance(t)
	front := NewFront(t, g.URL)
	b := &Base{Overrides: map[string]any{"image_endpoint_override": front.URL}, Primary: "image_endpoint_override", Writes: g.Writes}
	b.Args = map[string]any{"cloud": b.Cloud(map[string]any{"auth_type": "none"}), "name": "h-img",
		"src": WriteFile(t, "image.raw", imageBytes), "timeout": 30}
	return g, b
}

// imageServer serves imageBytes at any path; with trickle it sends them
// one small piece at a time, for ever (a transfer a signal interrupts).
func imageServer(t *testing.T, status int, trickle bool) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status != http.StatusOK {
			w.WriteHeader(status)
			return
		}
		if !trickle {
			w.Header().Set("Content-Length", "10240")
			_, _ = io.WriteString(w, imageBytes)
			return
		}
		for {
			if _, err := io.WriteString(w, imageBytes[:1024]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// noImagesLeft is the Check of a failed upload: nothing stays in Glance.
func noImagesLeft(g *Glance) func(*testing.T, *Outcome) {
	return func(t *testing.T, _ *Outcome) {
		if ims := g.Images(); len(ims) > 0 {
			t.Errorf("%d image(s) left in Glance: %v", len(ims), ims)
		}
	}
}

func withUser(rawURL, password string) string {
	return strings.Replace(rawURL, "http://", "http://u:"+password+"@", 1)
}

func TestGlance(t *testing.T) {
	start := func(t *testing.T) *Base { _, b := newGlance(t); return b }
	tg := Target{Module: "glance_rhcos", Start: start}
	src := []string{"src"}
	srcFile := func(path func(t *testing.T) string) func(t *testing.T) *Run {
		return func(t *testing.T) *Run {
			g, b := newGlance(t)
			return &Run{Args: b.With("src", path(t)), Check: noImagesLeft(g)}
		}
	}
	cases := []Case{
		{Name: "secrets/url percent-encoded userinfo uploads", Want: OK, Setup: func(t *testing.T) *Run {
			_, b := newGlance(t)
			return &Run{Args: b.With("src", nil, "url", withUser(imageServer(t, 200, false), SentURLUserEnc)+"/rhcos.raw")}
		}},
		{Name: "secrets/url raw userinfo answered 404", Want: Fail, Names: []string{"url"}, Setup: func(t *testing.T) *Run {
			g, b := newGlance(t)
			return &Run{Args: b.With("src", nil, "url", withUser(imageServer(t, 404, false), SentURLRaw)+"/rhcos.raw"), Check: noImagesLeft(g)}
		}},
		{Name: "secrets/url query signature answered 403", Want: Fail, Names: []string{"url"}, Setup: func(t *testing.T) *Run {
			g, b := newGlance(t)
			return &Run{Args: b.With("src", nil, "url", imageServer(t, 403, false)+"/rhcos.raw?X-Amz-Signature="+SentAuthToken), Check: noImagesLeft(g)}
		}},
		{Name: "redirect/url 302 to another port carries no basic auth", Want: Fail, Names: []string{"url"}, Setup: func(t *testing.T) *Run {
			g, b := newGlance(t)
			rec := NewRecorder(t)
			u := withUser(Redirector(t, http.StatusFound, rec.URL), SentURLRaw) + "/rhcos.raw"
			return &Run{Args: b.With("src", nil, "url", u), Check: func(t *testing.T, o *Outcome) {
				rec.AssertNoCredentials(t)
				noImagesLeft(g)(t, o)
			}}
		}},
		{Name: "redirect/url https 302 to http is refused", Want: Fail, Names: []string{"url"}, Setup: func(t *testing.T) *Run {
			g, b := newGlance(t)
			rec := NewRecorder(t)
			redir, ca := TLSRedirector(t, http.StatusFound, rec.URL)
			u := strings.Replace(redir, "https://", "https://u:"+SentURLRaw+"@", 1) + "/rhcos.raw"
			return &Run{Args: b.With("src", nil, "url", u, "url_ca_cert", ca), Check: func(t *testing.T, o *Outcome) {
				if seen := rec.Seen(); seen != "" {
					t.Errorf("an https URL was followed to http:\n%s", clip(seen))
				}
				noImagesLeft(g)(t, o)
			}}
		}},
		{Name: "file/src is /dev/zero", Want: Fail, Names: src, Setup: srcFile(func(*testing.T) string { return "/dev/zero" })},
		{Name: "file/src is a FIFO", Want: Fail, Names: src, Setup: srcFile(FIFO)},
		{Name: "file/src is a directory", Want: Fail, Names: src, Setup: srcFile(func(t *testing.T) string { return t.TempDir() })},
		{Name: "file/src is a 2 GiB sparse file in check mode", Want: OK, Setup: func(t *testing.T) *Run {
			g, b := newGlance(t)
			return &Run{Args: b.With("src", Sparse(t, 2<<30), "_ansible_check_mode", true), Check: noImagesLeft(g)}
		}},
		{Name: "signal/SIGTERM during the upload", Want: Fail, Setup: func(t *testing.T) *Run {
			g, b := newGlance(t)
			return &Run{Args: b.With("src", nil, "url", imageServer(t, 200, true)+"/rhcos.raw"), Signal: 2 * time.Second, Check: noImagesLeft(g)}
		}},
		{Name: "input/checksum not a checksum", Want: Fail, Names: []string{"checksum"}, Setup: func(t *testing.T) *Run {
			g, b := newGlance(t)
			return &Run{Args: b.With("checksum", []any{"md5:0123456789abcdef"}), Check: noImagesLeft(g)}
		}},
	}
	Check(t, "glance_rhcos", append(ConnectionCases(tg), cases...))
}
