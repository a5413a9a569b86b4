//go:build integration

package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/pagination"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metalkit/baremetal/internal/openstack"
)

// Every image these tests make is named with this prefix, so runs of other
// modules' tests on the same Glance are never touched.
const imagePrefix = "glance_rhcos-it-"

// Sentinels: a URL password and a query token that must never be printed.
const (
	urlPassword = "SENTINEL-url-pass-7d1e"
	urlToken    = "SENTINEL-query-token-93ac"
)

// imageFixtures are made once per test binary: a real qcow2 (qemu-img) with
// non-zero data, its raw twin, and compressed variants made by the real tools.
type imageFixtures struct {
	dir                    string
	qcow2, raw             string
	gz, xz, zst, truncated string
}

var (
	fixturesOnce sync.Once
	fixtures     imageFixtures
	fixturesErr  error
)

func getFixtures(t *testing.T) imageFixtures {
	t.Helper()
	fixturesOnce.Do(func() {
		dir, err := os.MkdirTemp("", "glance-rhcos-fixtures-")
		if err != nil {
			fixturesErr = err
			return
		}
		f := imageFixtures{dir: dir, qcow2: filepath.Join(dir, "rhcos.qcow2"), raw: filepath.Join(dir, "rhcos.raw")}
		steps := [][]string{
			{filepath.Join(repoRoot, "tests", "fixtures", "image", "make-qcow2.sh"), f.qcow2, "12", "32"},
			{"qemu-img", "convert", "-f", "qcow2", "-O", "raw", f.qcow2, f.raw},
			{"gzip", "-k", f.qcow2},
			{"xz", "-k", "-T1", "-3", f.qcow2},
			{"zstd", "-q", "-k", f.qcow2},
		}
		for _, s := range steps {
			if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
				fixturesErr = fmt.Errorf("%v: %v\n%s", s, err, out)
				return
			}
		}
		f.gz, f.xz, f.zst = f.qcow2+".gz", f.qcow2+".xz", f.qcow2+".zst"
		gz, _ := os.ReadFile(f.gz)
		f.truncated = filepath.Join(dir, "truncated.qcow2.gz")
		fixturesErr = os.WriteFile(f.truncated, gz[:len(gz)*2/3], 0o644)
		fixtures = f
	})
	require.NoError(t, fixturesErr, "making the image fixtures")
	return fixtures
}

// sourceServer serves the fixture directory on 127.0.0.1 and counts GETs
// (downloads) and HEADs. Paths under /auth/ need basic auth with
// urlPassword; /slow/ sends 256 KiB and then stalls until released.
type sourceServer struct {
	*httptest.Server
	mu      sync.Mutex
	gets    map[string]int
	heads   int
	started chan struct{} // a /slow/ download has begun
	release chan struct{}
}

func newSourceServer(t *testing.T, dir string, tlsServer bool) *sourceServer {
	s := &sourceServer{gets: map[string]int{}, started: make(chan struct{}, 8), release: make(chan struct{})}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		s.mu.Lock()
		if r.Method == http.MethodGet {
			s.gets[path]++
		} else if r.Method == http.MethodHead {
			s.heads++
		}
		s.mu.Unlock()
		if rest, ok := strings.CutPrefix(path, "/auth/"); ok {
			if u, p, ok := r.BasicAuth(); !ok || u != "mirror" || p != urlPassword {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			path = "/" + rest
		}
		if rest, ok := strings.CutPrefix(path, "/moved/"); ok {
			http.Redirect(w, r, "/"+rest, http.StatusFound)
			return
		}
		if rest, ok := strings.CutPrefix(path, "/slow/"); ok {
			data, err := os.ReadFile(filepath.Join(dir, rest))
			if err != nil {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
			if r.Method == http.MethodHead {
				return
			}
			n := min(256<<10, len(data)/2)
			w.Write(data[:n])
			w.(http.Flusher).Flush()
			s.started <- struct{}{}
			select {
			case <-s.release:
			case <-r.Context().Done():
				return
			}
			w.Write(data[n:])
			return
		}
		http.ServeFile(w, r, filepath.Join(dir, filepath.Clean(path)))
	})
	if tlsServer {
		s.Server = httptest.NewTLSServer(h)
	} else {
		s.Server = httptest.NewServer(h)
	}
	t.Cleanup(func() {
		select {
		case <-s.release:
		default:
			close(s.release)
		}
		s.Close()
	})
	return s
}

func (s *sourceServer) getCount(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gets[path]
}

// glance is a direct client to check what the module left in Glance.
func glance(t *testing.T) *openstack.Cloud {
	t.Helper()
	return connectCloud(t, "local")
}

func imagesNamed(t *testing.T, c *openstack.Cloud, name string) []images.Image {
	t.Helper()
	ctx := context.Background()
	sc, err := c.Image(ctx)
	require.NoError(t, err)
	var out []images.Image
	err = images.List(sc, images.ListOpts{Name: name, Visibility: "all"}).EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
		imgs, err := images.ExtractImages(p)
		out = append(out, imgs...)
		return true, err
	})
	require.NoError(t, err)
	return out
}

// deleteImagesNamed deletes every image of the names now.
func deleteImagesNamed(t *testing.T, c *openstack.Cloud, names ...string) error {
	ctx := context.Background()
	sc, err := c.Image(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range names {
		for _, im := range imagesNamed(t, c, n) {
			errs = append(errs, images.Delete(ctx, sc, im.ID).ExtractErr())
		}
	}
	return errors.Join(errs...)
}

// cleanupImages deletes every image of the names when the test ends.
func cleanupImages(t *testing.T, c *openstack.Cloud, names ...string) {
	t.Cleanup(func() { _ = deleteImagesNamed(t, c, names...) })
}

func fileSHA512(t *testing.T, path string) string {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	s := sha512.Sum512(data)
	return hex.EncodeToString(s[:])
}

func fileSHA256(t *testing.T, path string) string {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

func taskYAML(name string, args map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "    - name: %s\n      metalkit.baremetal.glance_rhcos:\n        cloud: local\n", name)
	for _, k := range slices.Sorted(maps.Keys(args)) {
		fmt.Fprintf(&b, "        %s: %s\n", k, args[k])
	}
	b.WriteString("      register: out\n      ignore_errors: true\n")
	return b.String()
}

func resultMap(r TaskResult, key string) map[string]any {
	m, _ := r.Result[key].(map[string]any)
	return m
}

// TestGlanceRHCOSGzipQcow2 is the operator's flow: a gzip'd qcow2 behind a
// URL with credentials; uploaded once, verified against Glance's hash; the
// rerun changes nothing and downloads nothing; check and diff modes;
// state absent.
func TestGlanceRHCOSGzipQcow2(t *testing.T) {
	f := getFixtures(t)
	src := newSourceServer(t, f.dir, false)
	c := glance(t)
	name := imagePrefix + "gzip"
	cleanupImages(t, c, name)
	url := strings.Replace(src.URL, "http://", "http://mirror:"+urlPassword+"@", 1) + "/auth/rhcos.qcow2.gz?token=" + urlToken
	args := map[string]string{"name": name, "url": url, "os_version": `"4.16"`, "tags": "[rhcos, it]", "min_disk": "10", "visibility": "public"}

	// Check mode first: metadata only (a HEAD), nothing downloaded or made.
	dry := RunPlaybook(t, playbook(taskYAML("upload", args)), cloudsEnv(), "--check")
	res := dry.Task(t, "upload")
	require.False(t, res.Failed(), res.Msg())
	assert.True(t, res.Changed())
	assert.Contains(t, res.Msg(), "would upload")
	assert.Zero(t, src.getCount("/auth/rhcos.qcow2.gz"), "check mode must not download")
	assert.Empty(t, imagesNamed(t, c, name))
	AssertNoSecret(t, dry, urlPassword, urlToken)

	first := RunPlaybook(t, playbook(taskYAML("upload", args)), cloudsEnv(), "--diff")
	res = first.Task(t, "upload")
	require.False(t, res.Failed(), res.Msg())
	assert.True(t, res.Changed())
	AssertNoSecret(t, first, urlPassword, urlToken)
	img := resultMap(res, "image")
	assert.Equal(t, "qcow2", img["disk_format"])
	assert.Equal(t, "active", img["status"])
	assert.Equal(t, fileSHA512(t, f.qcow2), img["os_hash_value"], "Glance's os_hash_value is the sha512 of the uncompressed qcow2")
	tr := resultMap(res, "transfer")
	assert.Equal(t, "gzip", tr["compression"])
	assert.Equal(t, fileSHA256(t, f.gz), tr["source_sha256"])
	assert.Equal(t, fileSHA256(t, f.qcow2), tr["image_sha256"])
	st, _ := os.Stat(f.qcow2)
	assert.EqualValues(t, st.Size(), tr["bytes_out"])
	assert.Less(t, tr["peak_rss_bytes"].(float64), float64(64<<20))
	props, _ := img["properties"].(map[string]any)
	assert.Equal(t, "rhcos", props["os_distro"])
	assert.Equal(t, 1, src.getCount("/auth/rhcos.qcow2.gz"))
	live := imagesNamed(t, c, name)
	require.Len(t, live, 1)
	assert.Equal(t, 10, live[0].MinDiskGigabytes)
	assert.Equal(t, images.ImageVisibilityPublic, live[0].Visibility)
	assert.Equal(t, "4.16", live[0].Properties["os_version"])

	second := RunPlaybook(t, playbook(taskYAML("upload", args)), cloudsEnv())
	res = second.Task(t, "upload")
	require.False(t, res.Failed(), res.Msg())
	assert.False(t, res.Changed(), "second run: %s", res.Msg())
	assert.Equal(t, 1, src.getCount("/auth/rhcos.qcow2.gz"), "the rerun must not download")
	assert.Equal(t, 0, second.ChangedCount())

	// With the checksum given, a rerun does not even HEAD the source.
	heads := src.heads
	args["checksum"] = "sha512:" + fileSHA512(t, f.qcow2)
	third := RunPlaybook(t, playbook(taskYAML("upload", args)), cloudsEnv())
	require.False(t, third.Task(t, "upload").Failed())
	assert.False(t, third.Task(t, "upload").Changed())
	assert.Equal(t, heads, src.heads)

	// Check mode with a metadata change: reported, not made.
	args["tags"] = "[rhcos, it, new]"
	check := RunPlaybook(t, playbook(taskYAML("upload", args)), cloudsEnv(), "--check", "--diff")
	res = check.Task(t, "upload")
	require.False(t, res.Failed(), res.Msg())
	assert.True(t, res.Changed())
	assert.Contains(t, res.Msg(), "would update tags")
	assert.NotNil(t, res.Result["diff"])
	assert.ElementsMatch(t, []string{"rhcos", "it"}, imagesNamed(t, c, name)[0].Tags)

	// state: absent removes it; again is unchanged.
	absent := map[string]string{"name": name, "state": "absent"}
	gone := RunPlaybook(t, playbook(taskYAML("remove", absent)+strings.Replace(taskYAML("remove", absent), "remove", "remove again", 1)), cloudsEnv())
	assert.True(t, gone.Task(t, "remove").Changed())
	assert.False(t, gone.Task(t, "remove again").Changed())
	assert.Empty(t, imagesNamed(t, c, name))
}

// TestGlanceRHCOSFormats: xz and zstd sources and a raw image, by URL and
// by local file.
func TestGlanceRHCOSFormats(t *testing.T) {
	f := getFixtures(t)
	src := newSourceServer(t, f.dir, false)
	tlsSrc := newSourceServer(t, f.dir, true)
	caFile := filepath.Join(t.TempDir(), "mirror-ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrc.Certificate().Raw}), 0o644))
	c := glance(t)
	tests := []struct {
		name, source, wantFormat, wantComp string
		sha512Of                           string
	}{
		{"xz", "url: " + src.URL + "/rhcos.qcow2.xz", "qcow2", "xz", f.qcow2},
		{"redirected", "url: " + src.URL + "/moved/rhcos.qcow2.gz", "qcow2", "gzip", f.qcow2},
		{"tls-ca", "url: " + tlsSrc.URL + "/rhcos.qcow2.gz", "qcow2", "gzip", f.qcow2},
		{"zstd", "url: " + src.URL + "/rhcos.qcow2.zst", "qcow2", "zstd", f.qcow2},
		{"raw", "url: " + src.URL + "/rhcos.raw", "raw", "none", f.raw},
		{"file-gz", "src: " + f.gz, "qcow2", "gzip", f.qcow2},
	}
	var tasks strings.Builder
	for _, tt := range tests {
		name := imagePrefix + tt.name
		cleanupImages(t, c, name)
		k, v, _ := strings.Cut(tt.source, ": ")
		args := map[string]string{"name": name, k: v}
		if tt.name == "tls-ca" {
			args["url_ca_cert"] = caFile // the mirror's CA: its TLS is verified, not skipped
		}
		tasks.WriteString(taskYAML(tt.name, args))
	}
	run := RunPlaybook(t, playbook(tasks.String()), cloudsEnv())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run.Task(t, tt.name)
			require.False(t, res.Failed(), res.Msg())
			img, tr := resultMap(res, "image"), resultMap(res, "transfer")
			assert.Equal(t, tt.wantFormat, img["disk_format"])
			assert.Equal(t, tt.wantComp, tr["compression"])
			assert.Equal(t, fileSHA512(t, tt.sha512Of), img["os_hash_value"])
			assert.Len(t, imagesNamed(t, c, imagePrefix+tt.name), 1)
		})
	}
}

// TestGlanceRHCOSFailuresLeaveNothing: each bad source fails clearly and no
// image of the name is left.
func TestGlanceRHCOSFailuresLeaveNothing(t *testing.T) {
	f := getFixtures(t)
	src := newSourceServer(t, f.dir, false)
	tlsSrc := newSourceServer(t, f.dir, true)
	c := glance(t)
	wrong := strings.Repeat("ab", 32)
	tests := []struct {
		name    string
		args    map[string]string
		wantMsg []string
	}{
		{"truncated", map[string]string{"url": src.URL + "/truncated.qcow2.gz"}, []string{"gzip stream is truncated or corrupt", "was deleted"}},
		{"mismatch", map[string]string{"url": src.URL + "/rhcos.qcow2.gz", "checksum": "sha256:" + wrong},
			[]string{"checksum mismatch", wrong, fileSHA256(t, f.gz), fileSHA256(t, f.qcow2), "was deleted"}},
		{"notfound", map[string]string{"url": "http://mirror:" + urlPassword + "@" + strings.TrimPrefix(src.URL, "http://") + "/missing.qcow2.gz"}, []string{"404 Not Found", "/missing.qcow2.gz"}},
		{"untrusted-tls", map[string]string{"url": tlsSrc.URL + "/rhcos.qcow2.gz"}, []string{"TLS verification", "url_ca_cert"}},
		{"gzip-as-qcow2", map[string]string{"url": src.URL + "/rhcos.qcow2.gz", "decompress": "none", "disk_format": "qcow2"}, []string{"refusing to upload compressed bytes"}},
		{"web-download-compressed", map[string]string{"url": src.URL + "/rhcos.qcow2.gz", "method": "web-download"}, []string{"web-download"}},
	}
	var tasks strings.Builder
	for _, tt := range tests {
		name := imagePrefix + "fail-" + tt.name
		cleanupImages(t, c, name)
		tt.args["name"] = name
		tasks.WriteString(taskYAML(tt.name, tt.args))
	}
	run := RunPlaybook(t, playbook(tasks.String()), cloudsEnv())
	AssertNoSecret(t, run, urlPassword)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run.Task(t, tt.name)
			require.True(t, res.Failed(), "should fail: %v", res.Result)
			for _, w := range tt.wantMsg {
				assert.Contains(t, res.Msg(), w)
			}
			assert.Empty(t, imagesNamed(t, c, imagePrefix+"fail-"+tt.name), "a failed run must leave no image")
		})
	}
	assert.Zero(t, tlsSrc.getCount("/rhcos.qcow2.gz"), "no request may pass an untrusted TLS handshake")
}

// TestGlanceRHCOSWebDownload: Glance's interoperable import. The local
// Glance (tests/services/glance.sh) lets web-download fetch from 127.0.0.1
// only: the image Glance fetched itself must carry the raw file's sha512,
// and a URL its import filter refuses (localhost is not in allowed_hosts)
// must fail naming Glance's refusal and leave no image.
func TestGlanceRHCOSWebDownload(t *testing.T) {
	f := getFixtures(t)
	src := newSourceServer(t, f.dir, false)
	c := glance(t)
	name := imagePrefix + "webdl"
	cleanupImages(t, c, name)
	run := RunPlaybook(t, playbook(taskYAML("import", map[string]string{"name": name, "url": src.URL + "/rhcos.raw", "method": "web-download", "timeout": "120"})), cloudsEnv())
	res := run.Task(t, "import")
	require.False(t, res.Failed(), "web-download from the loopback mirror: %s", res.Msg())
	assert.True(t, res.Changed())
	img := resultMap(res, "image")
	assert.Equal(t, "raw", img["disk_format"])
	assert.Equal(t, "active", img["status"])
	assert.Equal(t, fileSHA512(t, f.raw), img["os_hash_value"])
	// The module reads the first bytes to name the format, Glance fetches the rest.
	assert.Equal(t, 2, src.getCount("/rhcos.raw"), "one sniff by the module, one download by Glance")
	require.Len(t, imagesNamed(t, c, name), 1)

	again := RunPlaybook(t, playbook(taskYAML("import", map[string]string{"name": name, "url": src.URL + "/rhcos.raw", "method": "web-download", "timeout": "120"})), cloudsEnv())
	assert.False(t, again.Task(t, "import").Changed(), "second run: %s", again.Output())
	require.NoError(t, deleteImagesNamed(t, c, name))

	refused := strings.Replace(src.URL, "127.0.0.1", "localhost", 1) + "/rhcos.raw"
	run = RunPlaybook(t, playbook(taskYAML("import", map[string]string{"name": name, "url": refused, "method": "web-download", "timeout": "120"})), cloudsEnv())
	res = run.Task(t, "import")
	require.True(t, res.Failed(), "a URL Glance's import filter refuses must fail the task")
	assert.Contains(t, res.Msg(), "does not pass filtering")
	assert.Empty(t, imagesNamed(t, c, name), "a refused import must leave no image")
}

// TestGlanceRHCOSKilledUpload: the module is killed mid-upload. SIGKILL
// gives it no chance to clean up: the next run removes the leftover. SIGTERM
// (what a timeout or Ctrl-C sends) lets it delete its own image at once.
// Either way the next run ends with exactly one active image.
func TestGlanceRHCOSKilledUpload(t *testing.T) {
	f := getFixtures(t)
	c := glance(t)
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			src := newSourceServer(t, f.dir, false)
			name := imagePrefix + "killed-" + strconv.Itoa(int(sig))
			cleanupImages(t, c, name)

			dir := t.TempDir()
			play := filepath.Join(dir, "play.yml")
			require.NoError(t, os.WriteFile(play, []byte(playbook(taskYAML("upload", map[string]string{"name": name, "url": src.URL + "/slow/rhcos.qcow2.gz"}))), 0o644))
			cmd := exec.Command("ansible-playbook", "-i", "localhost,", "-c", "local", "-e", "ansible_python_interpreter=/usr/bin/python3", play)
			cmd.Env = append(os.Environ(), "ANSIBLE_COLLECTIONS_PATH="+collectionsPath, "ANSIBLE_STDOUT_CALLBACK=json")
			cmd.Env = append(cmd.Env, cloudsEnv()...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			require.NoError(t, cmd.Start())
			select {
			case <-src.started:
			case <-time.After(90 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("the module never started downloading: %s", out.String())
			}
			// Wait until Glance holds the half-made image, then kill the module.
			require.Eventually(t, func() bool {
				for _, im := range imagesNamed(t, c, name) {
					if im.Status == images.ImageStatusSaving || im.Status == images.ImageStatusQueued {
						return true
					}
				}
				return false
			}, 30*time.Second, 200*time.Millisecond)
			pid := moduleChild(t, cmd.Process.Pid, "AnsiballZ_glance_rhcos")
			require.NoError(t, syscall.Kill(pid, sig))
			cmd.Wait()
			var leftover string
			if sig == syscall.SIGKILL {
				var left []images.Image
				require.Eventually(t, func() bool {
					left = imagesNamed(t, c, name)
					return len(left) == 1 && left[0].Status != images.ImageStatusActive
				}, 30*time.Second, 200*time.Millisecond, "the killed run leaves its image non-active")
				leftover = left[0].ID
			} else {
				assert.Contains(t, out.String(), "interrupted by SIGTERM")
				assert.Empty(t, imagesNamed(t, c, name), "on SIGTERM the module deletes its own image before exiting; it said: %.3000s", out.String())
			}

			close(src.release) // the source is healthy again
			run := RunPlaybook(t, playbook(taskYAML("upload", map[string]string{"name": name, "url": src.URL + "/rhcos.qcow2.gz"})), cloudsEnv())
			res := run.Task(t, "upload")
			require.False(t, res.Failed(), res.Msg())
			if leftover != "" {
				assert.Contains(t, res.Result["removed"], leftover)
				assert.Contains(t, res.Msg(), "interrupted run")
			} else {
				assert.Empty(t, res.Result["removed"])
			}
			live := imagesNamed(t, c, name)
			require.Len(t, live, 1, "exactly one image, nothing left queued")
			assert.Equal(t, images.ImageStatusActive, live[0].Status)
			assert.Equal(t, fileSHA512(t, f.qcow2), live[0].Properties["os_hash_value"])
		})
	}
}

// TestGlanceRHCOSForce: other content under the same name is added beside
// (with a warning) unless force, which replaces; same content stays.
func TestGlanceRHCOSForce(t *testing.T) {
	f := getFixtures(t)
	src := newSourceServer(t, f.dir, false)
	c := glance(t)
	name := imagePrefix + "force"
	cleanupImages(t, c, name)
	raw := map[string]string{"name": name, "url": src.URL + "/rhcos.raw"}
	gz := map[string]string{"name": name, "url": src.URL + "/rhcos.qcow2.gz"}
	rawForce := map[string]string{"name": name, "url": src.URL + "/rhcos.raw", "force": "true"}
	run := RunPlaybook(t, playbook(taskYAML("raw", raw)+taskYAML("gz beside", gz)+taskYAML("raw, force", rawForce)+taskYAML("raw, force, again", rawForce)), cloudsEnv())

	first := run.Task(t, "raw")
	require.False(t, first.Failed(), first.Msg())
	rawID := resultMap(first, "image")["id"]
	beside := run.Task(t, "gz beside")
	require.False(t, beside.Failed(), beside.Msg())
	assert.True(t, beside.Changed())
	assert.Contains(t, fmt.Sprint(beside.Result["warnings"]), "older active image(s)")
	gzID := resultMap(beside, "image")["id"]
	assert.NotEqual(t, rawID, gzID)

	forced := run.Task(t, "raw, force")
	require.False(t, forced.Failed(), forced.Msg())
	assert.True(t, forced.Changed())
	assert.Equal(t, rawID, resultMap(forced, "image")["id"], "the image with the same content is kept")
	assert.Equal(t, []any{gzID}, forced.Result["removed"])
	again := run.Task(t, "raw, force, again")
	assert.False(t, again.Changed(), again.Msg())
	live := imagesNamed(t, c, name)
	require.Len(t, live, 1)
	assert.Equal(t, rawID, live[0].ID)
}

// moduleChild finds the module process among the descendants of root by
// its executable name (Ansible runs it as AnsiballZ_<module>).
func moduleChild(t *testing.T, root int, exe string) int {
	t.Helper()
	var found int
	require.Eventually(t, func() bool {
		parents := map[int]int{}
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
			if err != nil {
				continue
			}
			fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
			if len(fields) > 1 {
				parents[pid], _ = strconv.Atoi(fields[1])
			}
		}
		for pid := range parents {
			cmdline, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
			argv0, _, _ := bytes.Cut(cmdline, []byte{0})
			if !strings.HasSuffix(string(argv0), exe) {
				continue
			}
			for p := parents[pid]; p > 1; p = parents[p] {
				if p == root {
					found = pid
					return true
				}
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond, "no %s process under pid %d", exe, root)
	return found
}
