# Copyright (c) aphex.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ModuleTemplate rendering and the built-in templates (their overlays are built by kustomize in
tests/integration/test_module_packages.py)."""

from __future__ import annotations

import os
import shutil

import pytest
import yaml

from ansible_collections.aphex.platform.plugins.module_utils.tenant_packages import (
    builtin_templates, templates, validation)
from ansible_collections.aphex.platform.plugins.module_utils.tenant_packages.templates import TemplateError

HERE = os.path.dirname(os.path.realpath(__file__))


@pytest.fixture
def company_api(tmp_path):
    """The seed's custom template as a directory with its two source files."""
    root = tmp_path / "company-api"
    (root / "templates").mkdir(parents=True)
    shutil.copy(os.path.join(HERE, "fixtures", "valid-template.yaml"), root / "o8-module.yaml")
    (root / "templates" / "deployment.yaml").write_text(
        "name: {{ service_name }}\nmodule: {{ module_name }}\n"
        "{% if database_required %}database: postgresql\n{% endif %}")
    (root / "templates" / "service.yaml").write_text("service: {{ service_name }}\n")
    return root


def test_custom_template_renders_with_defaults(company_api):
    document, sources = templates.load_template_dir(str(company_api))
    files = templates.render(document, sources, "billing", {"service_name": "billing-api"})
    assert files == {"charts/templates/deployment.yaml": "name: billing-api\nmodule: billing\ndatabase: postgresql\n",
                     "charts/templates/service.yaml": "service: billing-api\n"}


def test_command_line_strings_get_the_declared_type(company_api):
    document, sources = templates.load_template_dir(str(company_api))
    files = templates.render(document, sources, "billing", {"service_name": "b", "database_required": "false"})
    assert "database" not in files["charts/templates/deployment.yaml"]


def test_variable_errors_name_the_variable(company_api):
    document, sources = templates.load_template_dir(str(company_api))
    with pytest.raises(TemplateError) as caught:
        templates.render(document, sources, "billing", {"database_required": "maybe", "colour": "red"})
    assert str(caught.value).split("; ") == [
        "variables.colour: not a variable of template company-api (it has: database_required, service_name)",
        "variables.service_name: is required by template company-api (Name of the API service)",
        "variables.database_required: must be a boolean (got 'maybe')"]


def test_undefined_name_in_a_file_is_an_error_with_file_and_line(company_api):
    (company_api / "templates" / "service.yaml").write_text("a: 1\nservice: {{ servce_name }}\n")
    document, sources = templates.load_template_dir(str(company_api))
    with pytest.raises(TemplateError, match=r"^spec.files\[1\].source \(templates/service.yaml\):.*'servce_name' "
                                            r"is undefined"):
        templates.render(document, sources, "billing", {"service_name": "b"})


def test_sandbox_keeps_templates_away_from_python(company_api):
    (company_api / "templates" / "service.yaml").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}\n")
    document, sources = templates.load_template_dir(str(company_api))
    with pytest.raises(TemplateError, match="unsafe"):
        templates.render(document, sources, "billing", {"service_name": "b"})


def test_rendered_target_cannot_leave_the_module(company_api):
    document, sources = templates.load_template_dir(str(company_api))
    document["spec"]["files"][0]["target"] = "{{ service_name }}/x.yaml"
    with pytest.raises(TemplateError, match=r"^spec.files\[0\].target: '../x.yaml' leaves the module directory$"):
        templates.render(document, sources, "billing", {"service_name": ".."})


def test_missing_source_file_and_invalid_template_are_reported(company_api):
    os.unlink(company_api / "templates" / "service.yaml")
    with pytest.raises(TemplateError, match=r"^spec.files\[1\].source: templates/service.yaml does not exist"):
        templates.load_template_dir(str(company_api))
    (company_api / "o8-module.yaml").write_text("apiVersion: orchestr8.io/v1\nkind: ModuleTemplate\n"
                                                "metadata: {name: x}\nspec: {files: []}\n")
    with pytest.raises(TemplateError, match=r"^spec.files: must not be empty$"):
        templates.load_template_dir(str(company_api))


def test_module_name_must_be_a_dns_label(company_api):
    document, sources = templates.load_template_dir(str(company_api))
    with pytest.raises(TemplateError, match=r"^name: 'Billing_API' must be a DNS label"):
        templates.render(document, sources, "Billing_API", {"service_name": "b"})


@pytest.mark.parametrize("name", sorted(builtin_templates.BUILTIN_TEMPLATES))
def test_builtin_template_is_a_valid_module_template(name):
    template = builtin_templates.BUILTIN_TEMPLATES[name]
    assert validation.validate_document(template["document"], "ModuleTemplate") == []
    assert set(template["files"]) == {f["source"] for f in template["document"]["spec"]["files"]}


@pytest.mark.parametrize("name", sorted(builtin_templates.BUILTIN_TEMPLATES))
def test_builtin_template_renders_a_valid_module(name, tmp_path):
    template = builtin_templates.BUILTIN_TEMPLATES[name]
    files = templates.render(template["document"], template["files"], "new-module", {"team": "data"})
    for relpath, text in files.items():
        (tmp_path / "new-module" / relpath).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "new-module" / relpath).write_text(text)
        list(yaml.safe_load_all(text))  # every file is YAML
    document, errors = validation.validate_module_dir(str(tmp_path / "new-module"))
    assert errors == []
    assert document["metadata"] == {"name": "new-module", "version": "0.1.0",
                                    "description": "A module created from a template"}
    assert document["spec"]["team"] == "data"


def test_builtin_variables_reach_the_files():
    template = builtin_templates.BUILTIN_TEMPLATES["frontend"]
    files = templates.render(template["document"], template["files"], "shop",
                             {"domain": "acme.io", "image_tag": "2.0", "port": "9090"})
    ingress = yaml.safe_load(files["base/ingress.yaml"])
    assert ingress["spec"]["rules"][0]["host"] == "shop.acme.io"
    module = yaml.safe_load(files["o8-module.yaml"])
    assert module["spec"]["networking"]["ports"] == [{"name": "http", "port": 9090, "protocol": "TCP"}]
    dev = yaml.safe_load(files["overlays/dev/kustomization.yaml"])
    assert dev["images"] == [{"name": "docker.io/nginxinc/nginx-unprivileged", "newTag": "2.0"}]
