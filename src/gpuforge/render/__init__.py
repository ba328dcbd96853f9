"""Spec + lock -> deployment folder: Terraform root modules and Ansible group_vars."""

from gpuforge.render._ansible import load_group_vars, render_group_vars
from gpuforge.render._boundary import (
    FOLDER_MODE,
    check_folder,
    folder_inside,
    inside,
    make_folder,
    no_link_below,
    read_inside,
    remove_inside,
    remove_tree_inside,
    replace_inside,
    write_inside,
)
from gpuforge.render._deployment import (
    GROUP_VARS_DIR,
    INVENTORY_FILE,
    MANIFEST,
    RenderResult,
    build_files,
    previous_roots,
    read_manifest,
    render_deployment,
    terraform_root_dir,
)
from gpuforge.render._hcl import Block, Expr, literal, quoted, render_file
from gpuforge.render._monitoring import ALERT_RULES_FILE, monitoring_files
from gpuforge.render._naming import all_targets, group_token, local_subnet, target_pools
from gpuforge.render._terraform import MODULE_FOR, local_profile, render_root

__all__ = [
    "ALERT_RULES_FILE",
    "FOLDER_MODE",
    "GROUP_VARS_DIR",
    "INVENTORY_FILE",
    "MANIFEST",
    "MODULE_FOR",
    "Block",
    "Expr",
    "RenderResult",
    "all_targets",
    "build_files",
    "check_folder",
    "folder_inside",
    "group_token",
    "inside",
    "literal",
    "load_group_vars",
    "local_profile",
    "local_subnet",
    "make_folder",
    "monitoring_files",
    "no_link_below",
    "previous_roots",
    "quoted",
    "read_inside",
    "read_manifest",
    "remove_inside",
    "remove_tree_inside",
    "render_deployment",
    "render_file",
    "render_group_vars",
    "render_root",
    "replace_inside",
    "target_pools",
    "terraform_root_dir",
    "write_inside",
]
