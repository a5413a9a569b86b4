package main

import (
	"maps"

	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/cloudopts"
	"github.com/metalkit/baremetal/internal/task"
)

// defaultTimeout suits GiB images on a slow mirror: one hour.
const defaultTimeout = 3600

var spec = &ansible.Spec{
	Name:             "glance_rhcos",
	ShortDescription: "Get an RHCOS (or any) disk image into Glance in one streaming, verified, idempotent pass",
	VersionAdded:     "1.0.0",
	SeeAlso: []ansible.SeeAlso{
		{Module: "metalkit.baremetal.nova_bm_server", Description: "Boot a server from the image this module uploaded."},
		{Module: "metalkit.baremetal.ignition_render", Description: "Render the Ignition config that boots the RHCOS image."},
	},
	Description: []string{
		"Downloads an image (O(url)) or reads a local file (O(src)), decompresses it on the fly (gzip, xz or zstd, by magic bytes), hashes it and uploads it to Glance in the same pass: no temporary copy on disk, memory bounded whatever the image size.",
		"The disk format comes from the uncompressed header (qcow2 magic, else raw); compressed bytes are never uploaded labelled as a disk image.",
		"O(checksum) is verified while streaming: the last block is held back until the sums are known, so a mismatching image never becomes active; it is deleted and the task fails naming both sums.",
		"After the upload, Glance's own C(os_hash_value) is compared with the sha512 computed here.",
		"Idempotent: an active image of that name whose recorded checksums match O(checksum), or whose recorded source, ETag (or size and modification time) match a HEAD of O(url) (a stat of O(src)), is left alone without downloading anything.",
		"A failed or interrupted run leaves nothing behind: every image is created with a C(metalkit_upload_token) property before any byte is sent, the module deletes its image when it fails, and the next run deletes any queued or saving image of the name carrying that property (for example after the module was killed).",
	},
	Notes: []string{
		"Images created by other tools are matched only through O(checksum): C(sha512:<hex>) of the uncompressed image equals Glance's C(os_hash_value).",
		"Without O(force), an image with different content is uploaded beside the older ones of the same name (a warning lists them); O(force=true) deletes them once the new one is active.",
		"Two runs for the same image name at the same time are not supported: each treats the other's upload in progress as a leftover.",
		"The upload streams with chunked transfer encoding when the uncompressed size is unknown (compressed sources); Glance's own server accepts that, some deployments behind mod_wsgi do not: use O(method=web-download) or an uncompressed source there.",
		"Check mode reads only metadata (the image list, a HEAD of the URL) and uploads nothing.",
		"O(wait) is ignored: the task always waits for the image to become active.",
	},
	Author: []string{"metalkit engineers (@metalkit)"},
	Options: withConnection(map[string]*ansible.Option{
		"name": {Type: ansible.TypeStr, Required: true, Description: []string{"Name of the image in Glance."}},
		"state": {Type: ansible.TypeStr, Default: "present", Choices: []any{"present", "absent"},
			Description: []string{"C(present) uploads the image unless an active one of the name has the same content; C(absent) deletes every image of the name."}},
		"url": {Type: ansible.TypeStr, Description: []string{
			"HTTP or HTTPS URL of the image, for example C(rhcos-<version>-openstack.x86_64.qcow2.gz). Redirects are followed (never from https to http).",
			"Credentials may be given in the URL (C(https://user:pass@host/path)); they are sent as basic auth and never printed. The query string is never printed either.",
		}},
		"src": {Type: ansible.TypePath, Aliases: []string{"filename"}, Description: []string{"Path of a local image file on the host the module runs on, instead of O(url).", "C(filename) is openstack.cloud's name for it."}},
		"checksum": {Type: ansible.TypeList, Elements: ansible.TypeStr, Description: []string{
			"Expected checksums, C(sha256:<hex>) or C(sha512:<hex>), each of either the download (the compressed file, as published next to it) or the uncompressed image; one or two values.",
			"Verified during the transfer. Also what identifies an existing image without downloading: set it to make reruns free of any request to the source.",
		}},
		"decompress": {Type: ansible.TypeStr, Default: "auto", Choices: []any{"auto", "none", "gzip", "xz", "zstd"},
			Description: []string{"How the source is compressed. C(auto) decides by magic bytes; a named one must match them; C(none) uploads the bytes as they are (still refused if they are compressed)."}},
		"disk_format": {Type: ansible.TypeStr, Default: "auto", Choices: []any{"auto", "qcow2", "raw", "vmdk", "vhdx", "vdi", "iso", "vhd", "ami", "aki", "ari", "ploop"},
			Description: []string{"Disk format of the image. C(auto) reads the uncompressed header: qcow2, vmdk, vhdx, vdi, iso, else raw. An explicit qcow2, vmdk, vhdx, vdi or iso must match the header."}},
		"container_format": {Type: ansible.TypeStr, Default: "bare", Choices: []any{"bare", "ovf", "ova", "ami", "aki", "ari", "docker", "compressed"},
			Description: []string{"Container format of the image."}},
		"visibility": {Type: ansible.TypeStr, Choices: []any{"public", "private", "shared", "community"},
			Description: []string{"Who can see the image. Unset: Glance's default on create, unchanged on an existing image."}},
		"properties": {Type: ansible.TypeDict, Description: []string{
			"Additional image properties (string values), for example C(hw_firmware_type: uefi). Keys starting with C(metalkit_) are reserved.",
			"Set on a new image, and added or updated on a matching one; properties not named here are left alone.",
		}},
		"os_distro":  {Type: ansible.TypeStr, Default: "rhcos", Description: []string{"The C(os_distro) property (Glance's common image properties). An empty string leaves it out."}},
		"os_version": {Type: ansible.TypeStr, Description: []string{"The C(os_version) property, for example the RHCOS release C(4.16)."}},
		"tags":       {Type: ansible.TypeList, Elements: ansible.TypeStr, Description: []string{"Image tags. When given, a matching image's tags are replaced by these."}},
		"min_disk":   {Type: ansible.TypeInt, Description: []string{"Minimum disk size in GiB needed to boot the image."}},
		"min_ram":    {Type: ansible.TypeInt, Description: []string{"Minimum RAM in MiB needed to boot the image."}},
		"protected":  {Type: ansible.TypeBool, Aliases: []string{"is_protected"}, Description: []string{"Whether the image is protected from deletion. A new image is protected only once it is complete and verified.", "C(is_protected) is openstack.cloud's name for it."}},
		"force": {Type: ansible.TypeBool, Default: false, Description: []string{
			"When the content differs, delete the other active images of the name once the new one is active (replace instead of adding beside).",
			"An image with the same content is still left alone.",
		}},
		"method": {Type: ansible.TypeStr, Default: "upload", Choices: []any{"upload", "web-download"}, Description: []string{
			"C(upload) streams the image through this module (decompressing and verifying on the way).",
			"C(web-download) asks Glance to fetch O(url) itself (interoperable image import), where the cloud offers it (C(/v2/info/import)); the source must then be uncompressed and without credentials in the URL, and only a C(sha512) checksum (Glance's hash) can be verified. Glance fetches only what its C([import_filtering_opts]) allow: by default ports 80 and 443 and no loopback or link-local address; a refused URL fails the task with Glance's C(does not pass filtering).",
		}},
		"url_validate_certs": {Type: ansible.TypeBool, Default: true, Description: []string{"Whether to verify the TLS certificate of O(url). Independent of O(validate_certs), which is for the cloud's APIs."}},
		"url_ca_cert":        {Type: ansible.TypePath, Description: []string{"PEM file of CA certificates to trust for O(url), added to the system ones. Defaults to O(ca_cert) when that is set."}},
		"url_timeout":        {Type: ansible.TypeInt, Default: 60, Description: []string{"Seconds to wait for O(url) to connect and answer with headers. The whole transfer is bounded by O(timeout).", cloudopts.TimeoutRule}},
	}),
	MutuallyExclusive: [][]string{{"url", "src"}},
	RequiredIf:        []ansible.RequiredIf{{Key: "state", Value: "present", Requirements: []string{"url", "src"}, AnyOf: true}},
	Examples:          examples,
	Return:            task.Returns(returns),
}

// withConnection adds the shared OpenStack connection options.
func withConnection(own map[string]*ansible.Option) map[string]*ansible.Option {
	all := cloudopts.Options(defaultTimeout)
	maps.Copy(all, own)
	return all
}

var returns = map[string]*ansible.ReturnValue{
	"image": {
		Description: []string{"The image, as Glance reports it (null with state absent or when nothing matches in check mode)."},
		Returned:    "success", Type: "dict",
		Contains: map[string]*ansible.ReturnValue{
			"id":            {Description: []string{"Image ID."}, Type: "str", Returned: "always"},
			"name":          {Description: []string{"Image name."}, Type: "str", Returned: "always"},
			"status":        {Description: []string{"Image status, C(active) once uploaded."}, Type: "str", Returned: "always"},
			"size":          {Description: []string{"Size of the stored (uncompressed) image in bytes."}, Type: "int", Returned: "always"},
			"checksum":      {Description: []string{"Glance's MD5 checksum of the data."}, Type: "str", Returned: "always"},
			"os_hash_algo":  {Description: []string{"Glance's hash algorithm, usually sha512."}, Type: "str", Returned: "always"},
			"os_hash_value": {Description: []string{"Glance's hash of the stored data; equals O(transfer.image_sha512) for an upload."}, Type: "str", Returned: "always"},
			"disk_format":   {Description: []string{"Disk format."}, Type: "str", Returned: "always"},
			"properties":    {Description: []string{"Other properties, including the C(metalkit_*) records of source and checksums."}, Type: "dict", Returned: "always"},
		},
	},
	"transfer": {
		Description: []string{"Figures of the transfer."},
		Returned:    "when the image was uploaded, or in check mode when it would be", Type: "dict",
		Contains: map[string]*ansible.ReturnValue{
			"method":         {Description: []string{"C(upload) or C(web-download)."}, Type: "str", Returned: "always"},
			"source":         {Description: []string{"The source, without credentials or query string."}, Type: "str", Returned: "always"},
			"compression":    {Description: []string{"Compression found: none, gzip, xz or zstd."}, Type: "str", Returned: "always"},
			"disk_format":    {Description: []string{"Disk format found."}, Type: "str", Returned: "always"},
			"bytes_in":       {Description: []string{"Bytes downloaded (or read)."}, Type: "int", Returned: "always"},
			"bytes_out":      {Description: []string{"Bytes uploaded (uncompressed)."}, Type: "int", Returned: "always"},
			"seconds":        {Description: []string{"Wall time of the transfer."}, Type: "float", Returned: "always"},
			"mb_per_s":       {Description: []string{"Uploaded megabytes (10^6) per second."}, Type: "float", Returned: "always"},
			"source_sha256":  {Description: []string{"sha256 of the download."}, Type: "str", Returned: "upload"},
			"image_sha256":   {Description: []string{"sha256 of the uncompressed image."}, Type: "str", Returned: "upload"},
			"image_sha512":   {Description: []string{"sha512 of the uncompressed image."}, Type: "str", Returned: "upload"},
			"peak_rss_bytes": {Description: []string{"Peak resident memory of the module process."}, Type: "int", Returned: "always"},
		},
	},
	"removed": {
		Description: []string{"IDs of the images deleted: leftovers of interrupted runs, images replaced (O(force)), or with O(state=absent) every image of the name (in check mode: would be)."},
		Returned:    "always", Type: "list", Elements: "str",
	},
}
