"""Every module's DOCUMENTATION, EXAMPLES and RETURN are YAML that parses (ansible-doc, ansible-lint and the
sanity test read them; a stray ': ' in a description breaks all three), and name the module's own file."""

import ast
import os

import pytest
import yaml

MODULES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))), "plugins", "modules")
FILES = sorted(f for f in os.listdir(MODULES) if f.endswith(".py") and f != "__init__.py")


def blocks(path):
    with open(path) as handle:
        tree = ast.parse(handle.read())
    return {node.targets[0].id: node.value.value for node in tree.body
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id in ("DOCUMENTATION", "EXAMPLES", "RETURN")}


def test_there_are_modules():
    assert len(FILES) >= 20, FILES


@pytest.mark.parametrize("name", FILES)
def test_documentation_blocks_parse(name):
    found = blocks(os.path.join(MODULES, name))
    assert set(found) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}, name
    doc = yaml.safe_load(found["DOCUMENTATION"])
    assert doc["module"] == name[:-3]
    assert doc["short_description"] and doc["description"] and isinstance(doc.get("options", {}), dict)
    assert isinstance(yaml.safe_load(found["EXAMPLES"]), list)
    assert isinstance(yaml.safe_load(found["RETURN"]), (dict, type(None)))
