"""Offline pip bootstrap for ansible-test's per-test virtualenvs.

ansible-test bootstraps pip in each sanity virtualenv with a script it downloads from a host
this project's machines cannot reach, and it uses a cached copy when one exists. This is our
own replacement for that script: pip comes from CPython's bundled ensurepip wheel, then that
pip installs the packages ansible-test asked for (pinned pip, from PyPI). Arguments are pip
install arguments plus get-pip's own --no-setuptools / --no-wheel switches.
"""

import subprocess
import sys


def main():
    args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--upgrade", "--force-reinstall"] + args)


if __name__ == "__main__":
    main()
