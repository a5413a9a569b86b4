package image

import (
	"bytes"
	"fmt"
)

// HeaderSize is how much of the uncompressed image is peeked to name its
// format: an ISO 9660 volume descriptor sits at 32769.
const HeaderSize = 32774

// SniffDiskFormat names the disk format of an uncompressed image header:
// qcow2, vmdk, vhdx, vdi, iso, or raw.
func SniffDiskFormat(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("QFI\xfb")):
		return "qcow2"
	case bytes.HasPrefix(head, []byte("KDMV")):
		return "vmdk"
	case bytes.HasPrefix(head, []byte("vhdxfile")):
		return "vhdx"
	case len(head) >= 68 && bytes.Equal(head[64:68], []byte{0x7f, 0x10, 0xda, 0xbe}):
		return "vdi"
	case len(head) >= 32774 && bytes.Equal(head[32769:32774], []byte("CD001")):
		return "iso"
	}
	return "raw"
}

// ChooseDiskFormat checks the uncompressed header against the disk format
// asked for (auto picks the sniffed one) and returns the format to label the
// image with. Still-compressed bytes are never uploaded as a disk image, and
// a qcow2 label needs the qcow2 magic.
func ChooseDiskFormat(want string, head []byte) (string, error) {
	if c := SniffCompression(head); c != CompressionNone {
		return "", fmt.Errorf("the image data is still %s-compressed after decompression (decompress: none, or compressed twice): refusing to upload compressed bytes as a disk image", c)
	}
	sniffed := SniffDiskFormat(head)
	switch want {
	case "", "auto":
		return sniffed, nil
	case "qcow2", "vmdk", "vhdx", "vdi", "iso":
		if sniffed != want {
			return "", fmt.Errorf("disk_format: %s was asked for, but the image does not start with the %s header (it looks like %s)", want, want, sniffed)
		}
	case "raw":
		if sniffed != "raw" && sniffed != "iso" {
			return "", fmt.Errorf("disk_format: raw was asked for, but the image is %s (its header says so); use disk_format: auto or %s", sniffed, sniffed)
		}
	}
	return want, nil
}
