package image

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type seenUpload struct {
	contentLength int64
	chunked       bool
	body          []byte
}

// fakeGlance answers PUT /v2/images/ID/file with status, recording the request.
func fakeGlance(t *testing.T, status int) (*gophercloud.ServiceClient, *[]seenUpload, *atomic.Int32) {
	var seen []seenUpload
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut || !strings.HasSuffix(r.URL.Path, "/file") {
			http.NotFound(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		seen = append(seen, seenUpload{r.ContentLength, len(r.TransferEncoding) > 0 && r.TransferEncoding[0] == "chunked", body})
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	retries := &atomic.Int32{}
	pc := &gophercloud.ProviderClient{HTTPClient: http.Client{}}
	pc.RetryFunc = func(context.Context, string, string, *gophercloud.RequestOpts, error, uint) error {
		retries.Add(1)
		return nil // "retry": must never be reached for an upload
	}
	return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: srv.URL + "/", ResourceBase: srv.URL + "/v2/"}, &seen, retries
}

func TestUploadSendsContentLengthWhenKnownElseChunked(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 3<<20)
	for _, tt := range []struct {
		name    string
		size    int64
		chunked bool
	}{{"known size", int64(len(data)), false}, {"unknown size", -1, true}} {
		t.Run(tt.name, func(t *testing.T) {
			client, seen, _ := fakeGlance(t, http.StatusNoContent)
			g := NewGlance(client, "")
			// A plain io.Reader: net/http cannot learn its length by itself.
			require.NoError(t, g.Upload(context.Background(), "img1", struct{ io.Reader }{bytes.NewReader(data)}, tt.size))
			require.Len(t, *seen, 1)
			got := (*seen)[0]
			assert.Equal(t, tt.chunked, got.chunked)
			if !tt.chunked {
				assert.Equal(t, tt.size, got.contentLength)
			}
			assert.Equal(t, data, got.body)
		})
	}
}

func TestUploadIsNeverRetried(t *testing.T) {
	client, seen, retries := fakeGlance(t, http.StatusServiceUnavailable)
	g := NewGlance(client, "")
	err := g.Upload(context.Background(), "img1", strings.NewReader("QFI\xfbdata"), -1)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "uploading image data to img1")
	assert.Len(t, *seen, 1, "one PUT only: a consumed stream cannot be sent again")
	assert.Zero(t, retries.Load())
	assert.NotNil(t, client.ProviderClient.RetryFunc, "the shared client keeps its retry policy")
}
