"""A module for the in-process runner's tests: echoes its arguments, fails, crashes or reads the environment
as its `mode` option says."""

import os

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec={"mode": {"type": "str", "default": "echo"},
                                          "token": {"type": "str", "no_log": True},
                                          "variable": {"type": "str"}},
                           supports_check_mode=True)
    mode = module.params["mode"]
    if mode == "fail":
        module.fail_json(msg="cluster lab-x: the object said no")
    if mode == "crash":
        raise RuntimeError("a bug")
    if mode == "print":
        print("not json")
        return
    module.exit_json(changed=not module.check_mode, check_mode=module.check_mode, token=module.params["token"],
                     value=os.environ.get(module.params["variable"] or "", None))


if __name__ == "__main__":
    main()
