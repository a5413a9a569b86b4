#!/usr/bin/python3
"""Reference side of oracle_test.go: runs argument cases through Debian's
ansible-core AnsibleModule and prints their results as one JSON list.

Input (argv[1]): {"cases": [{"kwargs": <ArgumentSpec(spec)>, "args": {...}}]}.
Each case builds an AnsibleModule from kwargs (env fallbacks written as
["env_fallback", [...]] become env_fallback), feeds args through
basic._ANSIBLE_ARGS, and captures what exit_json/fail_json print; a
successful case echoes module.params under "params".
"""
import contextlib
import io
import json
import sys

from ansible.module_utils import basic
from ansible.module_utils.common import warnings


def fix_fallbacks(spec):
    for opt in spec.values():
        fb = opt.get("fallback")
        if fb and fb[0] == "env_fallback":
            opt["fallback"] = (basic.env_fallback, fb[1])
        if "options" in opt:
            fix_fallbacks(opt["options"])


def run_case(case):
    kwargs = case["kwargs"]
    fix_fallbacks(kwargs["argument_spec"])
    basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": case["args"]}).encode("utf-8")
    del warnings._global_warnings[:]
    del warnings._global_deprecations[:]
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            module = basic.AnsibleModule(supports_check_mode=True, **kwargs)
            # As JSON text, so our result printer cannot reshape numbers.
            module.exit_json(changed=False, params=json.dumps(json.loads(module.jsonify(module.params)), sort_keys=True))
    except SystemExit:
        pass
    text = out.getvalue()
    try:
        return json.loads(text)
    except ValueError:
        return {"oracle_error": "unparsable output", "output": text}


def main():
    with open(sys.argv[1], "rb") as f:
        cases = json.load(f)["cases"]
    results = []
    for case in cases:
        try:
            results.append(run_case(case))
        except Exception as e:  # a crash inside AnsibleModule itself
            results.append({"oracle_error": "%s: %s" % (type(e).__name__, e)})
    sys.stdout.write(json.dumps(results))


if __name__ == "__main__":
    main()
