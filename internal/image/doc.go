// Package image gets a (possibly compressed) disk image into Glance in one
// streaming pass: source (http/https or a local file) -> decompressor chosen
// by magic bytes (gzip, xz, zstd) -> hashes (sha256 of the download, sha256
// and sha512 of the image) -> Glance upload. Nothing is written to local
// disk and memory stays bounded by a small pool of blocks.
//
// The module follows the observe/plan/apply shape: Observe reads the images
// of that name (and the source's metadata, never its bytes), Plan decides
// purely from that what to do, Apply does it.
//
// Every image this package creates carries PropUploadToken before any byte is
// sent, so a later run finds and deletes what a killed or failed run left in
// queued/saving state.
package image
