package main

import (
	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/secret"
)

var spec = &ansible.Spec{
	Name:             "ignition_render",
	ShortDescription: "Render and validate an Ignition config for Red Hat CoreOS",
	VersionAdded:     "1.0.0",
	SeeAlso: []ansible.SeeAlso{
		{Module: "metalkit.baremetal.nova_bm_server", Description: "Boot a server with the rendered config as user data (C(user_data_file))."},
		{Module: "metalkit.baremetal.glance_rhcos", Description: "Upload the RHCOS image the config is for."},
	},
	Description: []string{
		"Builds an Ignition config (spec 3.0 to 3.5, or 2.2.0 for OpenShift 4.5 and older) from users, SSH keys, CA certificates, files, systemd units and pointer configs, and validates it with Ignition's own rules.",
		"Checks the result against Nova's 64 KiB (base64-encoded) user-data limit, compressing file and certificate contents where the spec allows (3.1 and newer) before failing.",
		"Needs no cloud access. Pass C(dest) to M(metalkit.baremetal.nova_bm_server)'s C(user_data_file) rather than the returned string: Ansible templating can mangle JSON strings.",
	},
	Notes: []string{
		"Ignition ignores Nova keypairs: SSH keys for the C(core) user must be in the config (C(users[].ssh_authorized_keys)).",
		"A boot image rejects the other major Ignition version: OpenShift <= 4.5 needs 2.2.0; 4.6 3.1.0; 4.8-4.13 3.2.0; 4.14-4.16 3.4.0; 4.17+ 3.5.0.",
	},
	Author: []string{"metalkit engineers (@metalkit)"},
	Options: map[string]*ansible.Option{
		"spec_version": {
			Type:        ansible.TypeStr,
			Default:     "3.5.0",
			Choices:     []any{"2.2.0", "3.0.0", "3.1.0", "3.2.0", "3.3.0", "3.4.0", "3.5.0"},
			Description: []string{"Ignition spec version to emit. Match it to the RHCOS boot image (see notes)."},
		},
		"users": {
			Type: ansible.TypeList, Elements: ansible.TypeDict,
			Description: []string{"Users to create or configure, usually C(core) with its SSH keys."},
			Options: map[string]*ansible.Option{
				"name": {Type: ansible.TypeStr, Required: true, Description: []string{"User name."}},
				"ssh_authorized_keys": {Type: ansible.TypeList, Elements: ansible.TypeStr, Aliases: []string{"ssh_keys"},
					Description: []string{"SSH public keys in authorized_keys format; each is syntax checked."}},
				"groups":        {Type: ansible.TypeList, Elements: ansible.TypeStr, Description: []string{"Supplementary groups."}},
				"password_hash": {Type: ansible.TypeStr, NoLog: true, Description: []string{"Password hash (crypt format). Never printed."}},
			},
		},
		"ca_certificates": {
			Type: ansible.TypeList, Elements: ansible.TypeStr,
			Description: []string{"CA certificates to trust, each PEM text or the path of a PEM file on the target; they become data URLs in C(ignition.security.tls.certificateAuthorities)."},
		},
		"files": {
			Type: ansible.TypeList, Elements: ansible.TypeDict,
			Description: []string{"Files to write on the host."},
			Options: map[string]*ansible.Option{
				"path":         {Type: ansible.TypeStr, Required: true, Description: []string{"Absolute path on the host."}},
				"contents":     {Type: ansible.TypeStr, Description: []string{"Inline contents (text)."}},
				"source":       {Type: ansible.TypeStr, Description: []string{"URL Ignition fetches the contents from (http, https, s3, tftp, data)."}},
				"verification": {Type: ansible.TypeStr, Description: []string{"Hash of the fetched contents, C(sha512-<hex>) (or C(sha256-<hex>) on spec 3.1+)."}},
				"mode":         {Type: ansible.TypeInt, Description: []string{"File mode as a number, for example C(0644) written in YAML as C(420) or C(0o644)."}},
				"overwrite":    {Type: ansible.TypeBool, Description: []string{"Whether to overwrite an existing file."}},
				"user":         {Type: ansible.TypeStr, Description: []string{"Owner name."}},
				"group":        {Type: ansible.TypeStr, Description: []string{"Group name."}},
			},
			MutuallyExclusive: [][]string{{"contents", "source"}},
		},
		"systemd_units": {
			Type: ansible.TypeList, Elements: ansible.TypeDict,
			Description: []string{"systemd units to write, enable or mask."},
			Options: map[string]*ansible.Option{
				"name":     {Type: ansible.TypeStr, Required: true, Description: []string{"Unit name, for example C(example.service)."}},
				"contents": {Type: ansible.TypeStr, Description: []string{"Unit file contents."}},
				"enabled":  {Type: ansible.TypeBool, Description: []string{"Whether the unit is enabled."}},
				"mask":     {Type: ansible.TypeBool, Default: false, Description: []string{"Whether the unit is masked."}},
				"dropins": {Type: ansible.TypeList, Elements: ansible.TypeDict, Description: []string{"Drop-in files for the unit."},
					Options: map[string]*ansible.Option{
						"name":     {Type: ansible.TypeStr, Required: true, Description: []string{"Drop-in file name, ending in C(.conf)."}},
						"contents": {Type: ansible.TypeStr, Description: []string{"Drop-in contents."}},
					}},
			},
		},
		"merge": {
			Type: ansible.TypeList, Elements: ansible.TypeDict,
			Description: []string{"Remote configs to merge on top of this one (pointer configs, for example the OpenShift machine config server)."},
			Options:     configRefOptions(),
		},
		"replace": {
			Type:        ansible.TypeDict,
			Description: []string{"A remote config that replaces this one entirely (the OpenShift pointer-config case)."},
			Options:     configRefOptions(),
		},
		"base": {
			Type: ansible.TypeDict,
			// A base config carries users' password hashes.
			NoLogKey:    func(k string) bool { return k == "passwordHash" || secret.IsKey(k) },
			Description: []string{"An Ignition config (as a dict) merged underneath: what this module renders wins where both set a value."},
		},
		"dest": {
			Type: ansible.TypePath,
			Description: []string{
				"Write the rendered JSON here (atomically). The task reports changed only when the content or mode differs.",
				"A symbolic link, a device, a FIFO or a directory at C(dest) is refused (nothing is written through a link, nothing but a regular file is replaced).",
				"In diff mode, password hashes and file contents of both the old and the new config are shown as their size and sha256 only.",
			},
		},
		"mode": {
			Type:    ansible.TypeRaw,
			Default: "0600",
			Description: []string{
				"Mode of C(dest), read as Ansible's file modules read it: a quoted octal string (C(\"0640\")) or a symbolic one (C(u=rw,g=r)), or the number YAML makes of an unquoted C(0640) (416, which is 0640).",
				"The config may hold password hashes, so it is private by default; a mode open to group or others warns when it does.",
			},
		},
		"max_size": {
			Type:        ansible.TypeInt,
			Default:     65535,
			Description: []string{"Largest user data allowed, counted as Nova counts it: the length of the base64-encoded text (Nova's limit, 65535, leaves at most 49149 bytes of JSON). A negative value turns the check off."},
		},
	},
	Examples: examples,
	Return:   returns,
}

func configRefOptions() map[string]*ansible.Option {
	return map[string]*ansible.Option{
		"source":       {Type: ansible.TypeStr, Required: true, Description: []string{"URL of the config (http, https, s3, tftp, data)."}},
		"verification": {Type: ansible.TypeStr, Description: []string{"Hash of the config, C(sha512-<hex>)."}},
	}
}

var returns = map[string]*ansible.ReturnValue{
	"config":       {Description: []string{"The rendered config."}, Returned: "success", Type: "dict"},
	"json":         {Description: []string{"The rendered config as compact JSON text."}, Returned: "success", Type: "str"},
	"user_data":    {Description: []string{"What Nova takes as user data (the JSON text)."}, Returned: "success", Type: "str"},
	"size":         {Description: []string{"Size of the user data in bytes."}, Returned: "success", Type: "int", Sample: 1234},
	"encoded_size": {Description: []string{"Size of the base64-encoded user data, the figure Nova checks against its limit."}, Returned: "success", Type: "int", Sample: 1648},
	"sha512":       {Description: []string{"SHA-512 of the user data, hex."}, Returned: "success", Type: "str"},
	"compressed":   {Description: []string{"Whether contents were gzip-compressed to fit C(max_size)."}, Returned: "success", Type: "bool"},
	"dest":         {Description: []string{"Where the config was written."}, Returned: "when C(dest) is set", Type: "str"},
}
